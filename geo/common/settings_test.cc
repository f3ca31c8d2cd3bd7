#include "geo/common/settings.h"

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace geo::settings {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

enum class Mode { kFast, kSafe };

struct TestOptions {
  int port = -1;
  int status_port = -2;
  int64_t bytes = -1;
  double fraction = -1;
  bool verbose = false;
  absl::Duration interval;
  absl::Duration timeout;
  std::vector<std::string> items;
  std::vector<std::string> editions;
  std::string name;
  std::string data_dir;
  std::string key;
  int pin = 0;
  Mode mode = Mode::kSafe;
  int doubled = 0;
};

using T = TestOptions;

absl::StatusOr<int> ParseEven(absl::string_view text) {
  int value = 0;
  if (!absl::SimpleAtoi(text, &value) || value % 2 != 0) {
    return absl::InvalidArgumentError("want an even number");
  }
  return value;
}

const SettingsTable<T>& Table() {
  static const auto* table = new SettingsTable<T>(
      {"tester", "Tests the settings table.", "GeoIP.conf"},
      {
          Setting<T>("port", IntInRange(&T::port, 0, 65535))
              .Env({"T_PORT", "T_PORT_OLD"})
              .ConfKeys({"Port", "OldPort"})
              .Default("8080")
              .Help("the port"),
          Setting<T>("status_port", Port(&T::status_port, /*off_allowed=*/true))
              .Default("-1")
              .Help("a listener that may be off"),
          Setting<T>("bytes", Int64AtLeast(&T::bytes, 0))
              .Default("4294967296")
              .Help("a size"),
          Setting<T>("fraction", DoubleInRange(&T::fraction, 0, 1))
              .Default("0.1")
              .Help("a fraction"),
          Setting<T>("verbose", Bool(&T::verbose))
              .Env({"T_VERBOSE"})
              .Default("false")
              .Help("say more"),
          Setting<T>("interval", PositiveDuration(&T::interval))
              .Env({"T_INTERVAL", {"T_HOURS", WholeHoursAsDuration}})
              .Default("24h")
              .Help("time between passes"),
          Setting<T>("timeout", NonNegativeDuration(&T::timeout))
              .Default("10s")
              .Help("a timeout"),
          Setting<T>("items", CommaList(&T::items)).Help("some items"),
          Setting<T>("editions", List(
                                     &T::editions, ", \t",
                                     [](absl::string_view item) {
                                       return item == "bad"
                                                  ? absl::InvalidArgumentError(
                                                        "edition \"bad\"")
                                                  : absl::OkStatus();
                                     },
                                     /*at_least_one=*/true))
              .Default("A")
              .Help("editions"),
          Setting<T>("name", String(&T::name, /*non_empty=*/true))
              .Default("geo")
              .Help("a name"),
          Setting<T>("data_dir", Path(&T::data_dir))
              .Env({"T_DIR"})
              .Help("a directory"),
          Setting<T>("key_file", String(&T::key))
              .FlagNamesFile()
              .Env({"T_KEY", "T_KEY_ALT"})
              .ConfKeys({"Key"})
              .Secret()
              .Help("the key"),
          Setting<T>("pin", IntInRange(&T::pin, 0, 9999))
              .Env({"T_PIN"})
              .Secret()
              .Help("a secret number"),
          Setting<T>("mode", EnumFromNames(&T::mode, {{"fast", Mode::kFast},
                                                      {"safe", Mode::kSafe}}))
              .Default("safe")
              .Help("speed or safety"),
          Setting<T>("even",
                     Parsed<T, int>(&T::doubled, "even integer", ParseEven))
              .Help("an even number"),
      });
  return *table;
}

std::string WriteTemp(const std::string& name, const std::string& contents) {
  std::string path = absl::StrCat(std::getenv("TEST_TMPDIR"), "/", name);
  std::ofstream(path) << contents;
  return path;
}

absl::StatusOr<Resolved<T>> Parse(
    std::vector<std::string> args, Environment env = {},
    std::map<std::string, std::string> conf = {}) {
  args.insert(args.begin(), "tester");
  std::vector<const char*> argv;
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  return Table().Parse(static_cast<int>(argv.size()), argv.data(),
                       std::move(env), std::move(conf));
}

T ParseOk(std::vector<std::string> args, Environment env = {},
          std::map<std::string, std::string> conf = {}) {
  absl::StatusOr<Resolved<T>> resolved =
      Parse(std::move(args), std::move(env), std::move(conf));
  EXPECT_TRUE(resolved.ok()) << resolved.status();
  if (!resolved.ok()) return T();
  EXPECT_FALSE(resolved->help_requested);
  return resolved->options;
}

std::string ParseError(std::vector<std::string> args, Environment env = {},
                       std::map<std::string, std::string> conf = {}) {
  absl::StatusOr<Resolved<T>> resolved =
      Parse(std::move(args), std::move(env), std::move(conf));
  EXPECT_FALSE(resolved.ok());
  if (resolved.ok()) return "";
  EXPECT_EQ(resolved.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(resolved.status().message());
}

TEST(SettingsTest, DefaultsAreParsedFromTheTable) {
  EXPECT_TRUE(Table().CheckDefaults().ok());
  T options = ParseOk({});
  EXPECT_EQ(options.port, 8080);
  EXPECT_EQ(options.status_port, -1);
  EXPECT_EQ(options.bytes, int64_t{4294967296});
  EXPECT_DOUBLE_EQ(options.fraction, 0.1);
  EXPECT_FALSE(options.verbose);
  EXPECT_EQ(options.interval, absl::Hours(24));
  EXPECT_EQ(options.timeout, absl::Seconds(10));
  EXPECT_TRUE(options.items.empty());
  EXPECT_THAT(options.editions, ElementsAre("A"));
  EXPECT_EQ(options.name, "geo");
  EXPECT_EQ(options.mode, Mode::kSafe);
  // No default: the field keeps what the struct gave it.
  EXPECT_EQ(options.key, "");

  T applied;
  Table().ApplyDefaults(&applied);
  EXPECT_EQ(applied.port, 8080);
}

TEST(SettingsTest, FlagBeatsEnvironmentInOrderBeatsConfBeatsDefault) {
  Environment env = {{"T_PORT", "1"}, {"T_PORT_OLD", "2"}};
  std::map<std::string, std::string> conf = {{"Port", "3"}, {"OldPort", "4"}};
  EXPECT_EQ(ParseOk({"--port=0"}, env, conf).port, 0);
  EXPECT_EQ(ParseOk({}, env, conf).port, 1);
  env.erase("T_PORT");
  EXPECT_EQ(ParseOk({}, env, conf).port, 2);
  env.clear();
  EXPECT_EQ(ParseOk({}, env, conf).port, 3);
  conf.erase("Port");
  EXPECT_EQ(ParseOk({}, env, conf).port, 4);
  conf.clear();
  EXPECT_EQ(ParseOk({}, env, conf).port, 8080);
}

TEST(SettingsTest, EmptyVariablesAreUnsetButAnEmptyFlagIsAValue) {
  EXPECT_EQ(ParseOk({}, {{"T_PORT", ""}, {"T_PORT_OLD", "7"}}).port, 7);
  EXPECT_EQ(ParseOk({"--data_dir="}, {{"T_DIR", "/env"}}).data_dir, "");
  EXPECT_EQ(ParseOk({}, {{"T_DIR", "/env"}}).data_dir, "/env");
}

TEST(SettingsTest, CommandLineForms) {
  EXPECT_EQ(ParseOk({"--port=1"}).port, 1);
  EXPECT_EQ(ParseOk({"--port", "2"}).port, 2);
  EXPECT_EQ(ParseOk({"-port=3"}).port, 3);
  EXPECT_EQ(ParseOk({"--port=4", "--port=5"}).port, 5);  // The last wins.
  EXPECT_TRUE(ParseOk({"--verbose"}).verbose);
  EXPECT_TRUE(ParseOk({"--verbose=true"}).verbose);
  EXPECT_FALSE(ParseOk({"--verbose=false"}, {{"T_VERBOSE", "1"}}).verbose);
  EXPECT_FALSE(ParseOk({"--noverbose"}, {{"T_VERBOSE", "yes"}}).verbose);
  EXPECT_TRUE(ParseOk({}, {{"T_VERBOSE", "yes"}}).verbose);
  // A bare boolean does not take the next argument.
  EXPECT_THAT(ParseError({"--verbose", "false"}),
              HasSubstr("unexpected argument \"false\""));
}

TEST(SettingsTest, CommandLineErrorsNameTheArgument) {
  EXPECT_THAT(ParseError({"--bogus=1"}), HasSubstr("unknown flag --bogus"));
  EXPECT_THAT(ParseError({"--noport"}), HasSubstr("unknown flag --noport"));
  EXPECT_THAT(ParseError({"--noverbose=1"}),
              HasSubstr("--noverbose takes no value"));
  EXPECT_THAT(ParseError({"stray"}),
              HasSubstr("unexpected argument \"stray\""));
  EXPECT_THAT(ParseError({"--", "--port=1"}),
              HasSubstr("unexpected argument \"--port=1\""));
  EXPECT_THAT(ParseError({"--port"}), HasSubstr("flag --port needs a value"));
  EXPECT_EQ(ParseOk({"--port=9", "--"}).port, 9);
}

TEST(SettingsTest, HelpIsAnOutcomeNotAnError) {
  for (const char* help : {"--help", "-h", "--helpfull"}) {
    // Even next to a bad flag: nothing else is looked at.
    absl::StatusOr<Resolved<T>> resolved =
        Parse({"--bogus", help}, {{"T_PORT", "not a port"}});
    ASSERT_TRUE(resolved.ok()) << help << ": " << resolved.status();
    EXPECT_TRUE(resolved->help_requested) << help;
  }
}

TEST(SettingsTest, ValueErrorsNameTheirSourceAndTheFlag) {
  std::string error = ParseError({}, {{"T_PORT", "70000"}});
  EXPECT_THAT(error, HasSubstr("environment variable T_PORT=\"70000\""));
  EXPECT_THAT(error, HasSubstr("(for --port)"));
  EXPECT_THAT(error, HasSubstr("want an integer from 0 to 65535"));

  error = ParseError({"--interval=soon"});
  EXPECT_THAT(error, HasSubstr("--interval=\"soon\""));
  EXPECT_THAT(error, HasSubstr("want a duration"));

  error = ParseError({}, {}, {{"Port", "-1"}});
  EXPECT_THAT(error, HasSubstr("key Port=\"-1\" (for --port)"));

  EXPECT_THAT(ParseError({"--status_port=-2"}),
              HasSubstr("--status_port=\"-2\": want an integer from -1 to "
                        "65535"));
  EXPECT_EQ(ParseOk({"--status_port=0"}).status_port, 0);
  EXPECT_THAT(ParseError({"--bytes=-1"}), HasSubstr("at least 0"));
  EXPECT_THAT(ParseError({"--fraction=1.5"}),
              HasSubstr("want a number from 0 to 1"));
  EXPECT_THAT(ParseError({"--verbose=maybe"}), HasSubstr("true or false"));
  EXPECT_THAT(ParseError({"--interval=0s"}),
              HasSubstr("want a positive duration"));
  EXPECT_THAT(ParseError({"--timeout=-1s"}), HasSubstr("0s or more"));
  EXPECT_EQ(ParseOk({"--timeout=0s"}).timeout, absl::ZeroDuration());
  EXPECT_THAT(ParseError({"--name="}), HasSubstr("want a value"));
  EXPECT_THAT(ParseError({"--mode=quick"}),
              HasSubstr("want one of: \"fast\" \"safe\""));
  EXPECT_EQ(ParseOk({"--mode=fast"}).mode, Mode::kFast);
  EXPECT_THAT(ParseError({"--even=3"}), HasSubstr("want an even number"));
  EXPECT_EQ(ParseOk({"--even=4"}).doubled, 4);
}

TEST(SettingsTest, Lists) {
  EXPECT_THAT(ParseOk({"--items= a, b ,,c"}).items, ElementsAre("a", "b", "c"));
  EXPECT_THAT(ParseOk({"--editions=X Y,Z\tW"}).editions,
              ElementsAre("X", "Y", "Z", "W"));
  EXPECT_THAT(ParseError({"--editions=X,bad"}), HasSubstr("edition \"bad\""));
  EXPECT_THAT(ParseError({"--editions= , "}),
              HasSubstr("want at least one item"));
}

TEST(SettingsTest, TranslatedVariables) {
  EXPECT_EQ(ParseOk({}, {{"T_HOURS", "6"}}).interval, absl::Hours(6));
  // Precedence still holds: the first variable wins.
  EXPECT_EQ(ParseOk({}, {{"T_INTERVAL", "5m"}, {"T_HOURS", "6"}}).interval,
            absl::Minutes(5));
  // An empty translation counts as unset.
  EXPECT_EQ(ParseOk({}, {{"T_HOURS", "0"}}).interval, absl::Hours(24));
  std::string error = ParseError({}, {{"T_HOURS", "six"}});
  EXPECT_THAT(error, HasSubstr("T_HOURS=\"six\""));
  EXPECT_THAT(error, HasSubstr("want a whole number of hours"));
}

TEST(SettingsTest, SecretsComeFromFilesAndNeverAppearInErrors) {
  EXPECT_EQ(ParseOk({}, {{"T_KEY", "env-key"}}).key, "env-key");
  // NAME_FILE right after NAME, before the next variable; trimmed.
  std::string file = WriteTemp("key", "  file-key\n");
  EXPECT_EQ(ParseOk({}, {{"T_KEY_FILE", file}, {"T_KEY_ALT", "alt"}}).key,
            "file-key");
  EXPECT_EQ(ParseOk({}, {{"T_KEY", "env-key"}, {"T_KEY_FILE", file}}).key,
            "env-key");
  EXPECT_EQ(ParseOk({}, {{"T_KEY_ALT_FILE", file}}).key, "file-key");
  EXPECT_EQ(ParseOk({}, {}, {{"Key", "conf-key"}}).key, "conf-key");
  // The flag names a file, and wins.
  std::string flag_file = WriteTemp("flag-key", "flag-key\n");
  EXPECT_EQ(ParseOk({"--key_file=" + flag_file}, {{"T_KEY", "env-key"}}).key,
            "flag-key");
  // A non-secret setting does not read NAME_FILE.
  EXPECT_EQ(ParseOk({}, {{"T_DIR_FILE", file}}).data_dir, "");

  std::string error = ParseError({}, {{"T_PIN", "secret-123"}});
  EXPECT_THAT(error, HasSubstr("T_PIN"));
  EXPECT_THAT(error, HasSubstr("want an integer"));
  EXPECT_THAT(error, Not(HasSubstr("secret-123")));
  error = ParseError({}, {{"T_PIN_FILE", WriteTemp("pin", "secret-456\n")}});
  EXPECT_THAT(error, HasSubstr("T_PIN_FILE"));
  EXPECT_THAT(error, Not(HasSubstr("secret-456")));

  error = ParseError({}, {{"T_KEY_FILE", "/nonexistent/key"}});
  EXPECT_THAT(error, HasSubstr("cannot read T_KEY_FILE from /nonexistent/key"));
  EXPECT_THAT(ParseError({"--key_file=/nonexistent/key"}),
              HasSubstr("cannot read --key_file"));
  EXPECT_THAT(ParseError({}, {{"T_KEY_FILE",
                               WriteTemp("big", std::string(70000, 'k'))}}),
              HasSubstr("larger than"));
}

TEST(SettingsTest, UsageListsEverySettingWithItsNames) {
  const std::string usage = Table().Usage();
  EXPECT_THAT(usage, HasSubstr("usage: tester"));
  for (const SettingSpec& spec : Table().specs()) {
    EXPECT_THAT(usage, HasSubstr(absl::StrCat("  --", spec.flag)));
    EXPECT_THAT(usage, HasSubstr(spec.help));
    for (const std::string& name : spec.EnvironmentNames()) {
      EXPECT_THAT(usage, HasSubstr(name));
    }
    for (const std::string& key : spec.conf_keys) {
      EXPECT_THAT(usage, HasSubstr(key));
    }
    if (spec.default_value.has_value()) {
      EXPECT_THAT(usage, HasSubstr(absl::StrCat("default: \"",
                                                *spec.default_value, "\"")));
    }
  }
  EXPECT_THAT(usage, HasSubstr("GeoIP.conf: Port, OldPort"));
  EXPECT_THAT(usage, HasSubstr("environment: T_KEY, T_KEY_FILE, T_KEY_ALT, "
                               "T_KEY_ALT_FILE"));
  EXPECT_THAT(usage, HasSubstr("--verbose[=true|false]"));
  EXPECT_THAT(usage, HasSubstr("--port=<integer from 0 to 65535>"));
  EXPECT_THAT(usage, HasSubstr("--status_port=<port, 0 picks a free one, -1 "
                               "disables>"));
}

TEST(SettingsTest, SpecNames) {
  const SettingSpec* key = Table().FindFlag("key_file");
  ASSERT_NE(key, nullptr);
  EXPECT_THAT(
      key->EnvironmentNames(),
      ElementsAre("T_KEY", "T_KEY_FILE", "T_KEY_ALT", "T_KEY_ALT_FILE"));
  EXPECT_EQ(key->DisplayName(), "--key_file");
  EXPECT_EQ(Table().FindFlag("nope"), nullptr);
  SettingSpec env_only;
  env_only.env = {"ONLY_ENV"};
  EXPECT_EQ(env_only.DisplayName(), "ONLY_ENV");
}

TEST(SettingsTest, ConfigFileKeysNoRowReadsAreRefused) {
  EXPECT_TRUE(
      Table().CheckConfKeys({{"Port", "1"}, {"Key", "k"}}, "a.conf").ok());
  absl::Status status =
      Table().CheckConfKeys({{"Port", "1"}, {"Prot", "2"}}, "/etc/a.conf");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "/etc/a.conf: unknown GeoIP.conf key \"Prot\" (the keys the tester "
            "reads are listed in tester --help)");
}

TEST(SettingsTest, ABadDefaultIsReportedByCheckDefaults) {
  SettingsTable<T> table(
      {"bad", "", ""},
      {Setting<T>("port", IntInRange(&T::port, 0, 10)).Default("11").Help("")});
  absl::Status status = table.CheckDefaults();
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("default of --port=\"11\""));
}

TEST(ParsersTest, Values) {
  EXPECT_EQ(*ParseInteger("-1", -1, 1), -1);
  EXPECT_FALSE(ParseInteger("2", -1, 1).ok());
  EXPECT_FALSE(ParseInteger("1x", -1, 1).ok());
  EXPECT_FALSE(ParseInteger("", -1, 1).ok());
  EXPECT_DOUBLE_EQ(*ParseNumber("0.5", 0, 1), 0.5);
  EXPECT_FALSE(ParseNumber("nan", 0, 1).ok());
  EXPECT_FALSE(ParseNumber("-0.1", 0, 1).ok());
  EXPECT_TRUE(*ParseBool("yes"));
  EXPECT_FALSE(*ParseBool("0"));
  EXPECT_FALSE(ParseBool("maybe").ok());
  EXPECT_EQ(*ParseDurationValue("1m30s", false), absl::Seconds(90));
  EXPECT_FALSE(ParseDurationValue("inf", true).ok());
  EXPECT_FALSE(ParseDurationValue("10", true).ok());
  EXPECT_EQ(*ParseDurationValue("0s", true), absl::ZeroDuration());
  EXPECT_FALSE(ParseDurationValue("0s", false).ok());
  EXPECT_THAT(SplitList(" a ; b;;c ", ";"), ElementsAre("a", "b", "c"));
  EXPECT_TRUE(SplitList("", ",").empty());
  EXPECT_EQ(*ParsePort("0", 0), 0);
  EXPECT_EQ(*ParsePort("65535", 0), 65535);
  EXPECT_EQ(*ParsePort("-1", -1), -1);
  EXPECT_THAT(ParsePort("-1", 0).status().message(),
              HasSubstr("want an integer from 0 to 65535"));
  EXPECT_FALSE(ParsePort("65536", -1).ok());
  EXPECT_FALSE(ParsePort("http", 0).ok());
  EXPECT_EQ(IntegerDescription(0, 10), "integer from 0 to 10");
  EXPECT_EQ(IntegerDescription(1, std::numeric_limits<int64_t>::max()),
            "integer of at least 1");
}

TEST(ParsersTest, WholeHoursAsDuration) {
  EXPECT_EQ(*WholeHoursAsDuration("6"), "6h");
  EXPECT_EQ(*WholeHoursAsDuration("0"), "");  // geoipupdate: not set.
  for (const char* bad : {"-1", "six", "1.5", ""}) {
    EXPECT_THAT(WholeHoursAsDuration(bad).status().message(),
                HasSubstr("want a whole number of hours"))
        << bad;
  }
}

TEST(ParsersTest, ReadValueFileTrimsAndNamesWhatNamedTheFile) {
  EXPECT_EQ(*ReadValueFile(WriteTemp("value", "\n  value \n"), "--value_file"),
            "value");
  EXPECT_THAT(
      ReadValueFile("/nonexistent/value", "GeoIP.conf").status().message(),
      HasSubstr("cannot read GeoIP.conf from /nonexistent/value"));
  absl::StatusOr<std::string> large =
      ReadValueFile(WriteTemp("large", std::string(70000, 'v')), "T_KEY_FILE");
  EXPECT_EQ(large.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(large.status().message(), HasSubstr("T_KEY_FILE file"));
  EXPECT_THAT(large.status().message(), HasSubstr("larger than 65536 bytes"));
}

// A group of settings two binaries could share, nested in one of them.
struct Limits {
  int connections = 0;
  bool strict = false;
};
struct WithLimits {
  std::string name;
  Limits limits;
};

TEST(SettingGroupTest, AGroupsRowsBindToTheNestedStructInTheirPlace) {
  const std::vector<Setting<Limits>> group = {
      Setting<Limits>("connections", IntInRange(&Limits::connections, 1, 10))
          .Env({"L_CONNECTIONS"})
          .Default("4")
          .Help("most connections"),
      Setting<Limits>("strict", Bool(&Limits::strict)).Default("true"),
  };
  std::vector<Setting<WithLimits>> bound;
  for (const Setting<Limits>& row : group) {
    bound.push_back(InGroup(&WithLimits::limits, row));
  }
  const SettingsTable<WithLimits> table(
      {"grouped", "Tests a group of settings.", ""},
      {Setting<WithLimits>("name", String(&WithLimits::name)), bound,
       Setting<WithLimits>("last", String(&WithLimits::name))});
  std::vector<std::string> flags;
  for (const SettingSpec& spec : table.specs()) flags.push_back(spec.flag);
  EXPECT_THAT(flags, ElementsAre("name", "connections", "strict", "last"));
  const SettingSpec* connections = table.FindFlag("connections");
  ASSERT_NE(connections, nullptr);
  EXPECT_EQ(connections->help, "most connections");
  EXPECT_EQ(connections->value_description, "integer from 1 to 10");
  EXPECT_TRUE(table.FindFlag("strict")->is_bool);

  absl::StatusOr<WithLimits> defaults = table.Resolve({});
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->limits.connections, 4);
  EXPECT_TRUE(defaults->limits.strict);

  const char* argv[] = {"grouped", "--nostrict", "--name=edge"};
  absl::StatusOr<Resolved<WithLimits>> parsed =
      table.Parse(3, argv, {{"L_CONNECTIONS", "7"}});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->options.name, "edge");
  EXPECT_EQ(parsed->options.limits.connections, 7);
  EXPECT_FALSE(parsed->options.limits.strict);

  parsed = table.Parse(1, argv, {{"L_CONNECTIONS", "11"}});
  EXPECT_THAT(std::string(parsed.status().message()),
              HasSubstr("L_CONNECTIONS=\"11\""));
}

}  // namespace
}  // namespace geo::settings
