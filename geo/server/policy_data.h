// Whether the loaded databases provide the data a policy's conditions need.
#ifndef GEO_SERVER_POLICY_DATA_H_
#define GEO_SERVER_POLICY_DATA_H_

#include <memory>
#include <string>
#include <vector>

#include "geo/data/database.h"
#include "geo/policy/policy_set.h"

namespace geo {

// One warning per kind of condition that some policy of `policies` uses and
// no database of `databases` can satisfy (anonymizers need a GeoIP2
// Anonymous IP database, connection types a GeoIP2 Connection Type or
// Enterprise one), naming the policies and the database types that would
// provide it. Such a condition never matches, so the address falls through
// to the next step of the policy; it is a warning rather than an error
// because the database may be added later without touching the policy.
std::vector<std::string> MissingPolicyData(
    const policy::PolicySet& policies,
    const std::vector<std::shared_ptr<const Database>>& databases);

// Logs each of MissingPolicyData's warnings ("Policy condition has no
// data", level warning, with the policy file's `path`).
void WarnAboutMissingPolicyData(
    const std::string& path, const policy::PolicySet& policies,
    const std::vector<std::shared_ptr<const Database>>& databases);

}  // namespace geo

#endif  // GEO_SERVER_POLICY_DATA_H_
