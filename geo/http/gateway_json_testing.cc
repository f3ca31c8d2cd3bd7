#include "geo/http/gateway_json_testing.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "geo/http/grpc_gateway_mapping.h"
#include "geo/policy/policy_config.pb.h"
#include "geo/server/forward_auth_decision.pb.h"
#include "google/protobuf/any.pb.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"

namespace geo::http {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

google::protobuf::Value ParseJson(const std::string& json) {
  google::protobuf::Value value;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &value).ok())
      << json;
  return value;
}

// The JSON member name of a map entry's key.
std::string MapKeyText(const Message& entry) {
  const FieldDescriptor* key = entry.GetDescriptor()->map_key();
  const auto* reflection = entry.GetReflection();
  switch (key->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      return reflection->GetString(entry, key);
    case FieldDescriptor::CPPTYPE_BOOL:
      return reflection->GetBool(entry, key) ? "true" : "false";
    case FieldDescriptor::CPPTYPE_INT32:
      return absl::StrCat(reflection->GetInt32(entry, key));
    case FieldDescriptor::CPPTYPE_INT64:
      return absl::StrCat(reflection->GetInt64(entry, key));
    case FieldDescriptor::CPPTYPE_UINT32:
      return absl::StrCat(reflection->GetUInt32(entry, key));
    default:
      return absl::StrCat(reflection->GetUInt64(entry, key));
  }
}

bool IsMessage(const FieldDescriptor* field) {
  return field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE;
}

// Where protojson's EmitUnpopulated differs from the C++ printer: an unset
// singular message field is null rather than absent, and an unset field of
// a oneof (proto3 `optional` too) is absent. Applied through lists and map
// values of messages too.
void ApplyProtojsonRules(const Message& message,
                         google::protobuf::Struct* json) {
  const auto* descriptor = message.GetDescriptor();
  const auto* reflection = message.GetReflection();
  auto& fields = *json->mutable_fields();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const auto* field = descriptor->field(i);
    const std::string& name = field->json_name();
    if (field->is_map()) {
      const FieldDescriptor* value = field->message_type()->map_value();
      if (!IsMessage(value)) continue;
      auto* object = fields[name].mutable_struct_value()->mutable_fields();
      for (int j = 0; j < reflection->FieldSize(message, field); ++j) {
        const Message& entry =
            reflection->GetRepeatedMessage(message, field, j);
        ApplyProtojsonRules(
            entry.GetReflection()->GetMessage(entry, value),
            (*object)[MapKeyText(entry)].mutable_struct_value());
      }
    } else if (field->is_repeated()) {
      if (!IsMessage(field)) continue;
      auto* list = fields[name].mutable_list_value();
      for (int j = 0; j < reflection->FieldSize(message, field); ++j) {
        ApplyProtojsonRules(reflection->GetRepeatedMessage(message, field, j),
                            list->mutable_values(j)->mutable_struct_value());
      }
    } else if (field->containing_oneof() != nullptr &&
               !reflection->HasField(message, field)) {
      fields.erase(name);
    } else if (IsMessage(field) && !reflection->HasField(message, field)) {
      fields[name].set_null_value(google::protobuf::NULL_VALUE);
    } else if (IsMessage(field)) {
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

// Whether `message` or a message in it has a map of more than one entry.
bool HasMapOfSeveralEntries(const Message& message) {
  const auto* descriptor = message.GetDescriptor();
  const auto* reflection = message.GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const auto* field = descriptor->field(i);
    if (!IsMessage(field)) continue;
    if (field->is_map() && reflection->FieldSize(message, field) > 1) {
      return true;
    }
    if (field->is_repeated()) {
      for (int j = 0; j < reflection->FieldSize(message, field); ++j) {
        if (HasMapOfSeveralEntries(
                reflection->GetRepeatedMessage(message, field, j))) {
          return true;
        }
      }
    } else if (reflection->HasField(message, field) &&
               HasMapOfSeveralEntries(reflection->GetMessage(message, field))) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string CppPrinterJson(const Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  std::string json;
  EXPECT_TRUE(
      google::protobuf::util::MessageToJsonString(message, &json, options)
          .ok());
  return json;
}

void ExpectProtojson(const Message& message) {
  const std::string ours = MessageToGatewayJson(message);
  google::protobuf::Value expected = ParseJson(CppPrinterJson(message));
  ApplyProtojsonRules(message, expected.mutable_struct_value());
  google::protobuf::util::MessageDifferencer differencer;
  std::string difference;
  differencer.ReportDifferencesToString(&difference);
  EXPECT_TRUE(differencer.Compare(ParseJson(ours), expected))
      << difference << "\nours: " << ours;
  if (!HasMapOfSeveralEntries(message)) {
    EXPECT_EQ(WithoutNulls(ours), WithoutNulls(CppPrinterJson(message)));
  }
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

std::vector<std::unique_ptr<Message>> HttpAnswerSamples() {
  std::vector<std::unique_ptr<Message>> samples;
  const auto add = [&samples](auto message) {
    samples.push_back(std::make_unique<decltype(message)>(std::move(message)));
  };

  add(FullLookupResponse());
  // A record with a country and no city; an unset optional and a set one.
  geo::v1::LookupResponse partly_set = FullLookupResponse();
  partly_set.clear_city();
  partly_set.clear_postal();
  partly_set.clear_represented_country();
  partly_set.clear_local_override();
  partly_set.mutable_country()->clear_confidence();
  partly_set.mutable_traits()->clear_isp();
  partly_set.mutable_traits()->clear_static_ip_score();
  partly_set.clear_anonymizer();
  partly_set.mutable_anonymizer()->set_is_tor_exit_node(true);
  add(partly_set);
  // Not found: nothing but the address.
  geo::v1::LookupResponse not_found;
  not_found.set_ip("2001:db8::1");
  add(not_found);

  geo::v1::BatchLookupResponse batch;
  *batch.add_results()->mutable_response() = FullLookupResponse();
  batch.mutable_results(0)->set_ip("81.2.69.142");
  auto* failed = batch.add_results();
  failed->set_ip("not an address");
  failed->set_error_code(3);
  failed->set_error_message("invalid IP address \"not an address\"");
  add(batch);
  add(geo::v1::BatchLookupResponse());

  add(geo::v1::CheckResponse());
  geo::v1::CheckResponse check;
  check.set_ip("8.8.8.8");
  check.set_allowed(true);
  check.set_result("allowed");
  check.set_reason("country US is allowed");
  check.set_asn(15169);
  check.set_dry_run(true);
  add(check);

  add(geo::v1::ListDatabasesResponse());
  geo::v1::ListDatabasesResponse databases;
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
  add(databases);

  add(geo::server::ForwardAuthDecision());
  geo::server::ForwardAuthDecision decision;
  decision.set_allowed(false);
  decision.set_decision("denied");
  decision.set_policy("default");
  decision.set_rule("deny.countries");
  decision.set_reason("country KP is denied");
  decision.set_ip("175.45.176.1");
  add(decision);

  google::rpc::Status status;
  status.set_code(5);
  status.set_message("Not Found");
  add(status);
  // A detail goes through protobuf's printer (a well-known type).
  google::protobuf::Struct detail;
  (*detail.mutable_fields())["ip"].set_string_value("10.0.0.1");
  status.add_details()->PackFrom(detail);
  add(status);

  geo::policy::PolicyFile policy_file;
  auto& policies = *policy_file.mutable_policies();
  policies["strict"].set_default_action("deny");
  policies["strict"].mutable_allow()->add_countries("DE");
  policies["strict"].mutable_allow()->add_asns(3320);
  policies["open"].set_default_action("allow");
  policies["open"].set_dry_run(true);
  policies["audit"].mutable_deny()->add_networks("10.0.0.0/8");
  auto* route = policy_file.add_routes();
  route->set_host("example.com");
  route->add_methods("GET");
  route->set_policy("strict");
  policy_file.set_default_policy("open");
  add(policy_file);
  return samples;
}

}  // namespace geo::http
