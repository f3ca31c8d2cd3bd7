#include "geo/server/server_options.h"

#include <map>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace geo {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class ServerOptionsTest : public ::testing::Test {
 protected:
  absl::StatusOr<ServerOptions> Parse(std::vector<std::string> args) {
    args.insert(args.begin(), "geo_server");
    std::vector<const char*> argv;
    for (const std::string& arg : args) argv.push_back(arg.c_str());
    return ParseServerOptions(
        static_cast<int>(argv.size()), argv.data(), [this](const char* name) {
          auto it = env_.find(name);
          return it == env_.end() ? nullptr : it->second.c_str();
        });
  }
  std::map<std::string, std::string> env_;
};

TEST_F(ServerOptionsTest, DefaultsMatchTheDocumentedPorts) {
  absl::StatusOr<ServerOptions> options = Parse({"--db=/data/City.mmdb"});
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->grpc_port, 50051);
  EXPECT_EQ(options->http_port, 8080);
  EXPECT_EQ(options->metrics_port, 9090);
  EXPECT_EQ(options->poll_interval, absl::Seconds(1));
  EXPECT_EQ(options->drain_delay, absl::Seconds(5));
  EXPECT_EQ(options->log_level, LogLevel::kInfo);
}

TEST_F(ServerOptionsTest, EnvironmentSetsAndFlagsOverride) {
  env_["GEO_DB_PATHS"] = "/data/City.mmdb, /data/ASN.mmdb";
  env_["GEO_HTTP_PORT"] = "9000";
  env_["GEO_DRAIN_DELAY"] = "0s";
  env_["GEO_TRUSTED_PROXIES"] = "10.0.0.0/8,192.168.0.0/16";
  env_["GEO_LOG_LEVEL"] = "debug";
  absl::StatusOr<ServerOptions> options =
      Parse({"--http_port=9100", "--poll_interval", "250ms"});
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_THAT(options->db_paths,
              ElementsAre("/data/City.mmdb", "/data/ASN.mmdb"));
  EXPECT_EQ(options->http_port, 9100);
  EXPECT_EQ(options->drain_delay, absl::ZeroDuration());
  EXPECT_EQ(options->poll_interval, absl::Milliseconds(250));
  EXPECT_THAT(options->trusted_proxies,
              ElementsAre("10.0.0.0/8", "192.168.0.0/16"));
  EXPECT_EQ(options->log_level, LogLevel::kDebug);
}

TEST_F(ServerOptionsTest, BooleanFlagsTakeBareAndNegatedForms) {
  EXPECT_TRUE(Parse({"--db=a", "--allow_type_change"})->allow_type_change);
  env_["GEO_ALLOW_TYPE_CHANGE"] = "true";
  EXPECT_FALSE(Parse({"--db=a", "--noallow_type_change"})->allow_type_change);
}

TEST_F(ServerOptionsTest, BadValuesNameTheirSource) {
  env_["GEO_GRPC_PORT"] = "70000";
  EXPECT_THAT(Parse({"--db=a"}).status().message(), HasSubstr("GEO_GRPC_PORT"));
  env_.clear();
  EXPECT_THAT(Parse({"--db=a", "--poll_interval=soon"}).status().message(),
              HasSubstr("--poll_interval"));
  EXPECT_THAT(Parse({"--db=a", "--log_level=loud"}).status().message(),
              HasSubstr("loud"));
  EXPECT_THAT(Parse({"--db=a", "--bogus=1"}).status().message(),
              HasSubstr("unknown flag --bogus"));
  EXPECT_THAT(Parse({"--db=a", "stray"}).status().message(),
              HasSubstr("unexpected argument"));
  EXPECT_THAT(Parse({"--db=a", "--http_port"}).status().message(),
              HasSubstr("needs a value"));
}

TEST_F(ServerOptionsTest, DatabaseIsRequired) {
  EXPECT_THAT(Parse({}).status().message(), HasSubstr("GEO_DB_PATHS"));
}

TEST_F(ServerOptionsTest, HelpListsEveryFlagAndVariable) {
  absl::Status help = Parse({"--help"}).status();
  EXPECT_EQ(help.code(), absl::StatusCode::kNotFound);
  for (const SettingName& name : ServerSettings()) {
    EXPECT_THAT(help.message(), HasSubstr(absl::StrCat("--", name.flag)));
    EXPECT_THAT(help.message(), HasSubstr(name.env));
  }
}

}  // namespace
}  // namespace geo
