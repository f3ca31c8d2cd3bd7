#include "geo/server/policy_data.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "geo/common/logging.h"

namespace geo {
namespace {

bool AnyTypeContains(
    const std::vector<std::shared_ptr<const Database>>& databases,
    std::initializer_list<absl::string_view> parts) {
  for (const std::shared_ptr<const Database>& database : databases) {
    for (absl::string_view part : parts) {
      if (absl::StrContains(database->type(), part)) return true;
    }
  }
  return false;
}

}  // namespace

std::vector<std::string> MissingPolicyData(
    const policy::PolicySet& policies,
    const std::vector<std::shared_ptr<const Database>>& databases) {
  std::vector<std::string> anonymizer_users;
  std::vector<std::string> connection_type_users;
  for (const std::shared_ptr<const policy::Policy>& policy :
       policies.policies()) {
    if (policy->uses_anonymizers()) anonymizer_users.push_back(policy->name());
    if (policy->uses_connection_types()) {
      connection_type_users.push_back(policy->name());
    }
  }
  std::vector<std::string> warnings;
  if (!anonymizer_users.empty() &&
      !AnyTypeContains(databases, {"Anonymous-IP"})) {
    warnings.push_back(absl::StrCat(
        "anonymizers rules of policy ", absl::StrJoin(anonymizer_users, ", "),
        " never match: no GeoIP2-Anonymous-IP database is loaded"));
  }
  if (!connection_type_users.empty() &&
      !AnyTypeContains(databases, {"Connection-Type", "Enterprise"})) {
    warnings.push_back(absl::StrCat(
        "connection_types rules of policy ",
        absl::StrJoin(connection_type_users, ", "),
        " never match: no GeoIP2-Connection-Type or GeoIP2-Enterprise "
        "database is loaded"));
  }
  return warnings;
}

void WarnAboutMissingPolicyData(
    const std::string& path, const policy::PolicySet& policies,
    const std::vector<std::shared_ptr<const Database>>& databases) {
  for (const std::string& warning : MissingPolicyData(policies, databases)) {
    Log(LogLevel::kWarn, "Policy condition has no data",
        {{"path", path}, {"warning", warning}});
  }
}

}  // namespace geo
