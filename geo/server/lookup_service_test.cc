// LookupService with its real collaborators (LookupServiceHarness: GeoStore
// over MaxMind's City test database, PolicyStore, CallerResolver,
// ServerMetrics, FakeClock): what each method answers and what it records.
#include "geo/server/lookup_service.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "geo/common/ip_address.h"
#include "geo/common/logging.h"
#include "geo/server/lookup_service_harness.h"
#include "geo/tls/peer_identity.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/metrics_text.h"
#include "tests/support/test_files.h"

namespace geo {
namespace {

using ::geo::testing::MaxmindTestDataFile;
using ::geo::testing::MetricSample;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr char kPaymentsApi[] = "spiffe://cluster.local/ns/payments/sa/api";

class LookupServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<CityTestAddresses> city = LoadCityTestAddresses();
    ASSERT_TRUE(city.ok()) << city.status();
    denied_ip_ = city->located;
    denied_country_ = city->country;
    allowed_ip_ = city->elsewhere;
    Start(MaxmindTestDataFile("GeoIP2-City-Test.mmdb"));
  }

  void TearDown() override {
    SetLogSinkForTesting(nullptr);
    SetMinLogLevel(LogLevel::kInfo);
  }

  // A fresh service over `database` (a missing file: no database loaded).
  void Start(const std::string& database,
             LookupService::Options options = LookupService::Options()) {
    const std::string deny_country =
        absl::StrCat("deny: {countries: [", denied_country_, "]}");
    absl::StatusOr<std::unique_ptr<LookupServiceHarness>> harness =
        LookupServiceHarness::Create(
            database,
            absl::StrCat(
                "policies:\n"
                "  default: {default_action: allow, ",
                deny_country,
                "}\n"
                "  payments:\n"
                "    default_action: allow\n"
                "    ",
                deny_country,
                "\n"
                "    allow: {client_identities: "
                "[\"spiffe://cluster.local/ns/payments/*\"]}\n"
                "  watch: {default_action: allow, dry_run: true, ",
                deny_country,
                "}\n"
                "  admin: {default_action: deny, allow: {networks: "
                "[192.0.2.0/24]}}\n"
                "  open-on-error: {default_action: deny, on_error: allow}\n"
                "  error-on-error: {default_action: deny, on_error: error}\n"
                "routes:\n"
                "  - {path_prefix: /admin, policy: admin}\n"
                "  - {host: watch.example.com, policy: watch}\n"
                "  - {host: open.example.com, policy: open-on-error}\n"
                "  - {host: error.example.com, policy: error-on-error}\n"),
            options);
    ASSERT_TRUE(harness.ok()) << harness.status();
    harness_ = *std::move(harness);
    service_ = harness_->service();
  }

  static CallOrigin Origin(absl::string_view peer,
                           const tls::PeerIdentity* identity = nullptr) {
    CallOrigin origin;
    origin.protocol = Protocol::kHttp;
    origin.peer = peer;
    origin.client_identity = identity;
    return origin;
  }

  absl::Status Check(const CallOrigin& origin, absl::string_view ip,
                     absl::string_view policy_name,
                     geo::v1::CheckResponse* response) {
    geo::v1::CheckRequest request;
    request.set_ip(std::string(ip));
    request.set_policy(std::string(policy_name));
    return service_->Check(origin, request, response);
  }

  double Sample(const std::string& series) const {
    return MetricSample(harness_->MetricsText(), series);
  }
  static std::string Decisions(absl::string_view policy,
                               absl::string_view result,
                               absl::string_view rule) {
    return absl::StrCat("geofence_decisions_total{policy=\"", policy,
                        "\",result=\"", result, "\",rule=\"", rule, "\"}");
  }
  static std::string Calls(absl::string_view result, absl::string_view status) {
    return absl::StrCat("geofence_lookups_total{protocol=\"http\",result=\"",
                        result, "\",status=\"", status, "\"}");
  }
  static std::string Latency(absl::string_view method) {
    return absl::StrCat("geofence_lookup_duration_seconds_count{method=\"",
                        method, "\",protocol=\"http\"}");
  }

  // denied_ip_ is in denied_country_, which the policies deny; allowed_ip_
  // is elsewhere.
  std::string denied_ip_;
  std::string allowed_ip_;
  std::string denied_country_;

  std::unique_ptr<LookupServiceHarness> harness_;
  LookupService* service_ = nullptr;
};

TEST_F(LookupServiceTest, CheckDecidesWithTheDefaultPolicyAndCountsIt) {
  geo::v1::CheckResponse response;
  ASSERT_TRUE(Check(Origin("127.0.0.1"), denied_ip_, "", &response).ok());
  EXPECT_FALSE(response.allowed());
  EXPECT_EQ(response.policy(), "default");
  EXPECT_EQ(response.rule(), "country");
  EXPECT_EQ(response.result(), "denied");
  EXPECT_EQ(response.country_code(), denied_country_);
  EXPECT_EQ(Sample(Decisions("default", "denied", "country")), 1);
  EXPECT_EQ(Sample(Calls("denied", "OK")), 1);
  EXPECT_EQ(Sample(Latency("Check")), 1);
}

TEST_F(LookupServiceTest, CheckUsesTheNamedPolicy) {
  geo::v1::CheckResponse response;
  ASSERT_TRUE(Check(Origin("127.0.0.1"), denied_ip_, "watch", &response).ok());
  EXPECT_TRUE(response.allowed());
  EXPECT_TRUE(response.dry_run());
  EXPECT_EQ(response.policy(), "watch");
  EXPECT_EQ(response.result(), "dry_run_denied");
  EXPECT_EQ(Sample(Decisions("watch", "dry_run_denied", "country")), 1);
}

TEST_F(LookupServiceTest, CheckRefusesAnUnknownPolicy) {
  geo::v1::CheckResponse response;
  const absl::Status status =
      Check(Origin("127.0.0.1"), allowed_ip_, "no-such", &response);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("no policy is named \"no-such\""));
  EXPECT_EQ(Sample(Calls("error", "INVALID_ARGUMENT")), 1);
  EXPECT_EQ(Sample(Latency("Check")), 1);
}

TEST_F(LookupServiceTest, CheckMeIsTheCaller) {
  geo::v1::CheckResponse response;
  ASSERT_TRUE(Check(Origin(denied_ip_), "me", "", &response).ok());
  EXPECT_EQ(response.ip(), IpAddress::Parse(denied_ip_)->ToString());
  EXPECT_FALSE(response.allowed());
}

TEST_F(LookupServiceTest, ClientIdentityRuleDecidesBeforeTheCountry) {
  const tls::PeerIdentity trusted = [] {
    tls::PeerIdentity identity;
    identity.uris = {kPaymentsApi};
    return identity;
  }();
  const tls::PeerIdentity other = [] {
    tls::PeerIdentity identity;
    identity.uris = {"spiffe://cluster.local/ns/web/sa/api"};
    return identity;
  }();
  geo::v1::CheckResponse response;
  ASSERT_TRUE(
      Check(Origin("127.0.0.1", &trusted), denied_ip_, "payments", &response)
          .ok());
  EXPECT_TRUE(response.allowed());
  EXPECT_EQ(response.rule(), "client_identity");
  EXPECT_EQ(Sample(Decisions("payments", "allowed", "client_identity")), 1);

  for (const tls::PeerIdentity* identity :
       {&other, static_cast<const tls::PeerIdentity*>(nullptr)}) {
    geo::v1::CheckResponse geo_decision;
    ASSERT_TRUE(Check(Origin("127.0.0.1", identity), denied_ip_, "payments",
                      &geo_decision)
                    .ok());
    EXPECT_FALSE(geo_decision.allowed());
    EXPECT_EQ(geo_decision.rule(), "country");
  }
  EXPECT_EQ(Sample(Decisions("payments", "denied", "country")), 2);
}

TEST_F(LookupServiceTest, DebugLevelLogsEachDecisionWithTheClientIdentity) {
  std::vector<std::string> lines;
  SetLogSinkForTesting(
      [&lines](absl::string_view line) { lines.emplace_back(line); });
  tls::PeerIdentity trusted;
  trusted.uris = {kPaymentsApi};
  geo::v1::CheckResponse response;

  SetMinLogLevel(LogLevel::kInfo);
  ASSERT_TRUE(
      Check(Origin("127.0.0.1", &trusted), denied_ip_, "payments", &response)
          .ok());
  EXPECT_THAT(lines, IsEmpty());

  SetMinLogLevel(LogLevel::kDebug);
  ASSERT_TRUE(
      Check(Origin("127.0.0.1", &trusted), denied_ip_, "payments", &response)
          .ok());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], HasSubstr("Geofence decision"));
  EXPECT_THAT(lines[0], HasSubstr("\"policy\":\"payments\""));
  EXPECT_THAT(lines[0], HasSubstr("\"rule\":\"client_identity\""));
  EXPECT_THAT(lines[0], HasSubstr("\"result\":\"allowed\""));
  EXPECT_THAT(lines[0], HasSubstr(absl::StrCat("\"client_identity\":\"",
                                               kPaymentsApi, "\"")));

  ASSERT_TRUE(Check(Origin("127.0.0.1"), denied_ip_, "", &response).ok());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_THAT(lines[1], HasSubstr("\"rule\":\"country\""));
  EXPECT_THAT(lines[1], Not(HasSubstr("client_identity")));
}

TEST_F(LookupServiceTest, DryRunDenialLogNamesTheClientIdentity) {
  std::vector<std::string> lines;
  SetLogSinkForTesting(
      [&lines](absl::string_view line) { lines.emplace_back(line); });
  tls::PeerIdentity caller;
  caller.dns_names = {"reporting.internal"};
  geo::v1::CheckResponse response;
  ASSERT_TRUE(
      Check(Origin("127.0.0.1", &caller), denied_ip_, "watch", &response).ok());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], HasSubstr("Dry-run policy would deny"));
  EXPECT_THAT(lines[0],
              HasSubstr("\"client_identity\":\"reporting.internal\""));
}

TEST_F(LookupServiceTest, AuthorizeSelectsThePolicyByRoute) {
  const policy::RequestTarget admin{"www.example.com", "/admin/users", "GET"};
  GeofenceDecision decision = service_->Authorize(Origin(allowed_ip_), admin);
  EXPECT_EQ(decision.policy->name(), "admin");
  EXPECT_FALSE(decision.allowed);
  EXPECT_EQ(decision.decision.rule, policy::RuleKind::kDefault);

  const policy::RequestTarget home{"www.example.com", "/", "GET"};
  decision = service_->Authorize(Origin(allowed_ip_), home);
  EXPECT_EQ(decision.policy->name(), "default");
  EXPECT_TRUE(decision.allowed);
  EXPECT_EQ(Sample(Latency("Authorize")), 2);
  EXPECT_EQ(Sample(Decisions("admin", "denied", "default")), 1);
  EXPECT_EQ(Sample(Decisions("default", "allowed", "default")), 1);
}

TEST_F(LookupServiceTest, AuthorizeBadClientAddressFollowsOnError) {
  const std::pair<const char*, bool> hosts[] = {
      {"www.example.com", false},  // on_error deny (the default)
      {"open.example.com", true},
      {"error.example.com", false},
  };
  for (const auto& [host, allowed] : hosts) {
    const GeofenceDecision decision = service_->Authorize(
        Origin("not-an-address"), policy::RequestTarget{host, "/", "GET"});
    EXPECT_TRUE(decision.failed) << host;
    EXPECT_EQ(decision.error, policy::DecisionError::kBadClientAddress);
    EXPECT_EQ(decision.allowed, allowed) << host;
    EXPECT_EQ(decision.decision.rule, policy::RuleKind::kError);
  }
  EXPECT_EQ(Sample("geofence_decision_errors_total{policy=\"open-on-error\","
                   "reason=\"bad_client_address\"}"),
            1);
  EXPECT_EQ(Sample(Calls("allowed", "OK")), 1);
  EXPECT_EQ(Sample(Calls("denied", "OK")), 1);
  EXPECT_EQ(Sample(Calls("error", "UNAVAILABLE")), 1);
}

TEST_F(LookupServiceTest, AuthorizeWithoutDatabaseIsANoDatabaseError) {
  Start(absl::StrCat(testing::NewTempDir(), "/missing.mmdb"));
  const GeofenceDecision decision = service_->Authorize(
      Origin(allowed_ip_),
      policy::RequestTarget{"open.example.com", "/", "GET"});
  EXPECT_TRUE(decision.failed);
  EXPECT_EQ(decision.error, policy::DecisionError::kNoDatabase);
  EXPECT_TRUE(decision.allowed);
  EXPECT_EQ(decision.ip, IpAddress::Parse(allowed_ip_)->ToString());
}

TEST_F(LookupServiceTest, BatchLookupRefusesMoreThanTheLimit) {
  LookupService::Options options;
  options.max_batch_size = 2;
  Start(MaxmindTestDataFile("GeoIP2-City-Test.mmdb"), options);
  geo::v1::BatchLookupRequest request;
  request.add_ips(allowed_ip_);
  request.add_ips("not-an-address");
  geo::v1::BatchLookupResponse response;
  ASSERT_TRUE(
      service_->BatchLookup(Origin("127.0.0.1"), request, &response).ok());
  ASSERT_EQ(response.results_size(), 2);
  EXPECT_TRUE(response.results(0).response().found());
  EXPECT_EQ(response.results(1).error_code(),
            static_cast<int>(absl::StatusCode::kInvalidArgument));

  request.add_ips(denied_ip_);
  geo::v1::BatchLookupResponse too_many;
  const absl::Status status =
      service_->BatchLookup(Origin("127.0.0.1"), request, &too_many);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("at most 2 addresses; got 3"));
  EXPECT_EQ(too_many.results_size(), 0);
  EXPECT_EQ(Sample(Calls("found", "OK")), 1);
  EXPECT_EQ(Sample(Calls("error", "INVALID_ARGUMENT")), 1);
  EXPECT_EQ(Sample(Latency("BatchLookup")), 2);
}

}  // namespace
}  // namespace geo
