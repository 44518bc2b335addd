#include "gitlab/stage_env.h"

#include <nlohmann/json.hpp>

#include "base/file_io.h"
#include "base/strings.h"

extern char** environ;

namespace vk::gitlab {
namespace {

// GitLab's job JSON holds every variable and the steps; tens of MB would be
// absurd, so more is refused instead of read.
constexpr uint64_t kMaxJobResponseBytes = 64ull << 20;
// Ids are int64 in GitLab: 19 digits at most.
constexpr size_t kMaxIdDigits = 19;
constexpr std::string_view kNamePrefix = "gl-";

bool IsId(std::string_view text) {
  if (text.empty() || text.size() > kMaxIdDigits) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

Result<std::string> IdOf(const StageEnv& env, std::string_view name) {
  auto value = env.Job(name);
  if (!value) {
    return Error(ErrorKind::kUsage, "CUSTOM_ENV_" + std::string(name) +
                                        " is not set: run `vk gitlab` from "
                                        "gitlab-runner's custom executor");
  }
  if (!IsId(*value)) {
    return Error(ErrorKind::kUsage,
                 "CUSTOM_ENV_" + std::string(name) + " is not a numeric id: '" + *value + "'");
  }
  return *value;
}

// A JSON number (or a numeric string) as an id.
std::optional<std::string> JsonId(const nlohmann::json& value) {
  if (value.is_number_unsigned()) return std::to_string(value.get<uint64_t>());
  if (value.is_number_integer() && value.get<int64_t>() >= 0) {
    return std::to_string(value.get<int64_t>());
  }
  if (value.is_string() && IsId(value.get<std::string>())) return value.get<std::string>();
  return std::nullopt;
}

int CodeOr(const StageEnv& env, std::string_view name, int fallback) {
  auto text = env.Get(name);
  if (!text) return fallback;
  auto value = ParseUint(*text);
  return value && *value <= 255 ? static_cast<int>(*value) : fallback;
}

}  // namespace

StageEnv StageEnv::FromProcess() {
  std::map<std::string, std::string, std::less<>> vars;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    size_t equals = text.find('=');
    if (equals == std::string_view::npos) continue;
    vars.emplace(std::string(text.substr(0, equals)), std::string(text.substr(equals + 1)));
  }
  return StageEnv(std::move(vars));
}

std::optional<std::string> StageEnv::Get(std::string_view name) const {
  auto found = vars_.find(name);
  if (found == vars_.end()) return std::nullopt;
  return found->second;
}

std::optional<std::string> StageEnv::Job(std::string_view name) const {
  auto value = Get("CUSTOM_ENV_" + std::string(name));
  if (!value || value->empty()) return std::nullopt;
  return value;
}

FailureCodes FailureCodesOf(const StageEnv& env) {
  FailureCodes codes;
  codes.build = CodeOr(env, "BUILD_FAILURE_EXIT_CODE", codes.build);
  codes.system = CodeOr(env, "SYSTEM_FAILURE_EXIT_CODE", codes.system);
  return codes;
}

Result<JobResponse> ParseJobResponse(std::string_view json) {
  auto parsed = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return Error(ErrorKind::kUsage, "the job response is not a JSON object");
  }
  JobResponse response;
  auto id = parsed.find("id");
  auto job_id = id == parsed.end() ? std::nullopt : JsonId(*id);
  if (!job_id) return Error(ErrorKind::kUsage, "the job response has no numeric id");
  response.job_id = *job_id;
  auto info = parsed.find("job_info");
  if (info != parsed.end() && info->is_object()) {
    auto project = info->find("project_id");
    if (project != info->end()) response.project_id = JsonId(*project).value_or("");
  }
  return response;
}

Result<JobIdentity> IdentifyJob(const StageEnv& env) {
  JobIdentity job;
  job.runner_id = VK_TRY(IdOf(env, "CI_RUNNER_ID"));
  job.concurrent_id = VK_TRY(IdOf(env, "CI_CONCURRENT_PROJECT_ID"));
  auto file = env.Get("JOB_RESPONSE_FILE");
  if (!file || file->empty()) {
    job.job_id = VK_TRY(IdOf(env, "CI_JOB_ID"));
    job.project_id = VK_TRY(IdOf(env, "CI_PROJECT_ID"));
    return job;
  }
  auto bytes = VK_TRY_CTX(ReadFileBytes(*file, kMaxJobResponseBytes), "read JOB_RESPONSE_FILE");
  JobResponse response = VK_TRY_CTX(
      ParseJobResponse(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size())),
      *file);
  job.job_id = response.job_id;
  job.project_id =
      response.project_id.empty() ? VK_TRY(IdOf(env, "CI_PROJECT_ID")) : response.project_id;
  return job;
}

std::string JobVmName(const JobIdentity& job) {
  return std::string(kNamePrefix) + job.runner_id + "-" + job.concurrent_id + "-" + job.job_id;
}

bool IsJobVmName(std::string_view name) {
  if (!name.starts_with(kNamePrefix)) return false;
  std::vector<std::string> parts = Split(name.substr(kNamePrefix.size()), '-');
  if (parts.size() != 3) return false;
  for (const std::string& part : parts) {
    if (!IsId(part)) return false;
  }
  return true;
}

}  // namespace vk::gitlab
