#include "fleet/start_order.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

namespace vk::fleet {
namespace {

using Names = std::vector<std::string>;

Dependency On(std::string service, DependCondition condition = DependCondition::kStarted,
              bool required = true) {
  Dependency d;
  d.service = std::move(service);
  d.condition = condition;
  d.required = required;
  return d;
}

ServiceSpec Service(std::string name, std::vector<Dependency> deps = {}) {
  ServiceSpec s;
  s.name = std::move(name);
  s.image = "alpine";
  s.depends_on = std::move(deps);
  return s;
}

FleetSpec Fleet(std::vector<ServiceSpec> services) {
  FleetSpec spec;
  spec.name = "test";
  std::sort(services.begin(), services.end(),
            [](const ServiceSpec& a, const ServiceSpec& b) { return a.name < b.name; });
  spec.services = std::move(services);
  return spec;
}

// web -> {api, cache} -> db: the names are chosen so that plain name order
// would be wrong.
FleetSpec Diamond() {
  return Fleet({Service("a-web", {On("b-api"), On("c-cache")}), Service("b-api", {On("z-db")}),
                Service("c-cache", {On("z-db")}), Service("z-db")});
}

TEST(FleetStartOrderTest, DiamondPutsDependenciesFirstAndBreaksTiesByName) {
  EXPECT_EQ(StartOrder(Diamond(), {}), (Names{"z-db", "b-api", "c-cache", "a-web"}));
}

TEST(FleetStartOrderTest, Chain) {
  FleetSpec spec = Fleet({Service("a", {On("b")}), Service("b", {On("c")}), Service("c")});
  EXPECT_EQ(StartOrder(spec, {}), (Names{"c", "b", "a"}));
  EXPECT_EQ(StopOrder(spec, {"a", "b", "c"}), (Names{"a", "b", "c"}));
}

TEST(FleetStartOrderTest, IndependentServicesInNameOrder) {
  FleetSpec spec = Fleet({Service("c"), Service("a"), Service("b")});
  EXPECT_EQ(StartOrder(spec, {}), (Names{"a", "b", "c"}));
}

TEST(FleetStartOrderTest, WantedSubsetPullsItsDependenciesOnly) {
  EXPECT_EQ(StartOrder(Diamond(), {"b-api"}), (Names{"z-db", "b-api"}));
  EXPECT_EQ(StartOrder(Diamond(), {"z-db"}), (Names{"z-db"}));
  EXPECT_EQ(StartOrder(Diamond(), {"c-cache", "b-api"}), (Names{"z-db", "b-api", "c-cache"}));
}

TEST(FleetStartOrderTest, AutostartFalseOnlyWhenWantedOrNeeded) {
  FleetSpec spec = Fleet({Service("app", {On("db")}), Service("db"), Service("tool")});
  spec.services[1].autostart = false;                     // db
  spec.services[2].autostart = false;                     // tool
  EXPECT_EQ(StartOrder(spec, {}), (Names{"db", "app"}));  // db pulled in as a dependency
  EXPECT_EQ(StartOrder(spec, {"tool"}), (Names{"tool"}));
}

TEST(FleetStartOrderTest, MissingNonRequiredDependencyIsSkipped) {
  FleetSpec spec =
      Fleet({Service("app", {On("metrics", DependCondition::kStarted, /*required=*/false),
                             On("db", DependCondition::kStarted, /*required=*/false)}),
             Service("db")});
  EXPECT_EQ(StartOrder(spec, {"app"}), (Names{"db", "app"}));
}

TEST(FleetStartOrderTest, UnknownWantedNamesAreLeftOut) {
  EXPECT_EQ(StartOrder(Diamond(), {"nope", "z-db"}), (Names{"z-db"}));
}

TEST(FleetStopOrderTest, DependentsStopFirst) {
  EXPECT_EQ(StopOrder(Diamond(), {"z-db", "a-web", "c-cache", "b-api"}),
            (Names{"a-web", "c-cache", "b-api", "z-db"}));
}

TEST(FleetStopOrderTest, OrderHoldsThroughServicesNotStopped) {
  FleetSpec spec = Fleet({Service("a", {On("m")}), Service("m", {On("z")}), Service("z")});
  EXPECT_EQ(StopOrder(spec, {"z", "a"}), (Names{"a", "z"}));
}

// CheckDependencies ---------------------------------------------------------

class FleetOrderReadinessTest : public ::testing::Test {
 protected:
  Readiness Check(const ServiceSpec& service) {
    return CheckDependencies(service, [this](const std::string& name) -> std::optional<UnitView> {
      auto it = units_.find(name);
      if (it == units_.end()) return std::nullopt;
      return it->second;
    });
  }

  static UnitView Running(UnitHealth health = UnitHealth::kNone) {
    return {UnitPhase::kRunning, health, std::nullopt};
  }
  static UnitView Exited(std::optional<int> code) {
    return {UnitPhase::kExited, UnitHealth::kNone, code};
  }

  std::map<std::string, UnitView> units_;
};

void ExpectVerdict(const Readiness& r, Readiness::Verdict verdict, const std::string& reason) {
  EXPECT_EQ(r.verdict, verdict) << r.reason;
  EXPECT_EQ(r.reason, reason);
}

constexpr auto kReady = Readiness::Verdict::kReady;
constexpr auto kWait = Readiness::Verdict::kWait;
constexpr auto kFailed = Readiness::Verdict::kFailed;

TEST_F(FleetOrderReadinessTest, NoDependenciesIsReady) {
  ExpectVerdict(Check(Service("app")), kReady, "");
}

TEST_F(FleetOrderReadinessTest, ServiceStarted) {
  ServiceSpec app = Service("app", {On("db")});
  units_["db"] = {};
  ExpectVerdict(Check(app), kWait, "waiting for db to start");
  units_["db"].phase = UnitPhase::kStarting;
  ExpectVerdict(Check(app), kWait, "waiting for db to start");
  units_["db"] = Running();
  ExpectVerdict(Check(app), kReady, "");
  units_["db"] = Exited(1);  // it did start; compose does not hold dependents back then
  ExpectVerdict(Check(app), kReady, "");
}

TEST_F(FleetOrderReadinessTest, ServiceHealthy) {
  ServiceSpec app = Service("app", {On("db", DependCondition::kHealthy)});
  units_["db"] = {UnitPhase::kStarting, UnitHealth::kNone, std::nullopt};
  ExpectVerdict(Check(app), kWait, "waiting for db to be healthy");
  units_["db"] = Running(UnitHealth::kStarting);
  ExpectVerdict(Check(app), kWait, "waiting for db to be healthy");
  units_["db"] = Running(UnitHealth::kHealthy);
  ExpectVerdict(Check(app), kReady, "");
  units_["db"] = Running(UnitHealth::kUnhealthy);
  ExpectVerdict(Check(app), kFailed, "dependency db is unhealthy");
  units_["db"] = Running(UnitHealth::kNone);
  ExpectVerdict(Check(app), kFailed, "dependency db has no healthcheck");
  units_["db"] = Exited(1);
  ExpectVerdict(Check(app), kFailed, "dependency db exited with 1");
}

TEST_F(FleetOrderReadinessTest, ServiceCompletedSuccessfully) {
  ServiceSpec app = Service("app", {On("migrate", DependCondition::kCompletedSuccessfully)});
  units_["migrate"] = Running();
  ExpectVerdict(Check(app), kWait, "waiting for migrate to complete");
  units_["migrate"] = Exited(0);
  ExpectVerdict(Check(app), kReady, "");
  units_["migrate"] = Exited(2);
  ExpectVerdict(Check(app), kFailed, "dependency migrate exited with 2");
  units_["migrate"] = Exited(std::nullopt);
  ExpectVerdict(Check(app), kFailed, "dependency migrate stopped without an exit code");
}

TEST_F(FleetOrderReadinessTest, FailureBeatsWaitAndFirstWaitIsReported) {
  ServiceSpec app =
      Service("app", {On("a"), On("b"), On("c", DependCondition::kCompletedSuccessfully)});
  units_["a"] = {};
  units_["b"] = {};
  units_["c"] = Running();
  ExpectVerdict(Check(app), kWait, "waiting for a to start");
  units_["c"] = Exited(3);
  ExpectVerdict(Check(app), kFailed, "dependency c exited with 3");
}

TEST_F(FleetOrderReadinessTest, NonRequiredDependencies) {
  ServiceSpec app = Service("app", {On("metrics", DependCondition::kHealthy, false),
                                    On("cache", DependCondition::kHealthy, false)});
  // metrics is missing: skipped. cache is optional but present: waited for...
  units_["cache"] = Running(UnitHealth::kStarting);
  ExpectVerdict(Check(app), kWait, "waiting for cache to be healthy");
  // ...and skipped once it fails, as compose does with a warning.
  units_["cache"] = Running(UnitHealth::kUnhealthy);
  ExpectVerdict(Check(app), kReady, "");
}

TEST_F(FleetOrderReadinessTest, MissingRequiredDependencyFails) {
  ExpectVerdict(Check(Service("app", {On("db")})), kFailed, "dependency db is not in the fleet");
}

}  // namespace
}  // namespace vk::fleet
