#include "fleet/interpolation.h"

#include <gtest/gtest.h>

#include <map>

namespace vk::fleet {
namespace {

VariableLookup Vars() {
  static const std::map<std::string, std::string, std::less<>> vars = {
      {"NAME", "web"}, {"EMPTY", ""}, {"PORT", "8080"}, {"_U1", "u"}};
  return [](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(FleetInterpolationTest, ExpandsEveryForm) {
  struct Case {
    const char* text;
    const char* want;
  } cases[] = {
      {"plain", "plain"},
      {"$NAME", "web"},
      {"${NAME}", "web"},
      {"a-$NAME-b", "a-web-b"},
      {"$NAME.lan:$PORT", "web.lan:8080"},
      {"${_U1}x", "ux"},
      {"$UNSET", ""},
      {"${UNSET}", ""},
      {"${UNSET:-dflt}", "dflt"},
      {"${EMPTY:-dflt}", "dflt"},
      {"${EMPTY-dflt}", ""},
      {"${UNSET-dflt}", "dflt"},
      {"${NAME:-dflt}", "web"},
      {"${NAME:+set}", "set"},
      {"${EMPTY:+set}", ""},
      {"${EMPTY+set}", "set"},
      {"${UNSET+set}", ""},
      {"${NAME:?needed}", "web"},
      {"${EMPTY?needed}", ""},
      {"$$NAME", "$NAME"},
      {"$${NAME}", "${NAME}"},
      {"cost: $$5", "cost: $5"},
      {"${UNSET:-${NAME}-x}", "web-x"},
      {"${UNSET:-${ALSO_UNSET:-deep}}", "deep"},
      {"${UNSET:-a $$ b}", "a $ b"},
      {"${UNSET:-}", ""},
  };
  for (const Case& c : cases) {
    auto got = Interpolate(c.text, Vars());
    ASSERT_TRUE(got.ok()) << c.text << ": " << got.error().message();
    EXPECT_EQ(*got, c.want) << c.text;
  }
}

TEST(FleetInterpolationTest, RequiredAndInvalidFormsAreErrors) {
  struct Case {
    const char* text;
    const char* message;
  } cases[] = {
      {"${UNSET:?set UNSET first}", "required variable UNSET is missing a value: set UNSET first"},
      {"${EMPTY:?no}", "required variable EMPTY is missing a value: no"},
      {"${UNSET?}", "required variable UNSET is missing a value"},
      {"price $", "invalid interpolation format"},
      {"$1", "invalid interpolation format"},
      {"${NAME", "invalid interpolation format"},
      {"${}", "invalid interpolation format"},
      {"${1A}", "invalid interpolation format"},
      {"${NAME:}", "invalid interpolation format"},
      {"${NAME%x}", "invalid interpolation format"},
  };
  for (const Case& c : cases) {
    auto got = Interpolate(c.text, Vars());
    ASSERT_FALSE(got.ok()) << c.text << " gave " << *got;
    EXPECT_NE(got.error().message().find(c.message), std::string::npos) << got.error().message();
    EXPECT_EQ(got.error().kind(), ErrorKind::kUsage);
  }
}

TEST(FleetInterpolationTest, ReportsOnlyUnsetVariablesWithoutDefault) {
  std::vector<std::string> unset;
  ASSERT_TRUE(Interpolate("$A ${B} ${C:-x} ${D-y} ${E:+z} $NAME", Vars(), &unset).ok());
  EXPECT_EQ(unset, (std::vector<std::string>{"A", "B"}));
}

TEST(FleetInterpolationTest, EnvironmentWinsOverDotenv) {
  VariableLookup first = [](std::string_view name) -> std::optional<std::string> {
    if (name == "A") return "from-env";
    return std::nullopt;
  };
  VariableLookup lookup = LayeredLookup(first, {{"A", "dotenv"}, {"B", "1"}, {"B", "2"}});
  EXPECT_EQ(lookup("A"), "from-env");
  EXPECT_EQ(lookup("B"), "2");  // the last definition wins
  EXPECT_EQ(lookup("C"), std::nullopt);
}

}  // namespace
}  // namespace vk::fleet
