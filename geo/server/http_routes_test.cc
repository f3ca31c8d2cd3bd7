#include "geo/server/http_routes.h"

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/geo/v1/geo.pb.h"
#include "geo/common/ip_address.h"
#include "geo/http/http_message.h"
#include "geo/http/router.h"
#include "geo/server/lookup_service.h"
#include "geo/server/lookup_service_harness.h"
#include "gmock/gmock.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "tests/support/proto_json.h"
#include "tests/support/test_files.h"

namespace geo {
namespace {

using ::geo::testing::MaxmindTestDataFile;
using ::geo::testing::ParseJson;
using ::testing::HasSubstr;

constexpr int kMaxBatchSize = 3;

// BuildHttpRoutes driven in-process: HttpRequest objects into the Router, a
// real LookupService over MaxMind's City test database behind it (the
// harness trusts no proxy at 127.0.0.1, so the caller is the peer).
class HttpRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<CityTestAddresses> city = LoadCityTestAddresses();
    ASSERT_TRUE(city.ok()) << city.status();
    located_ip_ = city->located;
    country_ = city->country;

    LookupService::Options options;
    options.max_batch_size = kMaxBatchSize;
    auto harness = LookupServiceHarness::Create(
        MaxmindTestDataFile("GeoIP2-City-Test.mmdb"),
        absl::StrCat("policies:\n"
                     "  default:\n"
                     "    default_action: allow\n"
                     "    deny: {countries: [",
                     country_, "]}\n"),
        options);
    ASSERT_TRUE(harness.ok()) << harness.status();
    harness_ = *std::move(harness);
    auto router =
        BuildHttpRoutes(harness_->service(), [this] { return ready_.load(); });
    ASSERT_TRUE(router.ok()) << router.status();
    router_ = *std::move(router);
  }

  http::HttpResponse Call(absl::string_view method, absl::string_view target,
                          absl::string_view body = "") {
    const http::HttpHeaderList headers;
    http::HttpResponse response;
    router_->Handle(
        http::HttpRequest(method, target, &headers, body, "127.0.0.1"),
        &response);
    return response;
  }

  // An error answer: its status, JSON content type and grpc-gateway body.
  static void ExpectError(const http::HttpResponse& response, int http_status,
                          absl::StatusCode code) {
    EXPECT_EQ(response.status(), http_status) << response.body();
    EXPECT_EQ(response.content_type(), "application/json");
    const auto status = ParseJson<google::rpc::Status>(response.body());
    EXPECT_EQ(status.code(), static_cast<int>(code)) << response.body();
    EXPECT_FALSE(status.message().empty()) << response.body();
    EXPECT_THAT(response.body(), HasSubstr("\"details\":[]"));
  }

  std::string located_ip_;
  std::string country_;
  std::atomic<bool> ready_{true};

  std::unique_ptr<LookupServiceHarness> harness_;
  std::unique_ptr<http::Router> router_;
};

TEST_F(HttpRoutesTest, LookupAnswersTheRecordAsJson) {
  const http::HttpResponse response =
      Call("GET", absl::StrCat("/v1/lookup/", located_ip_));
  EXPECT_EQ(response.status(), 200) << response.body();
  EXPECT_EQ(response.content_type(), "application/json");
  const auto answer = ParseJson<geo::v1::LookupResponse>(response.body());
  EXPECT_EQ(answer.ip(), IpAddress::Parse(located_ip_)->ToString());
  EXPECT_EQ(answer.country().iso_code(), country_);
}

TEST_F(HttpRoutesTest, LookupOfABadAddressIs400) {
  ExpectError(Call("GET", "/v1/lookup/not-an-address"), 400,
              absl::StatusCode::kInvalidArgument);
}

TEST_F(HttpRoutesTest, BatchLookupAnswersEachAddress) {
  const http::HttpResponse response = Call(
      "POST", "/v1/lookup:batch",
      absl::StrCat(R"({"ips":[")", located_ip_, R"(","not-an-address"]})"));
  EXPECT_EQ(response.status(), 200) << response.body();
  EXPECT_EQ(response.content_type(), "application/json");
  const auto batch = ParseJson<geo::v1::BatchLookupResponse>(response.body());
  ASSERT_EQ(batch.results_size(), 2) << response.body();
  EXPECT_EQ(batch.results(0).response().country().iso_code(), country_);
  EXPECT_EQ(batch.results(1).ip(), "not-an-address");
  EXPECT_EQ(batch.results(1).error_code(),
            static_cast<int>(absl::StatusCode::kInvalidArgument));
}

TEST_F(HttpRoutesTest, BatchOverTheLimitOrMalformedIs400) {
  std::string ips;
  for (int i = 0; i <= kMaxBatchSize; ++i) {
    absl::StrAppend(&ips, i > 0 ? "," : "", "\"", located_ip_, "\"");
  }
  const http::HttpResponse over =
      Call("POST", "/v1/lookup:batch", absl::StrCat(R"({"ips":[)", ips, "]}"));
  ExpectError(over, 400, absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(over.body(), HasSubstr(absl::StrCat("at most ", kMaxBatchSize)));
  // Counted before the body is parsed: an over-long batch is refused for
  // its length even when the rest of the body would not parse.
  const http::HttpResponse over_and_malformed =
      Call("POST", "/v1/lookup:batch",
           absl::StrCat(R"({"ips":[)", ips, R"(],"color":"red"})"));
  ExpectError(over_and_malformed, 400, absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(over_and_malformed.body(),
              HasSubstr(absl::StrCat("at most ", kMaxBatchSize)));
  ExpectError(Call("POST", "/v1/lookup:batch", R"({"ips":[)"), 400,
              absl::StatusCode::kInvalidArgument);
  ExpectError(Call("POST", "/v1/lookup:batch", R"({"color":"red"})"), 400,
              absl::StatusCode::kInvalidArgument);
}

TEST_F(HttpRoutesTest, CheckAppliesTheNamedPolicy) {
  const http::HttpResponse response =
      Call("GET", absl::StrCat("/v1/check/", located_ip_, "?policy=default"));
  EXPECT_EQ(response.status(), 200) << response.body();
  EXPECT_EQ(response.content_type(), "application/json");
  const auto check = ParseJson<geo::v1::CheckResponse>(response.body());
  EXPECT_FALSE(check.allowed()) << response.body();
  EXPECT_THAT(check.reason(), HasSubstr(country_));

  ExpectError(Call("GET", absl::StrCat("/v1/check/", located_ip_,
                                       "?policy=no-such-policy")),
              400, absl::StatusCode::kInvalidArgument);
}

TEST_F(HttpRoutesTest, DatabasesListsTheLoadedFile) {
  const http::HttpResponse response = Call("GET", "/v1/databases");
  EXPECT_EQ(response.status(), 200) << response.body();
  EXPECT_EQ(response.content_type(), "application/json");
  const auto list = ParseJson<geo::v1::ListDatabasesResponse>(response.body());
  ASSERT_EQ(list.databases_size(), 1) << response.body();
  EXPECT_EQ(list.databases(0).path(),
            MaxmindTestDataFile("GeoIP2-City-Test.mmdb"));
}

TEST_F(HttpRoutesTest, UnknownPathIs404AndWrongMethodIs501) {
  ExpectError(Call("GET", "/v1/nothing-here"), 404,
              absl::StatusCode::kNotFound);
  // grpc-gateway answers a known path with another method UNIMPLEMENTED.
  ExpectError(Call("POST", "/v1/databases"), 501,
              absl::StatusCode::kUnimplemented);
  ExpectError(Call("DELETE", "/healthz"), 501,
              absl::StatusCode::kUnimplemented);
}

TEST_F(HttpRoutesTest, HealthzIsAlways200AndReadyzFollowsReady) {
  for (const bool ready : {true, false, true}) {
    ready_ = ready;
    const http::HttpResponse health = Call("GET", "/healthz");
    EXPECT_EQ(health.status(), 200);
    EXPECT_EQ(health.content_type(), "application/json");
    EXPECT_EQ(health.body(), R"({"status":"ok"})");
    const http::HttpResponse readiness = Call("GET", "/readyz");
    EXPECT_EQ(readiness.status(), ready ? 200 : 503) << ready;
    EXPECT_EQ(readiness.content_type(), "application/json");
    EXPECT_EQ(readiness.body(),
              ready ? R"({"status":"ready"})" : R"({"status":"not ready"})");
  }
}

TEST_F(HttpRoutesTest, AuthorizeIsRouted) {
  const http::HttpResponse response = Call("GET", "/v1/authorize");
  // The caller is 127.0.0.1 (no proxy is trusted): no country, allowed by
  // the default policy's default action.
  EXPECT_EQ(response.status(), 200) << response.body();
  EXPECT_THAT(response.body(), HasSubstr("\"allowed\":true"));
}

}  // namespace
}  // namespace geo
