// The geofence policy file parser (JSON and YAML, single policy or named
// policies and routes) and validation, then one routing decision. The first
// byte picks the format. Oracle: every failure is INVALID_ARGUMENT (the
// server reports it and keeps the old policy), never a crash, a hang or
// another code.
#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "geo/policy/policy.h"
#include "geo/policy/policy_parser.h"
#include "geo/policy/policy_set.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const geo::policy::PolicyFormat format =
      (data[0] & 1) != 0 ? geo::policy::PolicyFormat::kYaml
                         : geo::policy::PolicyFormat::kJson;
  const absl::string_view content(reinterpret_cast<const char*>(data + 1),
                                  size - 1);
  absl::StatusOr<geo::policy::ParsedPolicyFile> parsed =
      geo::policy::ParsePolicyFile(content, format);
  if (!parsed.ok()) {
    FUZZ_CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument,
               parsed.status().ToString());
    return 0;
  }
  auto policies = geo::policy::PolicySet::Create(parsed->file, parsed->lines,
                                                 parsed->single_policy);
  if (!policies.ok()) {
    FUZZ_CHECK(policies.status().code() == absl::StatusCode::kInvalidArgument,
               policies.status().ToString());
    return 0;
  }
  // Routing never fails: some policy is always selected.
  const geo::policy::Policy& selected =
      (*policies)->Select({"a.example.com:443", "/admin/x?y", "POST"});
  FUZZ_CHECK(!selected.name().empty(), "a policy without a name");
  return 0;
}
