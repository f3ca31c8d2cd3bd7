// Reading a geofence policy file (JSON or YAML) into a PolicyConfig.
//
// Both formats end up in protobuf's JSON parser: YAML is converted to the
// equivalent JSON first, so unknown keys, wrong types and every later
// validation behave the same whichever format the operator picked.
#ifndef GEO_POLICY_POLICY_PARSER_H_
#define GEO_POLICY_POLICY_PARSER_H_

#include <string>
#include <vector>

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

// Collects validation errors, each naming its field path and, when `lines`
// knows it, its line; ToStatus reports all of them at once.
class PolicyErrors {
 public:
  // `prefix` is put before every field ("policies.eu." for a named policy).
  // `lines` must outlive this object.
  explicit PolicyErrors(const FieldLines& lines, absl::string_view prefix = "")
      : lines_(lines), prefix_(prefix) {}

  void Add(const std::string& field, absl::string_view message);
  // Takes over the errors of another validation's ToStatus().
  void AddStatus(const absl::Status& status);
  // INVALID_ARGUMENT "invalid policy: ERROR; ERROR..." or OK.
  absl::Status ToStatus() const;

 private:
  const FieldLines& lines_;
  const std::string prefix_;
  std::vector<std::string> errors_;
};

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

struct ParsedPolicyFile {
  PolicyFile file;
  // Keyed by field path as in the file ("policies.eu.deny.countries[0]"); a
  // single-policy file's paths are as written ("deny.countries[0]").
  FieldLines lines;
  // True when the file was a single PolicyConfig, now the only policy
  // (named "default") of `file`.
  bool single_policy = false;
};

// Parses either form of a policy file: several named policies and routes
// (PolicyFile), or one policy (PolicyConfig), told apart by the top-level
// keys `policies`, `routes` and `default_policy`. Errors as for
// ParsePolicyConfig.
absl::StatusOr<ParsedPolicyFile> ParsePolicyFile(absl::string_view content,
                                                 PolicyFormat format);

// The most a policy file may hold, read or expanded: a YAML alias expands to a
// copy of what it names, so a small file could otherwise describe gigabytes.
inline constexpr size_t kMaxPolicyBytes = 4 << 20;

// Reads and parses `path` (either form); errors name the file. NOT_FOUND /
// PERMISSION_DENIED / INTERNAL for files that cannot be read,
// INVALID_ARGUMENT for one larger than kMaxPolicyBytes.
absl::StatusOr<ParsedPolicyFile> ReadPolicyFile(const std::string& path);

}  // namespace geo::policy

#endif  // GEO_POLICY_POLICY_PARSER_H_
