#include "geo/policy/policy_parser.h"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "geo/common/logging.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "yaml-cpp/yaml.h"

namespace geo::policy {
namespace {

// "defaultAction" -> "default_action", so that paths name fields the same
// whichever JSON spelling the file used.
std::string SnakeCase(absl::string_view key) {
  std::string snake;
  for (const char c : key) {
    if (absl::ascii_isupper(static_cast<unsigned char>(c))) {
      snake.push_back('_');
      snake.push_back(absl::ascii_tolower(static_cast<unsigned char>(c)));
    } else {
      snake.push_back(c);
    }
  }
  return snake;
}

int LineOf(const YAML::Node& node) { return node.Mark().line + 1; }

// YAML aliases make the node graph a DAG or even a cycle ("&a [*a]"), and
// both walkers below recurse: without bounds a self-referencing alias
// overflowed the stack and a "billion laughs" document expanded without end
// (found by //tests/fuzz:policy_parser_fuzzer). A policy is a few
// levels deep and its lists are operator-sized, so these bounds cost nothing.
constexpr int kMaxYamlDepth = 32;
constexpr int64_t kMaxYamlNodes = 100000;

// Records the line of every value under `node`, keyed by field path. Best
// effort: stops quietly at the bounds above (YamlToJson reports them).
void CollectLines(const YAML::Node& node, const std::string& path,
                  FieldLines* lines, int depth, int64_t* budget) {
  if (depth > kMaxYamlDepth || --*budget < 0) return;
  if (!path.empty() && node.Mark().line >= 0) {
    lines->emplace(path, LineOf(node));
  }
  if (node.IsMap()) {
    for (const auto& entry : node) {
      const std::string key = SnakeCase(entry.first.Scalar());
      const std::string child =
          path.empty() ? key : absl::StrCat(path, ".", key);
      lines->emplace(child, LineOf(entry.first));
      CollectLines(entry.second, child, lines, depth + 1, budget);
    }
  } else if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i) {
      CollectLines(node[i], absl::StrCat(path, "[", i, "]"), lines, depth + 1,
                   budget);
    }
  }
}

// The JSON equivalent of a YAML tree. Scalars become JSON strings: protobuf's
// JSON parser accepts quoted numbers for integer fields, and keeping the text
// avoids YAML 1.1's surprises (Norway's "NO" is not false here).
absl::Status YamlToJson(const YAML::Node& node, std::string* json, int depth,
                        int64_t* budget) {
  if (depth > kMaxYamlDepth) {
    return absl::InvalidArgumentError(
        absl::StrCat("line ", LineOf(node), ": nested deeper than ",
                     kMaxYamlDepth, " levels (a recursive alias?)"));
  }
  if (--*budget < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "more than ", kMaxYamlNodes, " values once aliases are expanded"));
  }
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      json->append("null");
      return absl::OkStatus();
    case YAML::NodeType::Scalar:
      json->append(JsonQuote(node.Scalar()));
      if (json->size() > kMaxPolicyBytes) {
        return absl::InvalidArgumentError(absl::StrCat(
            "more than ", kMaxPolicyBytes, " bytes once aliases are expanded"));
      }
      return absl::OkStatus();
    case YAML::NodeType::Sequence: {
      json->push_back('[');
      bool first = true;
      for (const auto& element : node) {
        if (!first) json->push_back(',');
        first = false;
        const absl::Status status =
            YamlToJson(element, json, depth + 1, budget);
        if (!status.ok()) return status;
      }
      json->push_back(']');
      return absl::OkStatus();
    }
    case YAML::NodeType::Map: {
      json->push_back('{');
      bool first = true;
      for (const auto& entry : node) {
        if (!entry.first.IsScalar()) {
          return absl::InvalidArgumentError(absl::StrCat(
              "line ", LineOf(entry.first), ": keys must be plain names"));
        }
        if (!first) json->push_back(',');
        first = false;
        json->append(JsonQuote(entry.first.Scalar()));
        json->push_back(':');
        const absl::Status status =
            YamlToJson(entry.second, json, depth + 1, budget);
        if (!status.ok()) return status;
      }
      json->push_back('}');
      return absl::OkStatus();
    }
  }
  return absl::InvalidArgumentError("unsupported YAML node");
}

// Lines of the values in `content`, when yaml-cpp can read it (JSON is YAML
// too, almost always).
FieldLines LinesOf(absl::string_view content) {
  FieldLines lines;
  try {
    int64_t budget = kMaxYamlNodes;
    CollectLines(YAML::Load(std::string(content)), "", &lines, 0, &budget);
  } catch (const YAML::Exception&) {
    lines.clear();
  }
  return lines;
}

// protobuf names the offending field at the start of its message, after its
// parent when nested ("(deny) colour: Cannot find field."); add the line when
// it is known.
std::string WithLine(absl::string_view message, const FieldLines& lines) {
  absl::string_view rest = message;
  std::string suffix;
  if (absl::StartsWith(rest, "(")) {
    const size_t close = rest.find(") ");
    if (close == absl::string_view::npos) return std::string(message);
    suffix = absl::StrCat(SnakeCase(rest.substr(1, close - 1)), ".");
    rest.remove_prefix(close + 2);
  }
  const size_t colon = rest.find(':');
  if (colon == absl::string_view::npos) return std::string(message);
  absl::StrAppend(&suffix, SnakeCase(rest.substr(0, colon)));
  int best_line = 0;
  for (const auto& [path, line] : lines) {
    if (path == suffix || absl::EndsWith(path, absl::StrCat(".", suffix))) {
      if (best_line == 0 || line < best_line) best_line = line;
    }
  }
  if (best_line == 0) return std::string(message);
  return absl::StrCat(message, " (line ", best_line, ")");
}

template <typename Message>
absl::StatusOr<Message> JsonToMessage(const std::string& json,
                                      const FieldLines& lines) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  Message message;
  const auto status =
      google::protobuf::util::JsonStringToMessage(json, &message, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        WithLine(std::string(status.message()), lines));
  }
  return message;
}

}  // namespace

void PolicyErrors::Add(const std::string& field, absl::string_view message) {
  const std::string path = absl::StrCat(prefix_, field);
  const auto line = lines_.find(path);
  if (line == lines_.end()) {
    errors_.push_back(absl::StrCat(path, ": ", message));
  } else {
    errors_.push_back(
        absl::StrCat(path, " (line ", line->second, "): ", message));
  }
}

void PolicyErrors::AddStatus(const absl::Status& status) {
  errors_.push_back(
      std::string(absl::StripPrefix(status.message(), "invalid policy: ")));
}

absl::Status PolicyErrors::ToStatus() const {
  if (errors_.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("invalid policy: ", absl::StrJoin(errors_, "; ")));
}

PolicyFormat DetectPolicyFormat(absl::string_view path,
                                absl::string_view content) {
  const std::string lower_path = absl::AsciiStrToLower(path);
  if (absl::EndsWith(lower_path, ".json")) return PolicyFormat::kJson;
  if (absl::EndsWith(lower_path, ".yaml") ||
      absl::EndsWith(lower_path, ".yml")) {
    return PolicyFormat::kYaml;
  }
  const size_t first = content.find_first_not_of(" \t\r\n");
  if (first != absl::string_view::npos && content[first] == '{') {
    return PolicyFormat::kJson;
  }
  return PolicyFormat::kYaml;
}

namespace {

// The file as JSON (YAML converted), and whether its top level names the
// keys of the several-policies form.
struct PolicyJson {
  std::string json;
  bool several_policies = false;
};

bool IsPolicyFileKey(absl::string_view key) {
  return key == "policies" || key == "routes" || key == "default_policy" ||
         key == "defaultPolicy";
}

absl::StatusOr<PolicyJson> ToPolicyJson(absl::string_view content,
                                        PolicyFormat format) {
  if (content.size() > kMaxPolicyBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "larger than ", kMaxPolicyBytes, " bytes (", content.size(), ")"));
  }
  PolicyJson result;
  std::string& json = result.json;
  if (format == PolicyFormat::kJson) {
    json = std::string(content);
    google::protobuf::Struct top_level;
    if (google::protobuf::util::JsonStringToMessage(json, &top_level).ok()) {
      for (const auto& [key, value] : top_level.fields()) {
        if (IsPolicyFileKey(key)) result.several_policies = true;
      }
    }
  } else {
    YAML::Node root;
    try {
      root = YAML::Load(std::string(content));
    } catch (const YAML::Exception& exception) {
      return absl::InvalidArgumentError(absl::StrCat(
          "malformed YAML at line ", exception.mark.line + 1, ", column ",
          exception.mark.column + 1, ": ", exception.msg));
    }
    if (root.IsNull()) {
      json = "{}";
    } else if (!root.IsMap()) {
      return absl::InvalidArgumentError(
          "a policy must be a mapping of settings (default_action, allow, "
          "deny, ...)");
    } else {
      int64_t budget = kMaxYamlNodes;
      const absl::Status status = YamlToJson(root, &json, 0, &budget);
      if (!status.ok()) return status;
      for (const auto& entry : root) {
        if (IsPolicyFileKey(entry.first.Scalar())) {
          result.several_policies = true;
        }
      }
    }
  }
  if (format == PolicyFormat::kJson &&
      json.find_first_not_of(" \t\r\n") == std::string::npos) {
    json = "{}";
  }
  return result;
}

// The single policy `json` (from `content`) holds, with the lines of its
// fields.
absl::StatusOr<ParsedPolicyConfig> SinglePolicyOf(const std::string& json,
                                                  absl::string_view content) {
  ParsedPolicyConfig parsed;
  parsed.lines = LinesOf(content);
  auto config = JsonToMessage<PolicyConfig>(json, parsed.lines);
  if (!config.ok()) return config.status();
  parsed.config = std::move(*config);
  return parsed;
}

}  // namespace

absl::StatusOr<ParsedPolicyConfig> ParsePolicyConfig(absl::string_view content,
                                                     PolicyFormat format) {
  absl::StatusOr<PolicyJson> json = ToPolicyJson(content, format);
  if (!json.ok()) return json.status();
  return SinglePolicyOf(json->json, content);
}

absl::StatusOr<ParsedPolicyFile> ParsePolicyFile(absl::string_view content,
                                                 PolicyFormat format) {
  absl::StatusOr<PolicyJson> json = ToPolicyJson(content, format);
  if (!json.ok()) return json.status();
  ParsedPolicyFile parsed;
  if (!json->several_policies) {
    absl::StatusOr<ParsedPolicyConfig> single =
        SinglePolicyOf(json->json, content);
    if (!single.ok()) return single.status();
    parsed.lines = std::move(single->lines);
    (*parsed.file.mutable_policies())["default"] = std::move(single->config);
    parsed.file.set_default_policy("default");
    parsed.single_policy = true;
    return parsed;
  }
  parsed.lines = LinesOf(content);
  auto file = JsonToMessage<PolicyFile>(json->json, parsed.lines);
  if (!file.ok()) return file.status();
  parsed.file = std::move(*file);
  return parsed;
}

absl::StatusOr<ParsedPolicyFile> ReadPolicyFile(const std::string& path) {
  errno = 0;
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    // std::ifstream does not promise to set errno, and 0 would be OK.
    return absl::ErrnoToStatus(errno != 0 ? errno : EIO,
                               absl::StrCat("cannot read policy file ", path));
  }
  // One byte more than the limit is enough to tell a file that is too large.
  std::string text(kMaxPolicyBytes + 1, '\0');
  file.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (file.bad()) {
    return absl::InternalError(
        absl::StrCat("cannot read policy file ", path, ": read failed"));
  }
  text.resize(static_cast<size_t>(file.gcount()));
  auto parsed = ParsePolicyFile(text, DetectPolicyFormat(path, text));
  if (!parsed.ok()) {
    return absl::Status(
        parsed.status().code(),
        absl::StrCat("policy file ", path, ": ", parsed.status().message()));
  }
  return parsed;
}

}  // namespace geo::policy
