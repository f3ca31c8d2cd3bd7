#include "geo/server/policy_data.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "geo/policy/policy_parser.h"
#include "geo/policy/policy_set.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/test_files.h"

namespace geo {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::shared_ptr<const policy::PolicySet> Policies(const std::string& yaml) {
  auto parsed = policy::ParsePolicyFile(yaml, policy::PolicyFormat::kYaml);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  auto set = policy::PolicySet::Create(parsed->file, parsed->lines,
                                       parsed->single_policy);
  EXPECT_TRUE(set.ok()) << set.status();
  return *set;
}

std::shared_ptr<const Database> Open(const std::string& name) {
  auto database =
      Database::Open(testing::MaxmindTestDataFile(absl::StrCat(name, ".mmdb")));
  EXPECT_TRUE(database.ok()) << database.status();
  return *database;
}

TEST(PolicyDataTest, WarnsOnlyForConditionsWithoutTheirDatabase) {
  const auto policies = Policies(R"(
policies:
  default: {default_action: allow, deny: {anonymizers: [tor_exit_node]}}
  mobile: {default_action: deny, allow: {connection_types: [Cellular]}}
)");
  const auto city = Open("GeoIP2-City-Test");
  const std::vector<std::string> warnings =
      MissingPolicyData(*policies, {city});
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_THAT(warnings[0], HasSubstr("anonymizers rules of policy default"));
  EXPECT_THAT(warnings[0], HasSubstr("GeoIP2-Anonymous-IP"));
  EXPECT_THAT(warnings[1],
              HasSubstr("connection_types rules of policy mobile"));
  EXPECT_THAT(
      MissingPolicyData(*policies, {city, Open("GeoIP2-Anonymous-IP-Test"),
                                    Open("GeoIP2-Enterprise-Test")}),
      IsEmpty());
  EXPECT_THAT(
      MissingPolicyData(*policies, {Open("GeoIP2-Connection-Type-Test")}),
      ElementsAre(HasSubstr("anonymizers")));
  EXPECT_THAT(
      MissingPolicyData(
          *Policies("default_action: allow\ndeny: {countries: [KP]}\n"), {}),
      IsEmpty());
}

}  // namespace
}  // namespace geo
