#include "geo/common/logging.h"

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace geo {
namespace {

using ::testing::HasSubstr;

class LoggingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SetLogSinkForTesting(
        [this](absl::string_view line) { lines_.emplace_back(line); });
    SetMinLogLevel(LogLevel::kInfo);
  }
  void TearDown() override {
    SetLogSinkForTesting(nullptr);
    SetMinLogLevel(LogLevel::kInfo);
  }

  // Parses a line with protobuf's JSON parser: a real JSON reader, not ours.
  google::protobuf::Struct Parse(const std::string& line) {
    google::protobuf::Struct parsed;
    auto status = google::protobuf::util::JsonStringToMessage(line, &parsed);
    EXPECT_TRUE(status.ok()) << status.ToString() << " in " << line;
    return parsed;
  }

  std::vector<std::string> lines_;
};

TEST_F(LoggingTest, WritesOneParseableJsonObjectPerLine) {
  Log(LogLevel::kInfo, "Database reloaded",
      {{"path", "/data/a \"quoted\"\n\\name\x01.mmdb"},
       {"build_epoch", int64_t{1700000000}},
       {"duration", absl::Milliseconds(1500)},
       {"ok", true}});
  ASSERT_EQ(lines_.size(), 1u);
  ASSERT_EQ(lines_[0].back(), '\n');
  EXPECT_EQ(lines_[0].find('\n'), lines_[0].size() - 1);
  google::protobuf::Struct parsed = Parse(lines_[0]);
  const auto& fields = parsed.fields();
  EXPECT_EQ(fields.at("level").string_value(), "info");
  EXPECT_EQ(fields.at("msg").string_value(), "Database reloaded");
  EXPECT_EQ(fields.at("path").string_value(),
            "/data/a \"quoted\"\n\\name\x01.mmdb");
  EXPECT_EQ(fields.at("build_epoch").number_value(), 1700000000);
  EXPECT_EQ(fields.at("duration").number_value(), 1.5);
  EXPECT_TRUE(fields.at("ok").bool_value());
  EXPECT_THAT(fields.at("ts").string_value(), HasSubstr("T"));
}

TEST_F(LoggingTest, DropsLinesBelowTheMinimumLevel) {
  SetMinLogLevel(LogLevel::kWarn);
  Log(LogLevel::kInfo, "hidden");
  Log(LogLevel::kDebug, "hidden");
  Log(LogLevel::kError, "shown");
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_EQ(Parse(lines_[0]).fields().at("level").string_value(), "error");
}

TEST_F(LoggingTest, StatusFieldCarriesCodeAndMessage) {
  Log(LogLevel::kWarn, "reload failed",
      {{"error", absl::NotFoundError("no such file")}});
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_EQ(Parse(lines_[0]).fields().at("error").string_value(),
            "NOT_FOUND: no such file");
}

TEST(ParseLogLevelTest, AcceptsTheDocumentedNamesOnly) {
  EXPECT_EQ(*ParseLogLevel("debug"), LogLevel::kDebug);
  EXPECT_EQ(*ParseLogLevel("INFO"), LogLevel::kInfo);
  EXPECT_EQ(*ParseLogLevel("warn"), LogLevel::kWarn);
  EXPECT_EQ(*ParseLogLevel("warning"), LogLevel::kWarn);
  EXPECT_EQ(*ParseLogLevel("error"), LogLevel::kError);
  EXPECT_EQ(ParseLogLevel("verbose").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace geo
