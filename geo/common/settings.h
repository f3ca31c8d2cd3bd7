// One table of settings per binary. Each row declares a setting once: its
// flag, its environment variables (in precedence order), its GeoIP.conf keys,
// whether it is a secret, how its text is parsed and validated into the
// options struct, its default and its help. The same rows drive the command
// line, the resolution of every value, `--help`, and the docs test that
// compares the names with MAINTENANCE.md.
//
// A value is resolved from (highest first):
//   1. the flag on the command line (`--name=value`, `--name value`, a bare
//      `--name` or `--noname` for booleans), even when it is empty;
//   2. each environment variable in the order listed; an empty value counts
//      as unset. For a secret, `NAME_FILE` (a mounted Kubernetes Secret) is
//      read right after `NAME`, whitespace trimmed;
//   3. the config file (geoipupdate's GeoIP.conf), each key in order;
//   4. the default.
// Errors name the flag or variable the bad value came from, and quote the
// value unless the setting is a secret.
#ifndef GEO_COMMON_SETTINGS_H_
#define GEO_COMMON_SETTINGS_H_

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "geo/common/status_macros.h"

namespace geo::settings {

// Variable name -> value.
using Environment = std::map<std::string, std::string>;

// The environment of this process (`environ`).
Environment ProcessEnvironment();

// An environment variable of a setting. `translate`, when set, turns the
// variable's text into the setting's syntax (geoipupdate's
// GEOIPUPDATE_FREQUENCY counts hours: "6" becomes "6h"); its errors are
// reported against the variable, and an empty translation counts as unset.
struct EnvironmentVariable {
  using Translate =
      std::function<absl::StatusOr<std::string>(absl::string_view text)>;
  // Implicit, so that rows list plain names: {"GEO_A", "GEO_B"}.
  EnvironmentVariable(const char* name) : name(name) {}  // NOLINT
  EnvironmentVariable(std::string name, Translate translate)
      : name(std::move(name)), translate(std::move(translate)) {}

  std::string name;
  Translate translate;
};

// The typeless part of a row: names, default, help.
struct SettingSpec {
  // Without dashes. Empty: the setting has no flag.
  std::string flag;
  std::vector<EnvironmentVariable> env;
  // Keys of the config file (GeoIP.conf), in precedence order.
  std::vector<std::string> conf_keys;
  // A credential: `NAME_FILE` variables are read as files holding the value,
  // and the value never appears in an error message.
  bool secret = false;
  // The flag names a file holding the value (a secret never goes on the
  // command line, where every user of the node can read it).
  bool flag_names_file = false;
  // Takes a bare `--flag` (true) and `--noflag` (false).
  bool is_bool = false;
  // Parsed like any other value; none: the field keeps its empty value.
  std::optional<std::string> default_value;
  // What the value looks like ("duration, positive"), for --help.
  std::string value_description;
  std::string help;

  // "--flag", or the first variable of a setting without a flag.
  std::string DisplayName() const;
  // Every variable read, in order, with the NAME_FILE variants of a secret.
  std::vector<std::string> EnvironmentNames() const;
};

// Values by source, before parsing.
struct SettingSources {
  // Flags given on the command line, by name without dashes.
  std::map<std::string, std::string> flags;
  Environment env;
  // The config file's keys (see the updater's ParseGeoIpConf), and what
  // messages call it (its path).
  std::map<std::string, std::string> conf;
  std::string conf_name;
};

// A value found for a setting, and where: "--timeout", "environment variable
// GEO_UPDATER_TIMEOUT", "GeoIP.conf key Host", ...
struct FoundValue {
  std::string text;
  std::string origin;
};

// The highest-precedence value of `spec` in `sources`, if any. Fails only
// when a secret file cannot be read, or a translation rejects a variable.
absl::StatusOr<std::optional<FoundValue>> FindValue(
    const SettingSpec& spec, const SettingSources& sources);

// The contents of the file at `path`, whitespace trimmed: a secret mounted
// from a Kubernetes Secret, a config file. InvalidArgument naming `what` (the
// flag or variable that named the file) when it cannot be read or holds more
// than 64 KiB (a database mounted in place of the key, say).
absl::StatusOr<std::string> ReadValueFile(const std::string& path,
                                          absl::string_view what);

// InvalidArgument "<origin>[="<text>"][ (for --flag)]: <problem>"; the text
// is left out for a secret.
absl::Status ValueError(const SettingSpec& spec, const FoundValue& found,
                        const absl::Status& problem);

// The command line, split by the table's flags.
struct CommandLine {
  // --help, -h or --helpfull was given: nothing else is looked at.
  bool help_requested = false;
  // Flag name -> value as given; a bare boolean is "true", --noflag "false".
  std::map<std::string, std::string> flags;
};

// Parses argv[1..]: `--name=value`, `--name value`, `-name...`, bare
// booleans and `--noname`; the last occurrence of a flag wins. Unknown flags,
// positional arguments (also after `--`) and a missing value are
// InvalidArgument errors that name the argument.
absl::StatusOr<CommandLine> ParseCommandLine(
    const std::vector<SettingSpec>& specs, int argc, const char* const* argv);

// What a table's --help prints besides the rows (and what the errors about
// its config file name).
struct TableInfo {
  std::string program;      // "geo_server"
  std::string description;  // one paragraph
  std::string conf_file;    // "GeoIP.conf"; empty: no config file
};

// --help: the program, the precedence, and every setting with its flag,
// variables, config keys, default and help.
std::string Usage(const TableInfo& info, const std::vector<SettingSpec>& specs);

// InvalidArgument when `conf` holds a key no row reads: a typo, or a setting
// this program does not have, which must not pass for a configuration the
// user did not write. `conf_name` names the file (its path).
absl::Status CheckConfKeys(const TableInfo& info,
                           const std::vector<SettingSpec>& specs,
                           const std::map<std::string, std::string>& conf,
                           absl::string_view conf_name);

// Text parsers shared by the typed helpers below. Their errors describe the
// problem only ("want an integer from 0 to 65535"); the caller names the
// source.
absl::StatusOr<int64_t> ParseInteger(absl::string_view text, int64_t min,
                                     int64_t max);
absl::StatusOr<double> ParseNumber(absl::string_view text, double min,
                                   double max);
absl::StatusOr<bool> ParseBool(absl::string_view text);
// A port number from `min` (0: the system picks a free port; -1: the
// listener is off) to 65535.
absl::StatusOr<int> ParsePort(absl::string_view text, int min);
// Negative durations are refused; zero too unless `zero_allowed`.
absl::StatusOr<absl::Duration> ParseDurationValue(absl::string_view text,
                                                  bool zero_allowed);
// Items split at any of `separators`, whitespace trimmed, empty items dropped.
std::vector<std::string> SplitList(absl::string_view text,
                                   absl::string_view separators);
// "integer from 0 to 65535", "integer of at least 0".
std::string IntegerDescription(int64_t min, int64_t max);

// An EnvironmentVariable::Translate for variables that count whole hours
// (geoipupdate's GEOIPUPDATE_FREQUENCY): "6" becomes "6h", and "0" becomes
// "" (unset), as 0 means "not set" there.
absl::StatusOr<std::string> WholeHoursAsDuration(absl::string_view text);

// How a row's text becomes part of `Options`: parse, validate, store.
template <typename Options>
struct ValueType {
  std::string description;
  bool is_bool = false;
  std::function<absl::Status(absl::string_view text, Options* options)> apply;
};

// Typed helpers. Each returns the ValueType of a row storing into `field`.
template <typename Options>
ValueType<Options> IntInRange(int Options::*field, int min, int max) {
  return {IntegerDescription(min, max), false,
          [=](absl::string_view text, Options* options) -> absl::Status {
            absl::StatusOr<int64_t> value = ParseInteger(text, min, max);
            if (!value.ok()) return value.status();
            options->*field = static_cast<int>(*value);
            return absl::OkStatus();
          }};
}

// A listening port: 0 picks a free one; with `off_allowed`, -1 turns the
// listener off.
template <typename Options>
ValueType<Options> Port(int Options::*field, bool off_allowed = false) {
  const int min = off_allowed ? -1 : 0;
  return {off_allowed ? "port, 0 picks a free one, -1 disables"
                      : "port, 0 picks a free one",
          false, [=](absl::string_view text, Options* options) -> absl::Status {
            GEO_ASSIGN_OR_RETURN(options->*field, ParsePort(text, min));
            return absl::OkStatus();
          }};
}

template <typename Options>
ValueType<Options> Int64AtLeast(int64_t Options::*field, int64_t min) {
  const int64_t max = std::numeric_limits<int64_t>::max();
  return {IntegerDescription(min, max), false,
          [=](absl::string_view text, Options* options) -> absl::Status {
            GEO_ASSIGN_OR_RETURN(options->*field, ParseInteger(text, min, max));
            return absl::OkStatus();
          }};
}

template <typename Options>
ValueType<Options> DoubleInRange(double Options::*field, double min,
                                 double max) {
  return {absl::StrCat("number from ", min, " to ", max), false,
          [=](absl::string_view text, Options* options) -> absl::Status {
            GEO_ASSIGN_OR_RETURN(options->*field, ParseNumber(text, min, max));
            return absl::OkStatus();
          }};
}

template <typename Options>
ValueType<Options> Bool(bool Options::*field) {
  return {"true or false", true,
          [=](absl::string_view text, Options* options) -> absl::Status {
            GEO_ASSIGN_OR_RETURN(options->*field, ParseBool(text));
            return absl::OkStatus();
          }};
}

// A duration in abseil's syntax (500ms, 30s, 1m30s, 24h), at least zero
// (NonNegativeDuration) or above zero (PositiveDuration).
template <typename Options>
ValueType<Options> DurationValue(absl::Duration Options::*field,
                                 bool zero_allowed) {
  return {zero_allowed ? "duration, 0s or more" : "duration, positive", false,
          [=](absl::string_view text, Options* options) -> absl::Status {
            GEO_ASSIGN_OR_RETURN(options->*field,
                                 ParseDurationValue(text, zero_allowed));
            return absl::OkStatus();
          }};
}
template <typename Options>
ValueType<Options> NonNegativeDuration(absl::Duration Options::*field) {
  return DurationValue(field, /*zero_allowed=*/true);
}
template <typename Options>
ValueType<Options> PositiveDuration(absl::Duration Options::*field) {
  return DurationValue(field, /*zero_allowed=*/false);
}

// A list split at any of `separators`; `check_item` (optional) validates
// each item; `at_least_one` rejects a list with no item.
template <typename Options>
ValueType<Options> List(
    std::vector<std::string> Options::*field, std::string separators,
    std::function<absl::Status(absl::string_view item)> check_item = nullptr,
    bool at_least_one = false) {
  return {"list", false,
          [=](absl::string_view text, Options* options) -> absl::Status {
            std::vector<std::string> items = SplitList(text, separators);
            if (check_item) {
              for (const std::string& item : items) {
                GEO_RETURN_IF_ERROR(check_item(item));
              }
            }
            if (at_least_one && items.empty()) {
              return absl::InvalidArgumentError("want at least one item");
            }
            options->*field = std::move(items);
            return absl::OkStatus();
          }};
}
template <typename Options>
ValueType<Options> CommaList(std::vector<std::string> Options::*field) {
  ValueType<Options> type = List(field, ",");
  type.description = "comma-separated list";
  return type;
}

// Any text; `non_empty` rejects "".
template <typename Options>
ValueType<Options> String(std::string Options::*field, bool non_empty = false) {
  return {non_empty ? "text, not empty" : "text", false,
          [=](absl::string_view text, Options* options) -> absl::Status {
            if (non_empty && text.empty()) {
              return absl::InvalidArgumentError("want a value, not \"\"");
            }
            options->*field = std::string(text);
            return absl::OkStatus();
          }};
}

// A file or directory name (not checked for existence here: the program
// reports what it cannot open, where it opens it).
template <typename Options>
ValueType<Options> Path(std::string Options::*field) {
  ValueType<Options> type = String(field);
  type.description = "path";
  return type;
}

// One of `names`, exactly as written.
template <typename Options, typename Enum>
ValueType<Options> EnumFromNames(
    Enum Options::*field, std::vector<std::pair<std::string, Enum>> names) {
  std::string description = "one of:";
  for (const auto& [name, value] : names) {
    description += " \"" + name + "\"";
  }
  return {description, false,
          [=](absl::string_view text, Options* options) -> absl::Status {
            for (const auto& [name, value] : names) {
              if (text == name) {
                options->*field = value;
                return absl::OkStatus();
              }
            }
            return absl::InvalidArgumentError("want " + description);
          }};
}

// A value parsed by `parse` (e.g. ParseLogLevel).
template <typename Options, typename T>
ValueType<Options> Parsed(
    T Options::*field, std::string description,
    std::function<absl::StatusOr<T>(absl::string_view text)> parse) {
  return {std::move(description), false,
          [=](absl::string_view text, Options* options) -> absl::Status {
            GEO_ASSIGN_OR_RETURN(options->*field, parse(text));
            return absl::OkStatus();
          }};
}

// One row: a setting's names, default and help (see SettingSpec) and its
// ValueType. Built in one expression:
//   Setting<O>("grpc_port", IntInRange(&O::grpc_port, 0, 65535))
//       .Env({"GEO_GRPC_PORT"}).Default("50051").Help("gRPC port")
template <typename Options>
class Setting {
 public:
  Setting(std::string flag, ValueType<Options> type) : type_(std::move(type)) {
    spec_.flag = std::move(flag);
    spec_.is_bool = type_.is_bool;
    spec_.value_description = type_.description;
  }
  // A row whose names and help are already set (see InGroup).
  Setting(SettingSpec spec, ValueType<Options> type)
      : spec_(std::move(spec)), type_(std::move(type)) {}
  Setting& Env(std::vector<EnvironmentVariable> env) {
    spec_.env = std::move(env);
    return *this;
  }
  Setting& ConfKeys(std::vector<std::string> keys) {
    spec_.conf_keys = std::move(keys);
    return *this;
  }
  Setting& Secret() {
    spec_.secret = true;
    return *this;
  }
  Setting& FlagNamesFile() {
    spec_.flag_names_file = true;
    spec_.value_description = "path of a file holding the value";
    return *this;
  }
  Setting& Default(std::string value) {
    spec_.default_value = std::move(value);
    return *this;
  }
  Setting& Help(std::string help) {
    spec_.help = std::move(help);
    return *this;
  }

  const SettingSpec& spec() const { return spec_; }
  const ValueType<Options>& type() const { return type_; }

 private:
  SettingSpec spec_;
  ValueType<Options> type_;
};

// A group of settings several binaries share (tls::TlsOptions) declares its
// rows once, against its own struct; each binary nests the struct in its
// options as `group` and binds the rows there (tls::TlsSettings). The row
// keeps its names, default and help.
template <typename Options, typename Group>
Setting<Options> InGroup(Group Options::*group, const Setting<Group>& row) {
  ValueType<Options> type{
      row.type().description, row.type().is_bool,
      [group, apply = row.type().apply](absl::string_view text,
                                        Options* options) -> absl::Status {
        return apply(text, &(options->*group));
      }};
  return Setting<Options>(row.spec(), std::move(type));
}

// What parsing a command line gave: the options, or a request for --help.
template <typename Options>
struct Resolved {
  bool help_requested = false;
  Options options;
};

// An entry of a table's list: one row, or the rows of a shared group in
// their order (tls::TlsSettings), so that a table lists both in one braced
// list, in the order --help shows them.
template <typename Options>
struct SettingRows {
  SettingRows(Setting<Options> row) : rows{std::move(row)} {}  // NOLINT
  SettingRows(std::vector<Setting<Options>> rows)              // NOLINT
      : rows(std::move(rows)) {}

  std::vector<Setting<Options>> rows;
};

// A binary's settings. Immutable; thread-safe.
template <typename Options>
class SettingsTable {
 public:
  SettingsTable(TableInfo info, std::vector<SettingRows<Options>> entries)
      : info_(std::move(info)) {
    for (SettingRows<Options>& entry : entries) {
      for (Setting<Options>& row : entry.rows) rows_.push_back(std::move(row));
    }
    for (const Setting<Options>& row : rows_) specs_.push_back(row.spec());
  }

  const std::vector<SettingSpec>& specs() const { return specs_; }
  const TableInfo& info() const { return info_; }
  std::string Usage() const { return settings::Usage(info_, specs_); }
  absl::Status CheckConfKeys(const std::map<std::string, std::string>& conf,
                             absl::string_view conf_name) const {
    return settings::CheckConfKeys(info_, specs_, conf, conf_name);
  }

  // The row whose flag is `flag`, or null.
  const SettingSpec* FindFlag(absl::string_view flag) const {
    for (const SettingSpec& spec : specs_) {
      if (spec.flag == flag) return &spec;
    }
    return nullptr;
  }

  // Stores every default into `options`. A default that does not parse is
  // a bug in the table (each table's test calls CheckDefaults): abort.
  void ApplyDefaults(Options* options) const {
    absl::Status status = ApplyDefaultsOrError(options);
    if (!status.ok()) {
      std::fprintf(stderr, "%s settings table: %s\n", info_.program.c_str(),
                   std::string(status.message()).c_str());
      std::abort();
    }
  }
  absl::Status CheckDefaults() const {
    Options options;
    return ApplyDefaultsOrError(&options);
  }

  // Options from the defaults and every value found in `sources`.
  absl::StatusOr<Options> Resolve(const SettingSources& sources) const {
    Options options;
    ApplyDefaults(&options);
    for (const Setting<Options>& row : rows_) {
      GEO_ASSIGN_OR_RETURN(std::optional<FoundValue> found,
                           FindValue(row.spec(), sources));
      if (!found.has_value()) continue;
      absl::Status status = row.type().apply(found->text, &options);
      if (!status.ok()) return ValueError(row.spec(), *found, status);
    }
    return options;
  }

  // The command line, then (unless --help) Resolve with `env` and `conf`.
  absl::StatusOr<Resolved<Options>> Parse(
      int argc, const char* const* argv, Environment env,
      std::map<std::string, std::string> conf = {}) const {
    GEO_ASSIGN_OR_RETURN(CommandLine command_line,
                         ParseCommandLine(specs_, argc, argv));
    Resolved<Options> resolved;
    if (command_line.help_requested) {
      resolved.help_requested = true;
      return resolved;
    }
    SettingSources sources;
    sources.flags = std::move(command_line.flags);
    sources.env = std::move(env);
    sources.conf = std::move(conf);
    GEO_ASSIGN_OR_RETURN(resolved.options, Resolve(sources));
    return resolved;
  }

 private:
  absl::Status ApplyDefaultsOrError(Options* options) const {
    for (const Setting<Options>& row : rows_) {
      if (!row.spec().default_value.has_value()) continue;
      absl::Status status =
          row.type().apply(*row.spec().default_value, options);
      if (!status.ok()) {
        return ValueError(row.spec(),
                          {*row.spec().default_value,
                           "default of " + row.spec().DisplayName()},
                          status);
      }
    }
    return absl::OkStatus();
  }

  TableInfo info_;
  std::vector<Setting<Options>> rows_;
  std::vector<SettingSpec> specs_;
};

}  // namespace geo::settings

#endif  // GEO_COMMON_SETTINGS_H_
