#include "geo/server/server_options.h"

#include <map>
#include <string>
#include <vector>

#include "geo/common/settings_testing.h"
#include "geo/tls/tls_settings_testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace geo {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class ServerOptionsTest : public ::testing::Test {
 protected:
  absl::StatusOr<settings::Resolved<ServerOptions>> Resolve(
      std::vector<std::string> args) {
    args.insert(args.begin(), "geo_server");
    std::vector<const char*> argv;
    for (const std::string& arg : args) argv.push_back(arg.c_str());
    return ParseServerOptions(static_cast<int>(argv.size()), argv.data(), env_);
  }
  absl::StatusOr<ServerOptions> Parse(std::vector<std::string> args) {
    absl::StatusOr<settings::Resolved<ServerOptions>> resolved =
        Resolve(std::move(args));
    if (!resolved.ok()) return resolved.status();
    EXPECT_FALSE(resolved->help_requested);
    return resolved->options;
  }
  settings::Environment env_;
};

TEST_F(ServerOptionsTest, DefaultsMatchTheDocumentedPorts) {
  absl::StatusOr<ServerOptions> options = Parse({"--db=/data/City.mmdb"});
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->listen_address, "0.0.0.0");
  EXPECT_EQ(options->grpc_port, 50051);
  EXPECT_EQ(options->http_port, 8080);
  EXPECT_EQ(options->metrics_port, 9090);
  EXPECT_EQ(options->health_port, 8081);
  EXPECT_EQ(options->poll_interval, absl::Seconds(1));
  EXPECT_EQ(options->drain_delay, absl::Seconds(5));
  EXPECT_EQ(options->http_max_body_bytes, 1 << 20);
  EXPECT_EQ(options->edge_header_prefix, "X-Geo-");
  EXPECT_EQ(options->log_level, LogLevel::kInfo);
}

TEST_F(ServerOptionsTest, ADefaultConstructedStructHoldsTheTableDefaults) {
  ServerOptions options;
  EXPECT_EQ(options.grpc_port, 50051);
  EXPECT_EQ(options.max_batch_size, 1000);
  EXPECT_EQ(options.http_request_timeout, absl::Seconds(10));
  EXPECT_TRUE(options.db_paths.empty());
}

TEST_F(ServerOptionsTest, EnvironmentSetsAndFlagsOverride) {
  env_["GEO_DB_PATHS"] = "/data/City.mmdb, /data/ASN.mmdb";
  env_["GEO_HTTP_PORT"] = "9000";
  env_["GEO_DRAIN_DELAY"] = "0s";
  env_["GEO_TRUSTED_PROXIES"] = "10.0.0.0/8,192.168.0.0/16";
  env_["GEO_LOG_LEVEL"] = "debug";
  env_["GEO_GRPC_PORT"] = "";  // Empty: unset.
  absl::StatusOr<ServerOptions> options =
      Parse({"--http_port=9100", "--poll_interval", "250ms"});
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_THAT(options->db_paths,
              ElementsAre("/data/City.mmdb", "/data/ASN.mmdb"));
  EXPECT_EQ(options->http_port, 9100);
  EXPECT_EQ(options->grpc_port, 50051);
  EXPECT_EQ(options->drain_delay, absl::ZeroDuration());
  EXPECT_EQ(options->poll_interval, absl::Milliseconds(250));
  EXPECT_THAT(options->trusted_proxies,
              ElementsAre("10.0.0.0/8", "192.168.0.0/16"));
  EXPECT_EQ(options->log_level, LogLevel::kDebug);
}

TEST_F(ServerOptionsTest, BooleanFlagsTakeBareAndNegatedForms) {
  EXPECT_TRUE(Parse({"--db=a", "--allow_type_change"})->allow_type_change);
  env_["GEO_ALLOW_TYPE_CHANGE"] = "true";
  EXPECT_TRUE(Parse({"--db=a"})->allow_type_change);
  EXPECT_FALSE(Parse({"--db=a", "--noallow_type_change"})->allow_type_change);
}

TEST_F(ServerOptionsTest, BadValuesNameTheirSource) {
  env_["GEO_GRPC_PORT"] = "70000";
  std::string message(Parse({"--db=a"}).status().message());
  EXPECT_THAT(message, HasSubstr("GEO_GRPC_PORT=\"70000\""));
  EXPECT_THAT(message, HasSubstr("--grpc_port"));
}

TEST_F(ServerOptionsTest, BadArgumentsSayWhatIsWrong) {
  const struct {
    const char* argument;
    const char* message;
  } kCases[] = {
      {"--poll_interval=soon", "--poll_interval"},
      {"--poll_interval=0s", "positive"},
      {"--log_level=loud", "loud"},
      {"--max_batch_size=0", "from 1 to 100000"},
      {"--health_port=65536", "from 0 to 65535"},
      {"--bogus=1", "unknown flag --bogus"},
      {"stray", "unexpected argument"},
      {"--http_port", "needs a value"},
  };
  for (const auto& bad : kCases) {
    SCOPED_TRACE(bad.argument);
    EXPECT_THAT(Parse({"--db=a", bad.argument}).status().message(),
                HasSubstr(bad.message));
  }
}

TEST_F(ServerOptionsTest, DatabaseIsRequired) {
  EXPECT_THAT(Parse({}).status().message(), HasSubstr("GEO_DB_PATHS"));
}

TEST_F(ServerOptionsTest, HelpIsNotAnError) {
  env_["GEO_GRPC_PORT"] = "not a port";  // Not looked at.
  absl::StatusOr<settings::Resolved<ServerOptions>> help = Resolve({"--help"});
  ASSERT_TRUE(help.ok()) << help.status();
  EXPECT_TRUE(help->help_requested);
}

TEST_F(ServerOptionsTest, TlsFlagsAndVariablesFillTheListenersTlsOptions) {
  tls::testing::ExpectTlsRowsFillTheirFields(
      ServerSettings(), &ServerOptions::tls,
      {"tls_cert_file", "tls_key_file", "tls_client_ca_file", "tls_client_auth",
       "tls_min_version"});
}

TEST_F(ServerOptionsTest, DefaultsParseAndUsageListsEveryFlagAndVariable) {
  settings::testing::ExpectDefaultsParseAndUsageNamesEverySetting(
      ServerSettings());
  EXPECT_EQ(ServerUsage(), ServerSettings().Usage());
  // Each server setting has exactly one variable, and none is a secret.
  for (const settings::SettingSpec& spec : ServerSettings().specs()) {
    EXPECT_EQ(spec.env.size(), 1u) << spec.flag;
    EXPECT_FALSE(spec.secret) << spec.flag;
  }
}

}  // namespace
}  // namespace geo
