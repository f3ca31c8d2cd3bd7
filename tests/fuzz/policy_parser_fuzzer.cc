// The geofence policy file parser (JSON and YAML) and validation. The first
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
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const geo::policy::PolicyFormat format =
      (data[0] & 1) != 0 ? geo::policy::PolicyFormat::kYaml
                         : geo::policy::PolicyFormat::kJson;
  const absl::string_view content(reinterpret_cast<const char*>(data + 1),
                                  size - 1);
  absl::StatusOr<geo::policy::ParsedPolicyConfig> parsed =
      geo::policy::ParsePolicyConfig(content, format);
  if (!parsed.ok()) {
    FUZZ_CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument,
               parsed.status().ToString());
    return 0;
  }
  auto policy = geo::policy::Policy::Create(parsed->config, parsed->lines);
  if (!policy.ok()) {
    FUZZ_CHECK(policy.status().code() == absl::StatusCode::kInvalidArgument,
               policy.status().ToString());
  }
  return 0;
}
