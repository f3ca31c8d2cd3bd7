#include "geo/server/forward_auth.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "geo/common/ip_address.h"
#include "geo/http/grpc_gateway_mapping.h"
#include "geo/http/http_message.h"
#include "geo/http/router.h"
#include "geo/server/forward_auth_decision.pb.h"
#include "geo/server/lookup_service_harness.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/source_data.h"
#include "tests/support/test_files.h"

namespace geo {
namespace {

using ::geo::testing::FindIpv4;
using ::geo::testing::LoadSourceRecords;
using ::geo::testing::MaxmindTestDataDir;
using ::geo::testing::MaxmindTestDataFile;
using ::geo::testing::SourceRecord;
using ::geo::testing::StringAt;
using ::testing::HasSubstr;

constexpr char kProxy[] = "10.0.0.1";  // Trusted in every fixture.

// The real decision path over MaxMind's City test database: LookupService
// over its real parts (LookupServiceHarness), the route.
class ForwardAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto records = LoadSourceRecords(absl::StrCat(
        MaxmindTestDataDir(), "/source-data/GeoIP2-City-Test.json"));
    ASSERT_TRUE(records.ok()) << records.status();
    records_ = *std::move(records);
    // Two addresses of different countries, and one whose city name is not
    // ASCII, all from the data the database was built from.
    denied_ = FindIpv4(records_, [](const SourceRecord& r) {
      return !CountryOf(r).empty() &&
             !StringAt(r.record, "subdivisions.0.iso_code").empty();
    });
    ASSERT_NE(denied_, nullptr);
    denied_country_ = CountryOf(*denied_);
    allowed_ =
        FindLocatedIpv4(records_, /*other_than_country=*/denied_country_);
    ASSERT_NE(allowed_, nullptr);
    non_ascii_city_ = FindIpv4(records_, [](const SourceRecord& r) {
      for (const char c : StringAt(r.record, "city.names.en")) {
        if (static_cast<unsigned char>(c) >= 0x80) return true;
      }
      return false;
    });
    ASSERT_NE(non_ascii_city_, nullptr);
    Start(MaxmindTestDataFile("GeoIP2-City-Test.mmdb"),
          absl::StrCat("policies:\n"
                       "  default:\n"
                       "    default_action: allow\n"
                       "    deny: {countries: [",
                       denied_country_,
                       "]}\n"
                       "  admin:\n"
                       "    default_action: deny\n"
                       "    allow: {networks: [192.0.2.0/24]}\n"
                       "  watch:\n"
                       "    default_action: allow\n"
                       "    deny: {countries: [",
                       denied_country_,
                       "]}\n"
                       "    dry_run: true\n"
                       "  open-on-error: {default_action: deny, on_error: "
                       "allow}\n"
                       "  error-on-error: {default_action: deny, on_error: "
                       "error}\n"
                       "routes:\n"
                       "  - {path_prefix: /admin, policy: admin}\n"
                       "  - {host: watch.example.com, policy: watch}\n"
                       "  - {host: open.example.com, policy: open-on-error}\n"
                       "  - {host: error.example.com, policy: "
                       "error-on-error}\n"));
  }

  void Start(const std::string& database, const std::string& policy_yaml,
             ForwardAuthOptions options = {}) {
    absl::StatusOr<std::unique_ptr<LookupServiceHarness>> harness =
        LookupServiceHarness::Create(database, policy_yaml);
    ASSERT_TRUE(harness.ok()) << harness.status();
    harness_ = *std::move(harness);
    router_ = std::make_unique<http::Router>();
    ASSERT_TRUE(
        AddForwardAuthRoute(harness_->service(), options, router_.get()).ok());
  }

  http::HttpResponse Call(
      std::vector<std::pair<std::string, std::string>> headers,
      absl::string_view target = "/v1/authorize",
      absl::string_view peer = kProxy, absl::string_view method = "GET") {
    const http::HttpHeaderList fields(std::move(headers));
    http::HttpResponse response;
    router_->Handle(http::HttpRequest(method, target, &fields, "", peer),
                    &response);
    return response;
  }

  static std::string Header(const http::HttpResponse& response,
                            absl::string_view name) {
    for (const auto& [field, value] : response.headers()) {
      if (field == name) return value;
    }
    return "<absent>";
  }

  std::string MetricsText() const { return harness_->MetricsText(); }

  // The address of `record` as X-Geo-Client-IP and the body name it.
  static std::string ClientIp(const SourceRecord* record) {
    return IpAddress::Parse(record->address)->ToString();
  }

  std::vector<SourceRecord> records_;
  const SourceRecord* denied_ = nullptr;
  const SourceRecord* allowed_ = nullptr;
  const SourceRecord* non_ascii_city_ = nullptr;
  std::string denied_country_;

  std::unique_ptr<LookupServiceHarness> harness_;
  std::unique_ptr<http::Router> router_;
};

TEST_F(ForwardAuthTest, DeniedCountryIs403WithTheDecisionHeaders) {
  const http::HttpResponse response =
      Call({{"X-Forwarded-For", denied_->address}});
  EXPECT_EQ(response.status(), 403);
  EXPECT_EQ(Header(response, "X-Geo-Decision"), "deny");
  EXPECT_EQ(Header(response, "X-Geo-Dry-Run"), "false");
  EXPECT_EQ(Header(response, "X-Geo-Policy"), "default");
  EXPECT_EQ(Header(response, "X-Geo-Rule"), "country");
  EXPECT_EQ(Header(response, "X-Geo-Reason"),
            absl::StrCat("country ", denied_country_, " is in deny list"));
  EXPECT_EQ(Header(response, "X-Geo-Country"), denied_country_);
  EXPECT_EQ(Header(response, "X-Geo-Subdivision"),
            absl::StrCat(denied_country_, "-",
                         StringAt(denied_->record, "subdivisions.0.iso_code")));
  EXPECT_EQ(Header(response, "X-Geo-Client-IP"), ClientIp(denied_));
  EXPECT_EQ(Header(response, "Cache-Control"), "no-store");
  // The body docs/edge.md shows, field for field and in this order.
  EXPECT_EQ(response.body(),
            absl::StrCat("{\"allowed\":false,\"decision\":\"deny\","
                         "\"dryRun\":false,\"policy\":\"default\","
                         "\"rule\":\"country\",\"reason\":\"country ",
                         denied_country_, " is in deny list\",\"ip\":\"",
                         ClientIp(denied_), "\"}"));
  EXPECT_THAT(MetricsText(),
              HasSubstr("geofence_decisions_total{policy=\"default\",result="
                        "\"denied\",rule=\"country\"} 1"));
}

TEST_F(ForwardAuthTest, AllowedCountryIs200) {
  const http::HttpResponse response =
      Call({{"X-Forwarded-For", allowed_->address}}, "/v1/authorize", kProxy,
           "POST");
  EXPECT_EQ(response.status(), 200);
  EXPECT_EQ(Header(response, "X-Geo-Decision"), "allow");
  EXPECT_EQ(Header(response, "X-Geo-Country"), CountryOf(*allowed_));
  EXPECT_THAT(response.body(), HasSubstr("\"allowed\":true"));
}

TEST_F(ForwardAuthTest, AnUntrustedPeerCannotSpoofItsAddress) {
  // The peer itself is the client: its X-Forwarded-For, Forwarded and CDN
  // headers name a denied address, and count for nothing.
  const http::HttpResponse response =
      Call({{"X-Forwarded-For", denied_->address},
            {"Forwarded", absl::StrCat("for=", denied_->address)},
            {"CF-Connecting-IP", denied_->address},
            {"X-Real-IP", denied_->address}},
           "/v1/authorize", allowed_->address);
  EXPECT_EQ(response.status(), 200);
  EXPECT_EQ(Header(response, "X-Geo-Client-IP"), ClientIp(allowed_));
}

TEST_F(ForwardAuthTest, EveryForwardedForLineCountsRightMostFirst) {
  // The client sent its own line naming an allowed address; the trusted
  // proxy appended a second line with the real (denied) one.
  const http::HttpResponse response =
      Call({{"X-Forwarded-For", allowed_->address},
            {"X-Forwarded-For", denied_->address}});
  EXPECT_EQ(response.status(), 403);
  EXPECT_EQ(Header(response, "X-Geo-Client-IP"), ClientIp(denied_));
}

TEST_F(ForwardAuthTest, ForwardedWithQuotedIpv6AndPortAndCdnHeaders) {
  const SourceRecord* v6 = nullptr;
  for (const SourceRecord& record : records_) {
    if (record.address.find(':') != std::string::npos &&
        !CountryOf(record).empty()) {
      v6 = &record;
      break;
    }
  }
  ASSERT_NE(v6, nullptr);
  // Without X-Forwarded-For, Forwarded names the client (before X-Real-IP).
  const http::HttpResponse forwarded =
      Call({{"Forwarded",
             absl::StrCat("for=\"[", v6->address, "]:443\";proto=https")},
            {"X-Real-IP", denied_->address}});
  EXPECT_EQ(Header(forwarded, "X-Geo-Client-IP"), ClientIp(v6));
  EXPECT_EQ(Header(forwarded, "X-Geo-Country"), CountryOf(*v6));
  // A configured CDN header outranks them all.
  const http::HttpResponse cdn =
      Call({{"cf-connecting-ip", denied_->address},
            {"X-Forwarded-For", allowed_->address},
            {"Forwarded", absl::StrCat("for=", allowed_->address)}});
  EXPECT_EQ(cdn.status(), 403);
  // Garbage in it falls through to the next source.
  const http::HttpResponse garbage =
      Call({{"CF-Connecting-IP", "not-an-address"},
            {"X-Real-IP", allowed_->address}});
  EXPECT_EQ(garbage.status(), 200);
  EXPECT_EQ(Header(garbage, "X-Geo-Client-IP"), ClientIp(allowed_));
}

TEST_F(ForwardAuthTest, RoutesByOriginalPathHostAndMethod) {
  // 192.0.2.0/24 is what the admin policy allows; allowed_ is not in it.
  const struct {
    std::string ingress;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string target;
    int status;
    std::string policy;
  } cases[] = {
      {"Envoy: the original path appended to the endpoint's",
       {{"X-Forwarded-For", allowed_->address}},
       "/v1/authorize/admin/x",
       403,
       "admin"},
      {"Traefik / Caddy: X-Forwarded-Uri",
       {{"X-Forwarded-For", "192.0.2.10"},
        {"X-Forwarded-Uri", "/admin?debug=1"}},
       "/v1/authorize",
       200,
       "admin"},
      {"nginx: X-Original-URI",
       {{"X-Forwarded-For", "192.0.2.10"}, {"X-Original-URI", "/admin/users"}},
       "/v1/authorize",
       200,
       "admin"},
      {"a prefix matches whole segments only",
       {{"X-Forwarded-For", allowed_->address},
        {"X-Original-URI", "/administrator"}},
       "/v1/authorize",
       200,
       "default"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.ingress);
    const http::HttpResponse response = Call(c.headers, c.target);
    EXPECT_EQ(response.status(), c.status);
    EXPECT_EQ(Header(response, "X-Geo-Policy"), c.policy);
  }
}

TEST_F(ForwardAuthTest, DryRunAllowsAndSaysWhatWouldHaveHappened) {
  const http::HttpResponse response =
      Call({{"X-Forwarded-For", denied_->address},
            {"X-Forwarded-Host", "watch.example.com, proxy.internal"}});
  EXPECT_EQ(response.status(), 200);
  EXPECT_EQ(Header(response, "X-Geo-Decision"), "deny");
  EXPECT_EQ(Header(response, "X-Geo-Dry-Run"), "true");
  EXPECT_EQ(Header(response, "X-Geo-Policy"), "watch");
  EXPECT_THAT(response.body(), AllOf(HasSubstr("\"allowed\":true"),
                                     HasSubstr("\"dryRun\":true")));
  EXPECT_THAT(MetricsText(),
              HasSubstr("geofence_decisions_total{policy=\"watch\",result="
                        "\"dry_run_denied\",rule=\"country\"} 1"));
}

TEST_F(ForwardAuthTest, EachPolicyChoosesItsAnswerWhenNoDatabaseIsLoaded) {
  Start("/nonexistent/GeoIP2-City-Test.mmdb",
        "policies:\n"
        "  default: {default_action: allow}\n"
        "  open: {default_action: deny, on_error: allow}\n"
        "  closed: {default_action: allow, on_error: error}\n"
        "routes:\n"
        "  - {host: open.example.com, policy: open}\n"
        "  - {host: closed.example.com, policy: closed}\n");
  const http::HttpResponse fail_closed =
      Call({{"X-Forwarded-For", allowed_->address}});
  EXPECT_EQ(fail_closed.status(), 403);
  EXPECT_EQ(Header(fail_closed, "X-Geo-Rule"), "error");
  EXPECT_THAT(Header(fail_closed, "X-Geo-Reason"),
              AllOf(HasSubstr("no_database"), HasSubstr("on_error deny")));
  const http::HttpResponse fail_open =
      Call({{"X-Forwarded-For", allowed_->address},
            {"Host", "open.example.com:443"}});
  EXPECT_EQ(fail_open.status(), 200);
  EXPECT_EQ(Header(fail_open, "X-Geo-Decision"), "allow");
  const http::HttpResponse error = Call(
      {{"X-Forwarded-For", allowed_->address}, {"Host", "closed.example.com"}});
  EXPECT_EQ(error.status(), 503);
  const std::string metrics = MetricsText();
  EXPECT_THAT(metrics, HasSubstr("geofence_decision_errors_total{policy="
                                 "\"default\",reason=\"no_database\"} 1"));
  EXPECT_THAT(metrics, HasSubstr("geofence_decisions_total{policy=\"open\","
                                 "result=\"allowed\",rule=\"error\"} 1"));
}

TEST_F(ForwardAuthTest, HeaderValuesAreEncodedAndThePrefixIsConfigurable) {
  ForwardAuthOptions options;
  options.header_prefix = "X-Edge-Geo-";
  Start(MaxmindTestDataFile("GeoIP2-City-Test.mmdb"), "default_action: allow\n",
        options);
  const http::HttpResponse response =
      Call({{"X-Forwarded-For", non_ascii_city_->address}});
  const std::string city = Header(response, "X-Edge-Geo-City");
  EXPECT_EQ(city,
            HeaderSafe(StringAt(non_ascii_city_->record, "city.names.en")));
  EXPECT_THAT(city, HasSubstr("%C3"));
  for (const auto& [name, value] : response.headers()) {
    for (const char c : value) {
      EXPECT_TRUE(c >= 0x20 && c < 0x7F) << name << ": " << value;
    }
  }
  EXPECT_EQ(Header(response, "X-Geo-City"), "<absent>");
  EXPECT_EQ(Header(response, "X-Edge-Geo-Policy"), "default");
  EXPECT_EQ(Header(response, "X-Edge-Geo-Rule"), "default");
  EXPECT_FALSE(ValidateHeaderPrefix("X Geo").ok());
  EXPECT_FALSE(ValidateHeaderPrefix("X-Geo:\r\n").ok());
  EXPECT_FALSE(ValidateHeaderPrefix("").ok());
}

TEST(HeaderSafeTest, EncodesControlAndNonAsciiBytesAndPercent) {
  EXPECT_EQ(HeaderSafe("plain text (ok)"), "plain text (ok)");
  EXPECT_EQ(HeaderSafe("a\r\nX-Evil: 1"), "a%0D%0AX-Evil: 1");
  EXPECT_EQ(HeaderSafe("Z\xC3\xBCrich"), "Z%C3%BCrich");
  EXPECT_EQ(HeaderSafe("100%"), "100%25");
  EXPECT_EQ(HeaderSafe(std::string("\0\x7F", 2)), "%00%7F");
}

// A body AuthorizeBodyWriter writes, and the same fields as the message that
// is its schema.
struct BodyCase {
  std::string name;
  bool allowed;
  std::string decision;
  bool dry_run;
  std::string policy;
  std::string rule;
  std::string reason;
  std::string ip;
};

TEST(AuthorizeBodyWriterTest, WritesWhatTheGatewayPrintsForTheMessage) {
  using std::string_literals::operator""s;  // A NUL inside a reason.
  const std::vector<BodyCase> cases = {
      {"denied", false, "deny", false, "default", "country",
       "country KP is in deny list", "203.0.113.7"},
      {"allowed over IPv6", true, "allow", false, "eu-only", "default",
       "default action allow", "2001:db8::7"},
      {"dry-run denial", true, "deny", true, "watch", "country",
       "country KP is in deny list", "203.0.113.7"},
      {"dry-run allow", true, "allow", true, "watch", "cidr",
       "network 192.0.2.0/24 is in allow list", "192.0.2.1"},
      {"failed with on_error error, no client address", false, "deny", false,
       "error-on-error", "error", "no_database: on_error error", ""},
      {"policy name of every allowed kind of character", true, "allow", false,
       "team.eu_only-2", "default", "default action allow", "10.1.2.3"},
      {"reason with quotes", false, "deny", false, "default", "client_identity",
       "client identity \"spiffe://cluster.local/ns/x\" is in deny list",
       "10.1.2.3"},
      {"reason with a backslash", false, "deny", false, "default", "default",
       "C:\\path", "10.1.2.3"},
      {"reason with control characters", false, "deny", false, "default",
       "default", "a\nb\rc\td\be\ff\x01g\x1fh\0i"s, "10.1.2.3"},
      {"reason with DEL, HTML and UTF-8, which are not escaped", true, "allow",
       false, "default", "default", "Z\xC3\xBCrich \x7F <b>&amp;</b> '",
       "10.1.2.3"},
      {"policy and ip that need escaping", false, "deny", false, "we\"ird",
       "default", "default action deny", "\\\n"},
      {"every string empty", false, "", false, "", "", "", ""},
      {"a combination no policy makes", false, "allow", true, "default",
       "default", "default action allow", "10.1.2.3"},
  };
  const AuthorizeBodyWriter writer;
  for (const BodyCase& c : cases) {
    SCOPED_TRACE(c.name);
    server::ForwardAuthDecision message;
    message.set_allowed(c.allowed);
    message.set_decision(c.decision);
    message.set_dry_run(c.dry_run);
    message.set_policy(c.policy);
    message.set_rule(c.rule);
    message.set_reason(c.reason);
    message.set_ip(c.ip);
    const AuthorizeBody body{c.allowed, c.decision, c.dry_run, c.policy,
                             c.rule,    c.reason,   c.ip};
    // Appended after what the buffer already holds.
    std::string written = "kept:";
    writer.AppendTo(body, &written);
    EXPECT_EQ(written,
              absl::StrCat("kept:", http::MessageToGatewayJson(message)));
  }
}

// "METHOD HOST PATH" of the original request as OriginalRequest reads it.
std::string TargetOf(const std::string& method,
                     std::vector<std::pair<std::string, std::string>> headers,
                     absl::string_view path_below) {
  const http::HttpHeaderList fields(std::move(headers));
  const http::HttpRequest request(method, "/v1/authorize/x", &fields, "",
                                  "10.0.0.1");
  const policy::RequestTarget target = OriginalRequest(request, path_below);
  return absl::StrCat(target.method, " ", target.host, " ", target.path);
}

TEST(OriginalRequestTest, ForwardingHeadersOutrankTheRequestItself) {
  EXPECT_EQ(TargetOf("GET",
                     {{"Host", "geo.internal:8080"},
                      {"X-Forwarded-Host", "shop.example.com"},
                      {"X-Original-URI", "/nginx"},
                      {"X-Forwarded-Uri", "/traefik"},
                      {"X-Original-Method", "PUT"}},
                     "/envoy"),
            "PUT shop.example.com /traefik");
  // Envoy's ext_authz: the path below /v1/authorize, the request's method.
  EXPECT_EQ(TargetOf("DELETE", {{"Host", "geo.internal"}}, "/x"),
            "DELETE geo.internal /x");
  EXPECT_EQ(TargetOf("DELETE", {{"Host", "geo.internal"}}, ""),
            "DELETE geo.internal /");
}

}  // namespace
}  // namespace geo
