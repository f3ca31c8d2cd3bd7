#include "geo/http/grpc_gateway_mapping.h"

#include <cmath>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "api/geo/v1/geo.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
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

// What protobuf's own C++ printer writes with always_print_primitive_fields
// (the mapping's names, defaults, int64 as strings, enums by name).
std::string CppPrinterJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  std::string json;
  EXPECT_TRUE(
      google::protobuf::util::MessageToJsonString(message, &json, options)
          .ok());
  return json;
}

google::protobuf::Value ParseJson(const std::string& json) {
  google::protobuf::Value value;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &value).ok())
      << json;
  return value;
}

// Where protojson's EmitUnpopulated differs from the C++ printer: an unset
// singular message field is null rather than absent, and an unset field of
// a oneof (proto3 `optional` too) is absent.
void ApplyProtojsonRules(const google::protobuf::Message& message,
                         google::protobuf::Struct* json) {
  const auto* descriptor = message.GetDescriptor();
  const auto* reflection = message.GetReflection();
  auto& fields = *json->mutable_fields();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const auto* field = descriptor->field(i);
    const std::string& name = field->json_name();
    const bool is_message =
        field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE;
    if (field->is_repeated()) {
      if (!is_message || field->is_map()) continue;
      auto* list = fields[name].mutable_list_value();
      for (int j = 0; j < reflection->FieldSize(message, field); ++j) {
        ApplyProtojsonRules(reflection->GetRepeatedMessage(message, field, j),
                            list->mutable_values(j)->mutable_struct_value());
      }
    } else if (field->containing_oneof() != nullptr &&
               !reflection->HasField(message, field)) {
      fields.erase(name);
    } else if (is_message && !reflection->HasField(message, field)) {
      fields[name].set_null_value(google::protobuf::NULL_VALUE);
    } else if (is_message) {
      ApplyProtojsonRules(reflection->GetMessage(message, field),
                          fields[name].mutable_struct_value());
    }
  }
}

// `"name":null` members taken out, to compare the rest byte for byte. (No
// string in these tests contains that text.)
std::string WithoutNulls(std::string json) {
  for (size_t at = json.find("\":null"); at != std::string::npos;
       at = json.find("\":null")) {
    const size_t name_start = json.rfind('"', at - 1);
    const size_t end = at + 6;  // Past `":null`.
    if (json[name_start - 1] == ',') {
      json.erase(name_start - 1, end - (name_start - 1));
    } else {  // First in its object: drop the comma after it instead.
      json.erase(name_start, end - name_start + (json[end] == ',' ? 1 : 0));
    }
  }
  return json;
}

// Checks MessageToGatewayJson against the C++ printer plus the protojson
// rules, parsed (every member and value) and byte for byte once the nulls
// are taken out (member order, number and string forms).
void ExpectProtojson(const google::protobuf::Message& message) {
  const std::string ours = MessageToGatewayJson(message);
  google::protobuf::Value expected = ParseJson(CppPrinterJson(message));
  ApplyProtojsonRules(message, expected.mutable_struct_value());
  google::protobuf::util::MessageDifferencer differencer;
  std::string difference;
  differencer.ReportDifferencesToString(&difference);
  EXPECT_TRUE(differencer.Compare(ParseJson(ours), expected))
      << difference << "\nours: " << ours;
  EXPECT_EQ(WithoutNulls(ours), WithoutNulls(CppPrinterJson(message)));
}

geo::v1::LookupResponse FullLookupResponse() {
  geo::v1::LookupResponse response;
  response.set_ip("81.2.69.142");
  response.set_network("81.2.69.142/31");
  response.set_found(true);
  response.mutable_continent()->set_code("EU");
  response.mutable_continent()->set_geoname_id(6255148);
  response.mutable_continent()->set_name("Europe");
  for (auto* country :
       {response.mutable_country(), response.mutable_registered_country()}) {
    country->set_iso_code("GB");
    country->set_geoname_id(2635167);
    country->set_name("United Kingdom");
    country->set_confidence(80);
  }
  response.mutable_represented_country()->set_iso_code("US");
  response.mutable_represented_country()->set_type("military");
  for (const char* code : {"ENG", "WBK"}) {
    auto* subdivision = response.add_subdivisions();
    subdivision->set_iso_code(code);
    subdivision->set_geoname_id(6269131);
    subdivision->set_name("England");
    subdivision->set_confidence(50);
  }
  response.mutable_city()->set_geoname_id(2643743);
  response.mutable_city()->set_name("London");
  response.mutable_city()->set_confidence(0);
  auto* location = response.mutable_location();
  location->set_latitude(51.5142);
  location->set_longitude(-0.0931);
  location->set_accuracy_radius(10);
  location->set_time_zone("Europe/London");
  location->set_average_income(30000);
  location->set_population_density(5000);
  response.mutable_postal()->set_code("EC2V");
  response.mutable_postal()->set_confidence(40);
  response.mutable_autonomous_system()->set_number(20712);
  response.mutable_autonomous_system()->set_organization(
      "Andrews & Arnold Ltd");
  response.mutable_autonomous_system()->set_network("81.2.69.142/31");
  auto* traits = response.mutable_traits();
  traits->set_is_anycast(true);
  traits->set_isp("Andrews & Arnold Ltd");
  traits->set_organization("STONEHOUSE office network");
  traits->set_connection_type("Corporate");
  traits->set_domain("in-addr.arpa");
  traits->set_user_type("government");
  traits->set_static_ip_score(0.34);
  traits->set_user_count(2);
  traits->set_is_legitimate_proxy(false);
  traits->set_mobile_country_code("310");
  traits->set_mobile_network_code("004");
  auto* anonymizer = response.mutable_anonymizer();
  anonymizer->set_is_anonymous(true);
  anonymizer->set_is_anonymous_vpn(false);
  anonymizer->set_is_hosting_provider(false);
  anonymizer->set_is_public_proxy(false);
  anonymizer->set_is_residential_proxy(false);
  anonymizer->set_is_tor_exit_node(true);
  response.mutable_local_override()->set_network("81.2.69.0/24");
  response.mutable_local_override()->add_fields("country");
  return response;
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

TEST(MessageToGatewayJsonTest, PartlySetAnswersMatchProtojson) {
  // A record with a country and no city; an unset optional and a set one.
  geo::v1::LookupResponse response = FullLookupResponse();
  response.clear_city();
  response.clear_postal();
  response.clear_represented_country();
  response.clear_local_override();
  response.mutable_country()->clear_confidence();
  response.mutable_traits()->clear_isp();
  response.mutable_traits()->clear_static_ip_score();
  response.clear_anonymizer();
  response.mutable_anonymizer()->set_is_tor_exit_node(true);
  ExpectProtojson(response);
  // Not found: nothing but the address.
  geo::v1::LookupResponse not_found;
  not_found.set_ip("2001:db8::1");
  ExpectProtojson(not_found);
}

TEST(MessageToGatewayJsonTest, EveryHttpResponseTypeMatchesProtojson) {
  geo::v1::BatchLookupResponse batch;
  *batch.add_results()->mutable_response() = FullLookupResponse();
  batch.mutable_results(0)->set_ip("81.2.69.142");
  auto* failed = batch.add_results();
  failed->set_ip("not an address");
  failed->set_error_code(3);
  failed->set_error_message("invalid IP address \"not an address\"");
  ExpectProtojson(batch);
  ExpectProtojson(geo::v1::BatchLookupResponse());

  geo::v1::CheckResponse check;
  ExpectProtojson(check);
  check.set_ip("8.8.8.8");
  check.set_allowed(true);
  check.set_result("allowed");
  check.set_reason("country US is allowed");
  check.set_asn(15169);
  check.set_dry_run(true);
  ExpectProtojson(check);

  geo::v1::ListDatabasesResponse databases;
  ExpectProtojson(databases);
  auto* database = databases.add_databases();
  database->set_path("/data/GeoLite2-City.mmdb");
  database->set_type("GeoLite2-City");
  database->set_build_epoch(1758153600);
  database->set_node_count(6123456);
  database->set_loaded_at(-1);
  database->set_ip_version(6);
  database->add_languages("de");
  database->add_languages("en");
  databases.add_databases();
  ExpectProtojson(databases);

  google::rpc::Status status;
  status.set_code(5);
  status.set_message("Not Found");
  ExpectProtojson(status);
  EXPECT_EQ(GatewayErrorBody(absl::NotFoundError("Not Found")),
            MessageToGatewayJson(status));
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
