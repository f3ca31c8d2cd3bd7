#include "geo/http/gateway.h"

#include "absl/status/status.h"
#include "api/geo/v1/geo.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace geo::http {
namespace {

using ::testing::HasSubstr;

TEST(HttpStatusFromGrpcCodeTest, FollowsGrpcGatewayTable) {
  const std::pair<absl::StatusCode, int> expected[] = {
      {absl::StatusCode::kOk, 200},
      {absl::StatusCode::kCancelled, 499},
      {absl::StatusCode::kUnknown, 500},
      {absl::StatusCode::kInvalidArgument, 400},
      {absl::StatusCode::kDeadlineExceeded, 504},
      {absl::StatusCode::kNotFound, 404},
      {absl::StatusCode::kAlreadyExists, 409},
      {absl::StatusCode::kPermissionDenied, 403},
      {absl::StatusCode::kUnauthenticated, 401},
      {absl::StatusCode::kResourceExhausted, 429},
      {absl::StatusCode::kFailedPrecondition, 400},
      {absl::StatusCode::kAborted, 409},
      {absl::StatusCode::kOutOfRange, 400},
      {absl::StatusCode::kUnimplemented, 501},
      {absl::StatusCode::kInternal, 500},
      {absl::StatusCode::kUnavailable, 503},
      {absl::StatusCode::kDataLoss, 500},
  };
  for (const auto& [code, status] : expected) {
    EXPECT_EQ(HttpStatusFromGrpcCode(code), status) << code;
    EXPECT_EQ(HttpStatusFromGrpcCode(static_cast<grpc::StatusCode>(code)),
              status)
        << code;
  }
  EXPECT_EQ(HttpStatusFromGrpcCode(static_cast<absl::StatusCode>(99)), 500);
}

TEST(GatewayErrorBodyTest, IsGoogleRpcStatusWithDetails) {
  EXPECT_EQ(GatewayErrorBody(absl::StatusCode::kInvalidArgument, "bad \"ip\""),
            R"({"code":3,"message":"bad \"ip\"","details":[]})");
  EXPECT_EQ(GatewayErrorBody(absl::NotFoundError("Not Found")),
            R"({"code":5,"message":"Not Found","details":[]})");
}

TEST(MessageToGatewayJsonTest, UsesCamelCaseAndEmitsUnpopulatedFields) {
  geo::v1::CheckResponse response;
  response.set_ip("8.8.8.8");
  response.set_country_code("US");
  EXPECT_EQ(MessageToGatewayJson(response),
            R"({"ip":"8.8.8.8","allowed":false,"result":"","reason":"",)"
            R"("countryCode":"US","asn":0,"subdivisionCode":"","network":"",)"
            R"("policy":"","dryRun":false,"rule":""})");
}

TEST(MessageToGatewayJsonTest, PrintsInt64AsStringAndEmptyRepeatedAsList) {
  geo::v1::ListDatabasesResponse response;
  EXPECT_EQ(MessageToGatewayJson(response), R"({"databases":[]})");
  response.add_databases()->set_build_epoch(1700000000);
  EXPECT_THAT(MessageToGatewayJson(response),
              HasSubstr(R"("buildEpoch":"1700000000")"));
}

TEST(MessageToGatewayJsonTest, OmitsUnsetMessageFields) {
  geo::v1::LookupResponse response;
  response.set_ip("10.0.0.1");
  EXPECT_EQ(
      MessageToGatewayJson(response),
      R"({"ip":"10.0.0.1","network":"","found":false,"subdivisions":[]})");
}

TEST(GatewayJsonToMessageTest, ParsesCamelCaseAndProtoNames) {
  geo::v1::BatchLookupRequest request;
  ASSERT_TRUE(GatewayJsonToMessage(
                  R"({"ips":["1.2.3.4","::1"],"language":"de"})", &request)
                  .ok());
  EXPECT_THAT(request.ips(), ::testing::ElementsAre("1.2.3.4", "::1"));
  EXPECT_EQ(request.language(), "de");
}

TEST(GatewayJsonToMessageTest, EmptyBodyIsAnEmptyMessage) {
  geo::v1::BatchLookupRequest request;
  request.add_ips("stale");
  EXPECT_TRUE(GatewayJsonToMessage("  \n", &request).ok());
  EXPECT_EQ(request.ips_size(), 0);
}

TEST(GatewayJsonToMessageTest, RejectsUnknownFieldsMalformedJsonAndWrongTypes) {
  geo::v1::BatchLookupRequest request;
  for (const char* body : {R"({"ips":["1.2.3.4"],"color":"red"})",
                           R"({"ips":[)", R"({"language":{}})", "[1]"}) {
    const absl::Status status = GatewayJsonToMessage(body, &request);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << body;
    EXPECT_THAT(status.message(), HasSubstr("invalid JSON request body"));
    EXPECT_EQ(request.ips_size(), 0) << body;
  }
}

}  // namespace
}  // namespace geo::http
