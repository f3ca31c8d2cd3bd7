// Reading a geofence policy file (JSON or YAML) into a PolicyConfig.
//
// Both formats end up in protobuf's JSON parser: YAML is converted to the
// equivalent JSON first, so unknown keys, wrong types and every later
// validation behave the same whichever format the operator picked.
#ifndef GEO_POLICY_POLICY_PARSER_H_
#define GEO_POLICY_POLICY_PARSER_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "geo/policy/policy_config.pb.h"

namespace geo::policy {

enum class PolicyFormat { kJson, kYaml };

// By extension (".json"; ".yaml", ".yml"), else by content: a document whose
// first non-blank character is '{' is JSON, anything else YAML.
PolicyFormat DetectPolicyFormat(absl::string_view path,
                                absl::string_view content);

// Source line (1-based) of each value in the file, keyed by field path as
// validation errors name it: "default_action", "deny.countries[2]".
using FieldLines = absl::flat_hash_map<std::string, int>;

struct ParsedPolicyConfig {
  PolicyConfig config;
  // Best effort: empty when the lines could not be determined.
  FieldLines lines;
};

// Parses `content`. INVALID_ARGUMENT for malformed JSON/YAML (with the line
// where the parser stopped), unknown keys and wrong value types. Does not
// check values (codes, CIDRs): Policy::Create does.
absl::StatusOr<ParsedPolicyConfig> ParsePolicyConfig(absl::string_view content,
                                                     PolicyFormat format);

// Reads and parses `path`; errors name the file. NOT_FOUND / PERMISSION_DENIED
// / INTERNAL for files that cannot be read.
absl::StatusOr<ParsedPolicyConfig> ReadPolicyConfigFile(
    const std::string& path);

}  // namespace geo::policy

#endif  // GEO_POLICY_POLICY_PARSER_H_
