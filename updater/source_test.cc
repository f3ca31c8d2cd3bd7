#include "updater/source.h"

#include "gtest/gtest.h"

namespace geo::updater {
namespace {

absl::Status Map(int code, std::string retry_after = "") {
  HttpResponse response;
  response.status = code;
  response.retry_after = std::move(retry_after);
  return StatusForHttpResponse(
      response, "test", absl::FromUnixSeconds(1715083200), absl::Minutes(10));
}

TEST(StatusForHttpResponseTest, MapsStatuses) {
  EXPECT_TRUE(Map(200).ok());
  EXPECT_TRUE(absl::IsUnauthenticated(Map(401)));
  EXPECT_EQ(FailureReasonOf(Map(401)), "auth");
  EXPECT_FALSE(IsTransient(Map(401)));
  EXPECT_TRUE(absl::IsNotFound(Map(404)));
  EXPECT_FALSE(IsTransient(Map(400)));
  EXPECT_TRUE(IsTransient(Map(500)));
  EXPECT_TRUE(IsTransient(Map(503)));
  EXPECT_TRUE(IsTransient(Map(408)));
}

TEST(StatusForHttpResponseTest, RateLimits) {
  absl::Status short_wait = Map(429, "5");
  EXPECT_TRUE(IsTransient(short_wait));
  EXPECT_EQ(RetryAfterOf(short_wait), absl::Seconds(5));
  EXPECT_EQ(FailureReasonOf(short_wait), "rate_limited");

  absl::Status daily_limit = Map(429, "86400");
  EXPECT_FALSE(IsTransient(daily_limit));
  EXPECT_NE(daily_limit.message().find("download limit"),
            absl::string_view::npos);
  EXPECT_FALSE(IsTransient(Map(429)));
}

TEST(FailureReasonTest, DefaultsByCode) {
  EXPECT_EQ(FailureReasonOf(absl::UnavailableError("")), "network");
  EXPECT_EQ(FailureReasonOf(absl::DeadlineExceededError("")), "timeout");
  EXPECT_EQ(FailureReasonOf(absl::ResourceExhaustedError("")), "disk");
  EXPECT_EQ(FailureReasonOf(absl::AbortedError("")), "lock");
  EXPECT_EQ(
      FailureReasonOf(WithFailureReason(absl::DataLossError(""), "checksum")),
      "checksum");
}

}  // namespace
}  // namespace geo::updater
