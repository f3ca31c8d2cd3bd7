#include "geo/common/settings.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

extern char** environ;

namespace geo::settings {
namespace {

// Secrets and small values only: a larger file is a mistake (a database
// mounted in place of the key, say), not a value.
constexpr size_t kMaxValueFileBytes = 64 * 1024;

bool IsHelp(absl::string_view arg) {
  return arg == "--help" || arg == "-help" || arg == "-h" ||
         arg == "--helpfull" || arg == "-helpfull";
}

const SettingSpec* FindSpec(const std::vector<SettingSpec>& specs,
                            absl::string_view flag) {
  if (flag.empty()) return nullptr;
  for (const SettingSpec& spec : specs) {
    if (spec.flag == flag) return &spec;
  }
  return nullptr;
}

// Appends `text` to `out`, wrapped at 80 columns, each line indented.
void AppendWrapped(std::string* out, absl::string_view text,
                   absl::string_view indent) {
  constexpr size_t kWidth = 80;
  std::string line(indent);
  for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    if (line.size() > indent.size() && line.size() + 1 + word.size() > kWidth) {
      absl::StrAppend(out, line, "\n");
      line = std::string(indent);
    }
    if (line.size() > indent.size()) line += ' ';
    absl::StrAppend(&line, word);
  }
  if (line.size() > indent.size()) absl::StrAppend(out, line, "\n");
}

}  // namespace

absl::StatusOr<std::string> ReadValueFile(const std::string& path,
                                          absl::string_view what) {
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int error = errno != 0 ? errno : EIO;
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot read ", what, " from ", path, ": ", std::strerror(error)));
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  if (contents.str().size() > kMaxValueFileBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " file ", path, " is larger than ",
                     kMaxValueFileBytes, " bytes"));
  }
  return std::string(absl::StripAsciiWhitespace(contents.str()));
}

Environment ProcessEnvironment() {
  Environment env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    absl::string_view text = *entry;
    size_t equals = text.find('=');
    if (equals == absl::string_view::npos) continue;
    env.emplace(std::string(text.substr(0, equals)),
                std::string(text.substr(equals + 1)));
  }
  return env;
}

std::string SettingSpec::DisplayName() const {
  if (!flag.empty()) return absl::StrCat("--", flag);
  if (!env.empty()) return env.front().name;
  return "(unnamed setting)";
}

std::vector<std::string> SettingSpec::EnvironmentNames() const {
  std::vector<std::string> names;
  for (const EnvironmentVariable& variable : env) {
    names.push_back(variable.name);
    if (secret) names.push_back(absl::StrCat(variable.name, "_FILE"));
  }
  return names;
}

absl::StatusOr<std::optional<FoundValue>> FindValue(
    const SettingSpec& spec, const SettingSources& sources) {
  if (!spec.flag.empty()) {
    auto flag = sources.flags.find(spec.flag);
    if (flag != sources.flags.end()) {
      const std::string origin = absl::StrCat("--", spec.flag);
      if (!spec.flag_names_file) return FoundValue{flag->second, origin};
      GEO_ASSIGN_OR_RETURN(std::string contents,
                           ReadValueFile(flag->second, origin));
      return FoundValue{std::move(contents), origin};
    }
  }
  for (const EnvironmentVariable& variable : spec.env) {
    auto value = sources.env.find(variable.name);
    if (value != sources.env.end() && !value->second.empty()) {
      FoundValue found{value->second,
                       absl::StrCat("environment variable ", variable.name)};
      if (!variable.translate) return found;
      absl::StatusOr<std::string> translated = variable.translate(found.text);
      if (!translated.ok()) {
        return ValueError(spec, found, translated.status());
      }
      if (translated->empty()) continue;
      found.text = *std::move(translated);
      return found;
    }
    if (!spec.secret) continue;
    const std::string file_variable = absl::StrCat(variable.name, "_FILE");
    auto file = sources.env.find(file_variable);
    if (file != sources.env.end() && !file->second.empty()) {
      GEO_ASSIGN_OR_RETURN(std::string contents,
                           ReadValueFile(file->second, file_variable));
      return FoundValue{
          std::move(contents),
          absl::StrCat("the file ", file->second, " (", file_variable, ")")};
    }
  }
  for (const std::string& key : spec.conf_keys) {
    auto value = sources.conf.find(key);
    if (value != sources.conf.end()) {
      return FoundValue{value->second,
                        absl::StrCat(sources.conf_name.empty()
                                         ? std::string("the config file")
                                         : sources.conf_name,
                                     " key ", key)};
    }
  }
  return std::optional<FoundValue>();
}

absl::Status ValueError(const SettingSpec& spec, const FoundValue& found,
                        const absl::Status& problem) {
  std::string message = found.origin;
  if (!spec.secret) absl::StrAppend(&message, "=\"", found.text, "\"");
  if (!spec.flag.empty() && !absl::StrContains(found.origin, "--")) {
    absl::StrAppend(&message, " (for --", spec.flag, ")");
  }
  absl::StrAppend(&message, ": ", problem.message());
  return absl::InvalidArgumentError(message);
}

absl::StatusOr<CommandLine> ParseCommandLine(
    const std::vector<SettingSpec>& specs, int argc, const char* const* argv) {
  CommandLine command_line;
  for (int i = 1; i < argc; ++i) {
    if (IsHelp(argv[i])) {
      command_line.help_requested = true;
      return command_line;
    }
  }
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") {
      if (i + 1 < argc) {
        return absl::InvalidArgumentError(
            absl::StrCat("unexpected argument \"", argv[i + 1],
                         "\": settings are flags (--name=value); see --help"));
      }
      break;
    }
    if (!absl::ConsumePrefix(&arg, "--") && !absl::ConsumePrefix(&arg, "-")) {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument \"", arg,
                       "\": settings are flags (--name=value); see --help"));
    }
    absl::string_view name = arg;
    std::optional<std::string> value;
    if (size_t equals = arg.find('='); equals != absl::string_view::npos) {
      name = arg.substr(0, equals);
      value = std::string(arg.substr(equals + 1));
    }
    const SettingSpec* spec = FindSpec(specs, name);
    if (spec == nullptr && absl::StartsWith(name, "no")) {
      const SettingSpec* negated = FindSpec(specs, name.substr(2));
      if (negated != nullptr && negated->is_bool) {
        if (value.has_value()) {
          return absl::InvalidArgumentError(
              absl::StrCat("flag --", name, " takes no value"));
        }
        spec = negated;
        value = "false";
      }
    }
    if (spec == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag --", name, "; see --help"));
    }
    if (!value.has_value()) {
      if (spec->is_bool) {
        value = "true";
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("flag --", name, " needs a value"));
      }
    }
    command_line.flags[spec->flag] = *std::move(value);
  }
  return command_line;
}

std::string Usage(const TableInfo& info,
                  const std::vector<SettingSpec>& specs) {
  std::string usage =
      absl::StrCat("usage: ", info.program, " [--flag=value ...]\n\n");
  AppendWrapped(&usage, info.description, "");
  usage += "\n";
  AppendWrapped(
      &usage,
      absl::StrCat(
          "Each setting is taken from, highest first: its flag, its "
          "environment variables in the order listed (an empty one counts as "
          "unset; for a secret, NAME_FILE names a file holding the value)",
          info.conf_file.empty() ? "" : absl::StrCat(", ", info.conf_file),
          ", its default. Durations are written 500ms, 30s, 1m30s, 24h."),
      "");
  usage += "\n";
  for (const SettingSpec& spec : specs) {
    std::string header = absl::StrCat("  ", spec.DisplayName());
    if (spec.is_bool) {
      absl::StrAppend(&header, "[=true|false] (bare: true; --no", spec.flag,
                      ": false)");
    } else {
      absl::StrAppend(&header, "=<", spec.value_description, ">");
    }
    absl::StrAppend(&usage, header, "\n");
    AppendWrapped(&usage, spec.help, "      ");
    if (spec.default_value.has_value() && !spec.secret) {
      absl::StrAppend(&usage, "      default: \"", *spec.default_value, "\"\n");
    }
    std::vector<std::string> env = spec.EnvironmentNames();
    if (!env.empty()) {
      AppendWrapped(&usage,
                    absl::StrCat("environment: ", absl::StrJoin(env, ", ")),
                    "      ");
    }
    if (!spec.conf_keys.empty()) {
      absl::StrAppend(&usage, "      ",
                      info.conf_file.empty() ? "config file" : info.conf_file,
                      ": ", absl::StrJoin(spec.conf_keys, ", "), "\n");
    }
    if (spec.secret) {
      absl::StrAppend(&usage,
                      "      secret: never printed; prefer the _FILE "
                      "variables\n");
    }
  }
  return usage;
}

absl::Status CheckConfKeys(const TableInfo& info,
                           const std::vector<SettingSpec>& specs,
                           const std::map<std::string, std::string>& conf,
                           absl::string_view conf_name) {
  for (const auto& [key, value] : conf) {
    bool known = false;
    for (const SettingSpec& spec : specs) {
      for (const std::string& name : spec.conf_keys) known |= name == key;
    }
    if (!known) {
      return absl::InvalidArgumentError(
          absl::StrCat(conf_name, ": unknown ", info.conf_file, " key \"", key,
                       "\" (the keys the ", info.program,
                       " reads are listed in ", info.program, " --help)"));
    }
  }
  return absl::OkStatus();
}

std::string IntegerDescription(int64_t min, int64_t max) {
  if (max == std::numeric_limits<int64_t>::max() ||
      max == std::numeric_limits<int>::max()) {
    return absl::StrCat("integer of at least ", min);
  }
  return absl::StrCat("integer from ", min, " to ", max);
}

absl::StatusOr<int64_t> ParseInteger(absl::string_view text, int64_t min,
                                     int64_t max) {
  int64_t value = 0;
  if (!absl::SimpleAtoi(text, &value) || value < min || value > max) {
    return absl::InvalidArgumentError(
        absl::StrCat("want an ", IntegerDescription(min, max)));
  }
  return value;
}

absl::StatusOr<int> ParsePort(absl::string_view text, int min) {
  GEO_ASSIGN_OR_RETURN(int64_t port, ParseInteger(text, min, 65535));
  return static_cast<int>(port);
}

absl::StatusOr<double> ParseNumber(absl::string_view text, double min,
                                   double max) {
  double value = 0;
  if (!absl::SimpleAtod(text, &value) || !std::isfinite(value) || value < min ||
      value > max) {
    return absl::InvalidArgumentError(
        absl::StrCat("want a number from ", min, " to ", max));
  }
  return value;
}

absl::StatusOr<bool> ParseBool(absl::string_view text) {
  bool value = false;
  if (!absl::SimpleAtob(text, &value)) {
    return absl::InvalidArgumentError("want true or false");
  }
  return value;
}

absl::StatusOr<absl::Duration> ParseDurationValue(absl::string_view text,
                                                  bool zero_allowed) {
  absl::Duration value;
  if (!absl::ParseDuration(text, &value) || value == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        "want a duration such as 500ms, 30s, 10m or 24h");
  }
  if (value < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("want a duration of 0s or more");
  }
  if (!zero_allowed && value == absl::ZeroDuration()) {
    return absl::InvalidArgumentError("want a positive duration");
  }
  return value;
}

absl::StatusOr<std::string> WholeHoursAsDuration(absl::string_view text) {
  int hours = 0;
  if (!absl::SimpleAtoi(text, &hours) || hours < 0) {
    return absl::InvalidArgumentError("want a whole number of hours");
  }
  if (hours == 0) return std::string();
  return absl::StrCat(hours, "h");
}

std::vector<std::string> SplitList(absl::string_view text,
                                   absl::string_view separators) {
  std::vector<std::string> items;
  for (absl::string_view item :
       absl::StrSplit(text, absl::ByAnyChar(separators))) {
    item = absl::StripAsciiWhitespace(item);
    if (!item.empty()) items.emplace_back(item);
  }
  return items;
}

}  // namespace geo::settings
