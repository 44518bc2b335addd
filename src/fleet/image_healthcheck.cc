#include "fleet/image_healthcheck.h"

#include <algorithm>

#include "image/pull.h"

namespace vk::fleet {
namespace {

using std::chrono::nanoseconds;

// The image's test in the file's terms; nullopt: the image runs no check.
std::optional<Healthcheck> ImageTest(const build::HealthConfig& image) {
  const std::vector<std::string>& test = image.test;
  if (test.size() < 2) return std::nullopt;  // empty, NONE, or a kind without a command
  Healthcheck check;
  if (test[0] == "CMD") {
    check.kind = HealthTestKind::kCmd;
  } else if (test[0] == "CMD-SHELL") {
    check.kind = HealthTestKind::kCmdShell;
  } else {
    return std::nullopt;
  }
  check.test.assign(test.begin() + 1, test.end());
  return check;
}

// The longest timing kept. An image's config comes from a registry and its
// durations reach ~292 years; the tracker and the exec watchdog add them to
// the clock's now, which such a value would overflow. A year is "never" for
// a health check and far from that edge.
constexpr nanoseconds kMaxTiming = std::chrono::hours(24 * 365);

// A timing's value: the file's, else the image's, else docker's default.
// Zero and below are unset (docker: "0 means inherit").
nanoseconds Timing(nanoseconds file, int64_t image_ns, nanoseconds fallback) {
  if (file.count() > 0) return std::min(file, kMaxTiming);
  if (image_ns > 0) return std::min(nanoseconds(image_ns), kMaxTiming);
  return fallback;
}

}  // namespace

bool InheritsFromImage(const std::optional<Healthcheck>& service) {
  if (!service) return true;
  if (service->kind == HealthTestKind::kNone) return false;
  return service->test.empty() || service->interval.count() <= 0 || service->timeout.count() <= 0 ||
         service->start_period.count() <= 0 || service->start_interval.count() <= 0 ||
         service->retries <= 0;
}

std::optional<Healthcheck> EffectiveHealthcheck(const std::optional<Healthcheck>& service,
                                                const std::optional<build::HealthConfig>& image) {
  if (service && service->kind == HealthTestKind::kNone) return std::nullopt;
  Healthcheck check = service.value_or(Healthcheck{});
  std::optional<Healthcheck> image_test = image ? ImageTest(*image) : std::nullopt;
  if (check.test.empty()) {
    if (!image_test) return std::nullopt;
    check.kind = image_test->kind;
    check.test = image_test->test;
  }
  const build::HealthConfig timings = image.value_or(build::HealthConfig{});
  check.interval = Timing(check.interval, timings.interval_ns, kDefaultHealthInterval);
  check.timeout = Timing(check.timeout, timings.timeout_ns, kDefaultHealthTimeout);
  check.start_period = Timing(check.start_period, timings.start_period_ns, nanoseconds(0));
  check.start_interval =
      Timing(check.start_interval, timings.start_interval_ns, kDefaultHealthStartInterval);
  if (check.retries <= 0)
    check.retries = timings.retries > 0 ? timings.retries : kDefaultHealthRetries;
  return check;
}

Result<std::optional<build::HealthConfig>> ReadImageHealthcheck(image::Store& store,
                                                                std::string_view image) {
  image::PullOptions options;
  options.progress = Progress::Style::kQuiet;
  image::ImageRecord record =
      VK_TRY(image::ResolveImage(store, image, image::PullPolicy::kNever, options));
  std::string json = VK_TRY(store.ReadBlob(record.config_digest, build::kMaxBuildConfigBytes));
  build::BuildConfig config =
      VK_TRY(build::ParseBuildConfig(json).Context("image " + std::string(image)));
  return config.healthcheck;
}

Result<std::optional<build::HealthConfig>> ReadImageHealthcheck(std::string_view image) {
  image::Store store = VK_TRY(image::Store::Open(VK_TRY(image::Store::DefaultRoot())));
  return ReadImageHealthcheck(store, image);
}

}  // namespace vk::fleet
