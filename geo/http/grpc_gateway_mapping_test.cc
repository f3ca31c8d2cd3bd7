#include "geo/http/grpc_gateway_mapping.h"

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "api/geo/v1/geo.pb.h"
#include "geo/http/gateway_json_testing.h"
#include "geo/policy/policy_config.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/status.pb.h"
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

TEST(MessageToGatewayJsonTest, EveryFieldSetIsByteForByteTheCppPrinter) {
  const geo::v1::LookupResponse response = FullLookupResponse();
  EXPECT_EQ(MessageToGatewayJson(response), CppPrinterJson(response));
  ExpectProtojson(response);
}

TEST(MessageToGatewayJsonTest, UnsetMessageFieldsAreNullInDeclarationOrder) {
  geo::v1::LookupResponse response;
  response.set_ip("10.0.0.1");
  ExpectProtojson(response);
  const std::string json = MessageToGatewayJson(response);
  // Every message field of the response, each where it is declared.
  size_t previous = 0;
  for (int i = 0; i < response.GetDescriptor()->field_count(); ++i) {
    const auto* field = response.GetDescriptor()->field(i);
    const size_t at = json.find(absl::StrCat("\"", field->json_name(), "\":"));
    ASSERT_NE(at, std::string::npos) << field->json_name() << " in " << json;
    EXPECT_GT(at, previous) << field->json_name();
    previous = at;
    if (field->message_type() != nullptr && !field->is_repeated()) {
      EXPECT_EQ(json.substr(at + field->json_name().size() + 3, 4), "null");
    }
  }
}

TEST(MessageToGatewayJsonTest, EveryHttpResponseTypeMatchesProtojson) {
  for (const auto& sample : HttpAnswerSamples()) {
    SCOPED_TRACE(sample->ShortDebugString());
    ExpectProtojson(*sample);
  }
  google::rpc::Status status;
  status.set_code(5);
  status.set_message("Not Found");
  EXPECT_EQ(GatewayErrorBody(absl::NotFoundError("Not Found")),
            MessageToGatewayJson(status));
}

TEST(MessageToGatewayJsonTest, MapsAreObjectsInKeyOrder) {
  geo::policy::PolicyFile policy_file;
  for (const char* name : {"open", "audit", "strict", "Zulu", "b"}) {
    (*policy_file.mutable_policies())[name].set_default_action(name);
  }
  const std::string json = MessageToGatewayJson(policy_file);
  // By code point: upper case before lower case.
  size_t previous = 0;
  for (const char* name : {"Zulu", "audit", "b", "open", "strict"}) {
    const size_t at = json.find(absl::StrCat("\"", name, "\":{"));
    ASSERT_NE(at, std::string::npos) << name << " in " << json;
    EXPECT_GT(at, previous) << name << " in " << json;
    previous = at;
  }
  ExpectProtojson(policy_file);
}

// What is fixed per type is planned once; what a message holds is read from
// each message. Messages of each type that differ in every way a plan could
// wrongly remember (which optional fields are set, which message fields are
// null, list lengths, string lengths), written in turn, and one message
// changed between two writings at the same address.
TEST(MessageToGatewayJsonTest, EachMessageIsReadNotRememberedFromAnEarlierOne) {
  const std::vector<std::unique_ptr<google::protobuf::Message>> samples =
      HttpAnswerSamples();
  for (int round = 0; round < 2; ++round) {
    for (const auto& sample : samples) {
      SCOPED_TRACE(sample->ShortDebugString());
      ExpectProtojson(*sample);
    }
  }
  geo::v1::LookupResponse response = FullLookupResponse();
  const std::string full = MessageToGatewayJson(response);
  response.clear_city();
  response.mutable_traits()->clear_isp();
  response.mutable_subdivisions()->RemoveLast();
  response.set_network("81.2.69.0/24");
  const std::string changed = MessageToGatewayJson(response);
  EXPECT_NE(changed, full);
  EXPECT_THAT(changed, HasSubstr(R"("city":null)"));
  ExpectProtojson(response);
}

// A DynamicMessage of a generated type shares the type's plan but not its
// generated class: its fields are read through its own Reflection.
TEST(MessageToGatewayJsonTest, DynamicMessagesOfGeneratedTypesMatch) {
  google::protobuf::DynamicMessageFactory factory;
  for (const auto& sample : HttpAnswerSamples()) {
    SCOPED_TRACE(sample->ShortDebugString());
    std::unique_ptr<google::protobuf::Message> dynamic(
        factory.GetPrototype(sample->GetDescriptor())->New());
    ASSERT_TRUE(dynamic->ParseFromString(sample->SerializeAsString()));
    ASSERT_NE(dynamic->GetReflection(), sample->GetReflection());
    // Generated, dynamic, generated: whichever comes first must not decide
    // how the others are read.
    const std::string generated = MessageToGatewayJson(*sample);
    EXPECT_EQ(MessageToGatewayJson(*dynamic), generated);
    EXPECT_EQ(MessageToGatewayJson(*sample), generated);
    ExpectProtojson(*dynamic);
  }
}

// Copies `file` and the files it imports into `pool`.
void CopyWithImports(const google::protobuf::FileDescriptor* file,
                     google::protobuf::DescriptorPool* pool) {
  if (pool->FindFileByName(file->name()) != nullptr) return;
  for (int i = 0; i < file->dependency_count(); ++i) {
    CopyWithImports(file->dependency(i), pool);
  }
  google::protobuf::FileDescriptorProto copy;
  file->CopyTo(&copy);
  ASSERT_NE(pool->BuildFile(copy), nullptr) << file->name();
}

// A type built at run time, in a pool of its own, is written as the
// generated type of the same definition is.
TEST(MessageToGatewayJsonTest, TypesOfOtherPoolsMatch) {
  google::protobuf::DescriptorPool pool;
  CopyWithImports(geo::v1::LookupResponse::descriptor()->file(), &pool);
  const google::protobuf::Descriptor* descriptor =
      pool.FindMessageTypeByName("geo.v1.LookupResponse");
  ASSERT_NE(descriptor, nullptr);
  google::protobuf::DynamicMessageFactory factory(&pool);
  for (const geo::v1::LookupResponse& sample :
       {FullLookupResponse(), geo::v1::LookupResponse()}) {
    std::unique_ptr<google::protobuf::Message> response(
        factory.GetPrototype(descriptor)->New());
    ASSERT_TRUE(response->ParseFromString(sample.SerializeAsString()));
    EXPECT_EQ(MessageToGatewayJson(*response), MessageToGatewayJson(sample));
  }
}

TEST(MessageToGatewayJsonTest, NumbersReadBackExactly) {
  geo::v1::Location location;
  for (const double value : {0.0, -0.0931, 51.5142, 0.1 + 0.2, 1e-7, 2.5e-7,
                             1e21, 123456789.125, -1e300, 5e-324}) {
    location.set_latitude(value);
    const std::string json = MessageToGatewayJson(location);
    geo::v1::Location parsed;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &parsed).ok())
        << json;
    EXPECT_EQ(parsed.latitude(), value) << json;
    // protojson's forms: e-notation only outside [1e-6, 1e21), and an
    // exponent without a leading zero.
    const bool scientific =
        value != 0 && (std::fabs(value) < 1e-6 || std::fabs(value) >= 1e21);
    const size_t start = json.find(':') + 1;
    const std::string text = json.substr(start, json.find(',') - start);
    EXPECT_EQ(absl::StrContains(text, "e"), scientific) << text;
    EXPECT_FALSE(absl::StrContains(text, "e-0")) << text;
  }
}

TEST(MessageToGatewayJsonTest, EscapesOnlyQuotesBackslashesAndControls) {
  geo::v1::CheckResponse check;
  const std::string reason =
      "a <b> & \"c\" \\ d\n\x01 caf\xc3\xa9 \xe2\x80\xa8";
  check.set_reason(reason);
  const std::string json = MessageToGatewayJson(check);
  geo::v1::CheckResponse parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &parsed).ok());
  EXPECT_EQ(parsed.reason(), reason);
  // Go's protojson copies '<', '>', '&' and non-ASCII text as is.
  EXPECT_THAT(json,
              HasSubstr("a <b> & \\\"c\\\" \\\\ d\\n\\u0001 caf\xc3\xa9"));
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
