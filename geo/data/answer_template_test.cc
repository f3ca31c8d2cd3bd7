#include "geo/data/answer_template.h"

#include <string>

#include "geo/http/grpc_gateway_mapping.h"
#include "gtest/gtest.h"

namespace geo {
namespace {

std::string Render(const geo::v1::LookupResponse& response) {
  return http::MessageToGatewayJson(response);
}

geo::v1::LookupResponse CityRecord() {
  geo::v1::LookupResponse record;
  record.mutable_country()->set_iso_code("GB");
  record.mutable_country()->set_name("United Kingdom");
  record.mutable_city()->set_name("East \"Finchley\" \\ Ünïcode");
  record.add_subdivisions()->set_iso_code("ENG");
  record.mutable_location()->set_latitude(51.5967);
  return record;
}

// What the server would print for `record` found at `ip` in `network`.
std::string Expected(geo::v1::LookupResponse record, const std::string& ip,
                     const std::string& network) {
  record.set_found(true);
  record.set_ip(ip);
  record.set_network(network);
  if (HasAutonomousSystem(record)) {
    record.mutable_autonomous_system()->set_network(network);
  }
  return Render(record);
}

std::string Fill(const AnswerTemplate& answer, const std::string& ip,
                 const std::string& network) {
  std::string out = "prefix:";
  answer.AppendTo(ip, network, &out);
  return out.substr(7);
}

TEST(AnswerTemplateTest, FilledTemplateIsWhatTheRendererPrints) {
  const geo::v1::LookupResponse record = CityRecord();
  std::optional<AnswerTemplate> answer = AnswerTemplate::Build(record, Render);
  ASSERT_TRUE(answer.has_value());
  for (const auto& [ip, network] :
       {std::pair<std::string, std::string>{"81.2.69.160", "81.2.69.128/25"},
        {"2001:db8::1", "2001:db8::/32"},
        {"", ""}}) {
    EXPECT_EQ(Fill(*answer, ip, network), Expected(record, ip, network));
  }
}

TEST(AnswerTemplateTest, AutonomousSystemGetsTheNetworkToo) {
  geo::v1::LookupResponse record;
  record.mutable_autonomous_system()->set_number(15169);
  record.mutable_autonomous_system()->set_organization("Google LLC");
  std::optional<AnswerTemplate> answer = AnswerTemplate::Build(record, Render);
  ASSERT_TRUE(answer.has_value());
  const std::string filled = Fill(*answer, "8.8.8.8", "8.8.8.0/24");
  EXPECT_EQ(filled, Expected(record, "8.8.8.8", "8.8.8.0/24"));
  EXPECT_NE(filled.find("\"autonomousSystem\":{"), std::string::npos);
}

TEST(AnswerTemplateTest, EmptyAutonomousSystemGetsNoNetwork) {
  // No number and no organisation: a lookup leaves its network empty.
  geo::v1::LookupResponse record = CityRecord();
  record.mutable_autonomous_system();
  std::optional<AnswerTemplate> answer = AnswerTemplate::Build(record, Render);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(Fill(*answer, "1.2.3.4", "1.2.3.0/24"),
            Expected(record, "1.2.3.4", "1.2.3.0/24"));
}

TEST(AnswerTemplateTest, RefusesARecordThatContainsAPlaceholder) {
  // Read the placeholder back through the renderer, then put it in a record
  // string: the cut would be ambiguous, so Build must refuse.
  std::string placeholder;
  ASSERT_TRUE(AnswerTemplate::Build(geo::v1::LookupResponse(),
                                    [&](const geo::v1::LookupResponse& filled) {
                                      placeholder = filled.ip();
                                      return Render(filled);
                                    })
                  .has_value());
  ASSERT_FALSE(placeholder.empty());
  geo::v1::LookupResponse record = CityRecord();
  record.mutable_city()->set_name(placeholder);
  EXPECT_FALSE(AnswerTemplate::Build(record, Render).has_value());
  record.mutable_city()->set_name("near " + placeholder + " town");
  EXPECT_FALSE(AnswerTemplate::Build(record, Render).has_value());
}

TEST(AnswerTemplateTest, SizeCountsTheLiterals) {
  std::optional<AnswerTemplate> answer =
      AnswerTemplate::Build(CityRecord(), Render);
  ASSERT_TRUE(answer.has_value());
  std::string out;
  answer->AppendTo("", "", &out);
  EXPECT_EQ(answer->size(), out.size());
}

}  // namespace
}  // namespace geo
