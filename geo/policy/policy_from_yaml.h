// Policies built from YAML text in one step, for tests.
#ifndef GEO_POLICY_POLICY_FROM_YAML_H_
#define GEO_POLICY_POLICY_FROM_YAML_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "geo/policy/policy.h"
#include "geo/policy/policy_parser.h"
#include "gtest/gtest.h"

namespace geo::policy {

// The policy `yaml` describes; a failure of the calling test, and nullptr,
// when it does not parse or is refused.
inline std::shared_ptr<const Policy> PolicyFromYaml(const std::string& yaml) {
  auto parsed = ParsePolicyConfig(yaml, PolicyFormat::kYaml);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  if (!parsed.ok()) return nullptr;
  auto policy = Policy::Create(parsed->config, parsed->lines);
  EXPECT_TRUE(policy.ok()) << policy.status();
  return policy.ok() ? *policy : nullptr;
}

// Why `yaml` is refused (by the parser or by Policy::Create); OK when it is
// a valid policy.
inline absl::Status ErrorFromYaml(const std::string& yaml) {
  auto parsed = ParsePolicyConfig(yaml, PolicyFormat::kYaml);
  if (!parsed.ok()) return parsed.status();
  return Policy::Create(parsed->config, parsed->lines).status();
}

}  // namespace geo::policy

#endif  // GEO_POLICY_POLICY_FROM_YAML_H_
