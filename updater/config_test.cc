#include "updater/config.h"

#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "geo/common/settings_testing.h"
#include "geo/tls/tls_settings_testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace geo::updater {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

std::string WriteTemp(const std::string& name, const std::string& contents) {
  std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
  std::ofstream(path) << contents;
  return path;
}

ConfigSources WithCredentials() {
  ConfigSources sources;
  sources.env = {{"MAXMIND_ACCOUNT_ID", "42"},
                 {"MAXMIND_LICENSE_KEY", "secret-key"}};
  return sources;
}

TEST(ConfigTest, Defaults) {
  absl::StatusOr<UpdaterOptions> options = ResolveOptions(WithCredentials());
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_THAT(options->editions, ElementsAre("GeoLite2-City"));
  EXPECT_EQ(options->host, "https://updates.maxmind.com");
  EXPECT_EQ(options->data_dir, "/data");
  EXPECT_FALSE(options->once);
  EXPECT_EQ(options->interval, absl::Hours(24));
  EXPECT_EQ(options->account_id, "42");
  EXPECT_EQ(options->license_key, "secret-key");
}

TEST(ConfigTest, SizeLimits) {
  absl::StatusOr<UpdaterOptions> defaults = ResolveOptions(WithCredentials());
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->max_download_bytes, int64_t{2} << 30);
  EXPECT_EQ(defaults->max_database_bytes, int64_t{2} << 30);
  ConfigSources sources = WithCredentials();
  sources.env["GEO_UPDATER_MAX_DATABASE_BYTES"] = "300000000";
  sources.flags["max_download_bytes"] = "100000000";
  absl::StatusOr<UpdaterOptions> options = ResolveOptions(sources);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->max_download_bytes, 100000000);
  EXPECT_EQ(options->max_database_bytes, 300000000);
  sources.flags["max_database_bytes"] = "-1";
  EXPECT_THAT(ResolveOptions(sources).status().message(),
              HasSubstr("--max_database_bytes"));
}

TEST(ConfigTest, FlagsBeatEnvironmentBeatsGeoIpConf) {
  std::string conf = WriteTemp(
      "GeoIP.conf",
      "# comment\nAccountID 7\nLicenseKey conf-key\nEditionIDs GeoLite2-ASN "
      "GeoLite2-Country\nDatabaseDirectory /conf/dir\nHost conf.example\n");
  ConfigSources sources;
  sources.flags = {{"config", conf}, {"data_dir", "/flag/dir"}};
  sources.env = {{"GEOIPUPDATE_HOST", "https://env.example"}};
  absl::StatusOr<UpdaterOptions> options = ResolveOptions(sources);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->account_id, "7");
  EXPECT_EQ(options->license_key, "conf-key");
  EXPECT_THAT(options->editions,
              ElementsAre("GeoLite2-ASN", "GeoLite2-Country"));
  EXPECT_EQ(options->data_dir, "/flag/dir");
  EXPECT_EQ(options->host, "https://env.example");

  sources.env.clear();
  options = ResolveOptions(sources);
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->host, "https://conf.example");  // Bare host: https.
}

TEST(ConfigTest, SecretsFromFiles) {
  ConfigSources sources;
  sources.env = {
      {"MAXMIND_ACCOUNT_ID_FILE", WriteTemp("account", "99\n")},
      {"MAXMIND_LICENSE_KEY_FILE", WriteTemp("key", "  file-key\n")}};
  absl::StatusOr<UpdaterOptions> options = ResolveOptions(sources);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->account_id, "99");
  EXPECT_EQ(options->license_key, "file-key");

  sources.flags = {{"license_key_file", WriteTemp("key2", "flag-key")}};
  options = ResolveOptions(sources);
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->license_key, "flag-key");
}

TEST(ConfigTest, GeoIpUpdateVariables) {
  ConfigSources sources;
  sources.env = {{"GEOIPUPDATE_ACCOUNT_ID", "1"},
                 {"GEOIPUPDATE_LICENSE_KEY", "k"},
                 {"GEOIPUPDATE_EDITION_IDS", "GeoLite2-City GeoLite2-ASN"},
                 {"GEOIPUPDATE_DB_DIR", "/usr/share/GeoIP"},
                 {"GEOIPUPDATE_FREQUENCY", "6"}};
  absl::StatusOr<UpdaterOptions> options = ResolveOptions(sources);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_THAT(options->editions, ElementsAre("GeoLite2-City", "GeoLite2-ASN"));
  EXPECT_EQ(options->data_dir, "/usr/share/GeoIP");
  EXPECT_EQ(options->interval, absl::Hours(6));
}

TEST(ConfigTest, ParsesDurationsAndOutput) {
  ConfigSources sources = WithCredentials();
  sources.flags = {{"once", "true"},       {"timeout", "90s"},
                   {"lock_timeout", "0s"}, {"output", "json"},
                   {"retries", "3"},       {"status_port", "-1"}};
  absl::StatusOr<UpdaterOptions> options = ResolveOptions(sources);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_TRUE(options->once);
  EXPECT_EQ(options->timeout, absl::Seconds(90));
  EXPECT_EQ(options->lock_timeout, absl::ZeroDuration());
  EXPECT_EQ(options->output, OutputFormat::kJson);
  EXPECT_EQ(options->retries, 3);
  EXPECT_EQ(options->status_port, -1);
}

TEST(ConfigTest, RejectsBadValuesWithoutEchoingSecrets) {
  ConfigSources sources = WithCredentials();
  sources.flags = {{"timeout", "soon"}};
  absl::Status status = ResolveOptions(sources).status();
  EXPECT_THAT(std::string(status.message()), HasSubstr("--timeout"));
  EXPECT_THAT(std::string(status.message()), Not(HasSubstr("secret-key")));

  sources.flags = {{"edition_ids", "../etc"}};
  EXPECT_FALSE(ResolveOptions(sources).ok());

  sources.flags.clear();
  sources.env.erase("MAXMIND_LICENSE_KEY");
  status = ResolveOptions(sources).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_THAT(std::string(status.message()), HasSubstr("MAXMIND_LICENSE_KEY"));
}

TEST(ConfigTest, MirrorNeedsNoCredentials) {
  ConfigSources sources;
  sources.flags = {{"mirror_url", "https://mirror/{edition}.tar.gz"},
                   {"edition_ids", "GeoLite2-City,GeoLite2-ASN"}};
  EXPECT_TRUE(ResolveOptions(sources).ok());
  sources.flags["mirror_url"] = "https://mirror/one.mmdb";
  EXPECT_FALSE(ResolveOptions(sources).ok());
}

TEST(ConfigTest, ADefaultConstructedStructHoldsTheTableDefaults) {
  UpdaterOptions options;
  EXPECT_EQ(options.retries, 5);
  EXPECT_EQ(options.status_port, 9102);
  EXPECT_EQ(options.status_address, "0.0.0.0");
  EXPECT_EQ(options.max_retry_after, absl::Minutes(10));
  EXPECT_EQ(options.health_grace, absl::Minutes(30));
  EXPECT_DOUBLE_EQ(options.interval_jitter, 0.1);
  EXPECT_EQ(options.output, OutputFormat::kNone);
  EXPECT_EQ(options.log_level, LogLevel::kInfo);
}

TEST(ConfigTest, StatusTlsFlagsAndVariablesFillTheStatusPortsTlsOptions) {
  tls::testing::ExpectTlsRowsFillTheirFields(
      UpdaterSettings(), &UpdaterOptions::status_tls,
      {"status_tls_cert_file", "status_tls_key_file",
       "status_tls_client_ca_file", "status_tls_client_auth",
       "status_tls_min_version"});
}

TEST(ConfigTest, IncompleteStatusTlsSettingsAreConfigurationErrors) {
  const struct {
    std::map<std::string, std::string> flags;
    const char* problem;
  } kCases[] = {
      {{{"status_tls_key_file", "/tls/tls.key"}}, "go together"},
      {{{"status_tls_cert_file", "/tls/tls.crt"}}, "go together"},
      {{{"status_tls_client_auth", "require"}}, "need TLS"},
      {{{"status_tls_cert_file", "/tls/tls.crt"},
        {"status_tls_key_file", "/tls/tls.key"},
        {"status_tls_client_auth", "request"}},
       "need a client CA bundle"},
  };
  for (const auto& bad : kCases) {
    SCOPED_TRACE(bad.problem);
    ConfigSources sources = WithCredentials();
    sources.flags = bad.flags;
    const absl::Status status = ResolveOptions(sources).status();
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
    EXPECT_THAT(std::string(status.message()),
                HasSubstr("status port TLS (--status_tls_*)"));
    EXPECT_THAT(std::string(status.message()), HasSubstr(bad.problem));
  }
  // A complete set resolves (the files are read when the port starts).
  ConfigSources sources = WithCredentials();
  sources.flags = {{"status_tls_cert_file", "/tls/tls.crt"},
                   {"status_tls_key_file", "/tls/tls.key"},
                   {"status_tls_client_ca_file", "/tls/ca.crt"},
                   {"status_tls_client_auth", "require"}};
  EXPECT_TRUE(ResolveOptions(sources).ok());
}

TEST(ConfigTest, GeoIpConfAliasesAndBareHosts) {
  std::string conf =
      WriteTemp("GeoIP-old.conf", "UserId 12\nLicenseKey k\nHost h.example\n");
  ConfigSources sources;
  sources.env = {{"GEOIPUPDATE_CONF_FILE", conf}};
  absl::StatusOr<UpdaterOptions> options = ResolveOptions(sources);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->config_path, conf);
  EXPECT_EQ(options->account_id, "12");
  EXPECT_EQ(options->host, "https://h.example");
  // AccountID wins over UserId; a URL keeps its scheme.
  conf =
      WriteTemp("GeoIP-both.conf", "UserId 12\nAccountID 13\nLicenseKey k\n");
  sources.env = {{"GEOIPUPDATE_CONF_FILE", conf},
                 {"MAXMIND_HOST", "http://127.0.0.1:8080"}};
  options = ResolveOptions(sources);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->account_id, "13");
  EXPECT_EQ(options->host, "http://127.0.0.1:8080");

  sources.env = {{"GEOIPUPDATE_CONF_FILE", "/nonexistent/GeoIP.conf"}};
  EXPECT_THAT(std::string(ResolveOptions(sources).status().message()),
              HasSubstr("cannot read GeoIP.conf"));
}

TEST(ConfigTest, PrecedenceAmongTheVariablesAndFiles) {
  ConfigSources sources;
  sources.env = {{"MAXMIND_ACCOUNT_ID", "1"},
                 {"GEOIPUPDATE_ACCOUNT_ID", "2"},
                 {"GEOIPUPDATE_LICENSE_KEY_FILE", WriteTemp("gk", "geo-key")},
                 {"MAXMIND_LICENSE_KEY", ""}};
  absl::StatusOr<UpdaterOptions> options = ResolveOptions(sources);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->account_id, "1");
  EXPECT_EQ(options->license_key, "geo-key");  // The empty variable is unset.
  sources.flags = {{"account_id", "3"}};
  EXPECT_EQ(ResolveOptions(sources)->account_id, "3");
}

TEST(ConfigTest, FrequencyInHours) {
  ConfigSources sources = WithCredentials();
  sources.env["GEOIPUPDATE_FREQUENCY"] = "0";  // geoipupdate: not set.
  EXPECT_EQ(ResolveOptions(sources)->interval, absl::Hours(24));
  sources.env["GEOIPUPDATE_FREQUENCY"] = "x";
  EXPECT_THAT(std::string(ResolveOptions(sources).status().message()),
              HasSubstr("GEOIPUPDATE_FREQUENCY"));
  sources.env["GEOIPUPDATE_FREQUENCY"] = "6";
  sources.env["GEO_UPDATER_INTERVAL"] = "30m";
  EXPECT_EQ(ResolveOptions(sources)->interval, absl::Minutes(30));
}

TEST(ConfigTest, TypedSettings) {
  ConfigSources sources = WithCredentials();
  sources.env["GEO_UPDATER_ONCE"] = "true";
  sources.env["GEO_LOG_LEVEL"] = "debug";
  sources.flags = {{"retries", "0"}, {"interval", "0s"}};
  absl::StatusOr<UpdaterOptions> options = ResolveOptions(sources);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_TRUE(options->once);
  EXPECT_EQ(options->log_level, LogLevel::kDebug);
  EXPECT_EQ(options->retries, 1);  // 0 counts as 1.

  sources.env["GEO_UPDATER_ONCE"] = "false";
  EXPECT_THAT(std::string(ResolveOptions(sources).status().message()),
              HasSubstr("--interval must be positive"));
  for (const auto& [flag, value] :
       std::vector<std::pair<std::string, std::string>>{
           {"log_level", "loud"},
           {"output", "xml"},
           {"status_port", "65536"},
           {"interval_jitter", "2"},
           {"once", "perhaps"}}) {
    ConfigSources bad = WithCredentials();
    bad.flags = {{flag, value}};
    absl::Status status = ResolveOptions(bad).status();
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << flag;
    EXPECT_THAT(std::string(status.message()), HasSubstr("--" + flag));
    EXPECT_THAT(std::string(status.message()), HasSubstr(value));
  }
}

TEST(ConfigTest, DefaultsParseAndUsageNamesEverySetting) {
  settings::testing::ExpectDefaultsParseAndUsageNamesEverySetting(
      UpdaterSettings());
  const std::string usage = UpdaterSettings().Usage();
  EXPECT_THAT(usage, HasSubstr("GeoIP.conf: AccountID, UserId"));
  EXPECT_THAT(usage, HasSubstr("MAXMIND_LICENSE_KEY_FILE"));
}

TEST(ConfigTest, ParseGeoIpConf) {
  auto parsed = ParseGeoIpConf("A 1\n  # x\nB two words # c\n\n");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->at("A"), "1");
  EXPECT_EQ(parsed->at("B"), "two words");
  EXPECT_FALSE(ParseGeoIpConf("Lonely\n").ok());
}

}  // namespace
}  // namespace geo::updater

namespace geo::updater {
namespace {

TEST(ConfigGeoIpUpdateParityTest, GeoIpConfKeysOfGeoIpUpdate) {
  const std::string conf =
      WriteTemp("GeoIP-parity.conf",
                "AccountID 1\nLicenseKey k\nProxy 127.0.0.1:8888\n"
                "ProxyUserPassword user:proxy-secret\nPreserveFileTimes 0\n"
                "LockFile /run/geo/updater.lock\nRetryFor 5m\nParallelism 2\n");
  ConfigSources sources;
  sources.flags = {{"config", conf}};
  absl::StatusOr<UpdaterOptions> options = ResolveOptions(sources);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->proxy, "127.0.0.1:8888");
  EXPECT_EQ(options->proxy_user_password, "user:proxy-secret");
  EXPECT_FALSE(options->preserve_file_times);
  EXPECT_EQ(options->lock_file, "/run/geo/updater.lock");
  EXPECT_EQ(options->retry_for, absl::Minutes(5));
  EXPECT_EQ(options->parallelism, 2);

  // geoipupdate's variables too, above GeoIP.conf.
  sources.env = {{"GEOIPUPDATE_PROXY", "proxy.internal"},
                 {"GEOIPUPDATE_PARALLELISM", "3"}};
  options = ResolveOptions(sources);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->proxy, "proxy.internal");
  EXPECT_EQ(options->parallelism, 3);

  // Defaults: geo keeps release times, one edition at a time, no time
  // bound on retries beyond --retries.
  UpdaterOptions defaults;
  EXPECT_TRUE(defaults.preserve_file_times);
  EXPECT_EQ(defaults.parallelism, 1);
  EXPECT_EQ(defaults.retry_for, absl::ZeroDuration());
  EXPECT_FALSE(defaults.serve);
  EXPECT_EQ(defaults.serve_port, 8080);
}

TEST(ConfigGeoIpUpdateParityTest, UnknownGeoIpConfKeyIsAnErrorNamingIt) {
  const std::string conf =
      WriteTemp("GeoIP-typo.conf", "AccountID 1\nLicenseKey k\nProxyy p\n");
  ConfigSources sources;
  sources.flags = {{"config", conf}};
  absl::StatusOr<UpdaterOptions> options = ResolveOptions(sources);
  ASSERT_FALSE(options.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(options.status()));
  EXPECT_THAT(std::string(options.status().message()),
              HasSubstr("unknown GeoIP.conf key \"Proxyy\""));
}

TEST(ConfigServeTest, ServeSettingsAndTheirChecks) {
  ConfigSources sources = WithCredentials();
  sources.flags = {{"serve", "true"}, {"serve_port", "0"}};
  sources.env["GEO_UPDATER_SERVE_ACCOUNT_ID"] = "7";
  sources.env["GEO_UPDATER_SERVE_LICENSE_KEY"] = "serve-key";
  absl::StatusOr<UpdaterOptions> options = ResolveOptions(sources);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_TRUE(options->serve);
  EXPECT_EQ(options->serve_port, 0);
  EXPECT_EQ(options->serve_account_id, "7");
  EXPECT_EQ(options->serve_license_key, "serve-key");

  // An account without a key (or the reverse) would be a check nobody can
  // pass, or none at all: refused.
  sources.env.erase("GEO_UPDATER_SERVE_LICENSE_KEY");
  options = ResolveOptions(sources);
  ASSERT_FALSE(options.ok());
  EXPECT_THAT(std::string(options.status().message()),
              HasSubstr("go together"));
  EXPECT_THAT(std::string(options.status().message()),
              Not(HasSubstr("serve-key")));

  sources.env.erase("GEO_UPDATER_SERVE_ACCOUNT_ID");
  sources.flags["once"] = "true";
  options = ResolveOptions(sources);
  ASSERT_FALSE(options.ok());
  EXPECT_THAT(std::string(options.status().message()),
              HasSubstr("cannot be combined with --once"));
}

}  // namespace
}  // namespace geo::updater
