// Forward auth straight against the real geo_server (the way Envoy and every
// ingress reach it), on MaxMind's test databases with the edge tests' policy
// file: who the caller is (trusted proxies, X-Forwarded-For, Forwarded),
// spoofing and malformed input, routes to named policies, dry run, failing
// closed without a database, and a policy reload under load.
#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "geo/http/test_http_client.h"
#include "gtest/gtest.h"
#include "tests/edge/edge_fixture.h"
#include "tests/support/metrics_text.h"
#include "tests/support/server_process.h"
#include "tests/support/test_files.h"

namespace geo::testing {
namespace {

using ::geo::http::CurlClient;
using ::geo::http::CurlResponse;

// The X-Geo-* headers every answer carries.
const char* const kDecisionHeaders[] = {
    "X-Geo-Decision", "X-Geo-Dry-Run",   "X-Geo-Policy",  "X-Geo-Rule",
    "X-Geo-Reason",   "X-Geo-Client-IP", "X-Geo-Country", "X-Geo-Subdivision",
    "X-Geo-City",     "X-Geo-ASN"};

// A raw GET of `target` with `headers` (each a full "Name: value" line).
std::string Request(absl::string_view target,
                    const std::vector<std::string>& headers,
                    absl::string_view method = "GET") {
  std::string request =
      absl::StrCat(method, " ", target, " HTTP/1.1\r\nHost: geo.test\r\n");
  for (const std::string& header : headers) {
    absl::StrAppend(&request, header, "\r\n");
  }
  absl::StrAppend(&request, "Connection: close\r\n\r\n");
  return request;
}

// No byte of the header block is a control character other than the CRLF
// that ends each line, and none is outside ASCII.
void ExpectCleanHead(const RawResponse& response) {
  const std::string& head = response.head;
  for (size_t i = 0; i < head.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(head[i]);
    if (c == '\r') {
      EXPECT_TRUE(i + 1 < head.size() && head[i + 1] == '\n')
          << "bare CR at " << i << " in:\n"
          << head;
    } else if (c == '\n') {
      EXPECT_TRUE(i > 0 && head[i - 1] == '\r')
          << "bare LF at " << i << " in:\n"
          << head;
    } else {
      EXPECT_TRUE(c >= 0x20 && c < 0x7f)
          << "byte " << static_cast<int>(c) << " at " << i << " in:\n"
          << head;
    }
  }
  for (const auto& [name, value] : response.headers) {
    EXPECT_FALSE(absl::StartsWithIgnoreCase(name, "X-Injected")) << head;
  }
}

class ForwardAuthTest : public EdgeSuiteTest<::testing::Test> {
 protected:
  // A raw exchange with geo; fails the test on a transport error.
  RawResponse Exchange(const std::string& request,
                       const std::string& source = "127.0.0.1") {
    absl::StatusOr<RawResponse> response =
        RawExchange(server_->ports().http, request, source);
    EXPECT_TRUE(response.ok()) << response.status();
    if (!response.ok()) return RawResponse();
    ExpectCleanHead(*response);
    return *response;
  }
  RawResponse Authorize(const std::vector<std::string>& headers,
                        absl::string_view target = "/v1/authorize",
                        absl::string_view method = "GET") {
    return Exchange(Request(target, headers, method));
  }
  // Authorize() for `ip` (X-Forwarded-For): expects `status` and each
  // decision header exactly once.
  RawResponse AuthorizeWithDecisionHeaders(const std::string& ip, int status) {
    RawResponse response = Authorize({absl::StrCat("X-Forwarded-For: ", ip)});
    EXPECT_EQ(response.status, status) << response.head << response.body;
    for (const char* header : kDecisionHeaders) {
      EXPECT_EQ(response.HeaderCount(header), 1) << header << "\n"
                                                 << response.head;
    }
    return response;
  }
  std::string Metrics() {
    CurlClient client;
    absl::StatusOr<CurlResponse> response = client.Get(server_->metrics_url());
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? response->body : "";
  }
  const EdgeAddresses& a() const { return *addresses_; }
};

TEST_F(ForwardAuthTest, AllowsAndDeniesWithTheDecisionHeaders) {
  RawResponse allowed = AuthorizeWithDecisionHeaders(a().allowed.ip, 200);
  EXPECT_EQ(allowed.Header("X-Geo-Decision"), "allow");
  EXPECT_EQ(allowed.Header("X-Geo-Dry-Run"), "false");
  EXPECT_EQ(allowed.Header("X-Geo-Policy"), "default");
  EXPECT_EQ(allowed.Header("X-Geo-Client-IP"), a().allowed.ip);
  EXPECT_EQ(allowed.Header("X-Geo-Country"), a().allowed.country);
  EXPECT_EQ(allowed.Header("X-Geo-Subdivision"), a().allowed.subdivision);
  EXPECT_EQ(allowed.Header("X-Geo-City"), PercentEncoded(a().allowed.city));
  EXPECT_TRUE(absl::StrContains(allowed.body, "\"allowed\":true"))
      << allowed.body;

  RawResponse denied = AuthorizeWithDecisionHeaders(a().denied.ip, 403);
  EXPECT_EQ(denied.Header("X-Geo-Decision"), "deny");
  EXPECT_EQ(denied.Header("X-Geo-Rule"), "country");
  EXPECT_EQ(denied.Header("X-Geo-Country"), a().denied.country);
  EXPECT_TRUE(
      absl::StrContains(denied.Header("X-Geo-Reason"), a().denied.country))
      << denied.head;
  EXPECT_TRUE(absl::StrContains(denied.body, "\"allowed\":false"))
      << denied.body;
  EXPECT_TRUE(absl::StrContains(denied.body, "\"rule\":\"country\""))
      << denied.body;

  const std::string metrics = Metrics();
  EXPECT_GE(MetricSample(metrics,
                         "geofence_decisions_total{policy=\"default\","
                         "result=\"denied\",rule=\"country\"}"),
            1)
      << metrics;
}

TEST_F(ForwardAuthTest, AnyMethodAndNeverARedirect) {
  for (const char* method :
       {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
    SCOPED_TRACE(method);
    RawResponse denied = Authorize(
        {absl::StrCat("X-Forwarded-For: ", a().denied.ip), "Content-Length: 0"},
        "/v1/authorize", method);
    EXPECT_EQ(denied.status, 403) << denied.head;
    EXPECT_EQ(denied.Header("Location"), "<missing>");
    RawResponse allowed =
        Authorize({absl::StrCat("X-Forwarded-For: ", a().allowed.ip),
                   "Content-Length: 0"},
                  "/v1/authorize/some/path?q=1", method);
    EXPECT_EQ(allowed.status, 200) << allowed.head;
  }
}

TEST_F(ForwardAuthTest, ForwardedHeadersFromAnUntrustedPeerAreIgnored) {
  // 127.0.0.2 is loopback too, but not in --trusted_proxies=127.0.0.1/32.
  absl::StatusOr<RawResponse> response =
      RawExchange(server_->ports().http,
                  Request("/v1/authorize",
                          {absl::StrCat("X-Forwarded-For: ", a().allowed.ip),
                           absl::StrCat("Forwarded: for=", a().allowed.ip),
                           absl::StrCat("X-Real-IP: ", a().allowed.ip)}),
                  "127.0.0.2");
  if (absl::IsFailedPrecondition(response.status())) {
    GTEST_SKIP() << "cannot bind a client to 127.0.0.2 here: "
                 << response.status();
  }
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->Header("X-Geo-Client-IP"), "127.0.0.2") << response->head;
  EXPECT_EQ(response->Header("X-Geo-Country"), "") << response->head;
}

TEST_F(ForwardAuthTest, EveryXForwardedForLineWalkedFromTheRight) {
  // Two lines are one list: "allowed, denied, 127.0.0.1". The trusted proxy
  // on the right is skipped; the first untrusted address is the caller.
  RawResponse response = Authorize(
      {absl::StrCat("X-Forwarded-For: ", a().allowed.ip),
       absl::StrCat("X-Forwarded-For: ", a().denied.ip, ", 127.0.0.1")});
  EXPECT_EQ(response.status, 403) << response.head;
  EXPECT_EQ(response.Header("X-Geo-Client-IP"), a().denied.ip);

  // What a client prepends left of the caller never matters.
  response = Authorize(
      {absl::StrCat("X-Forwarded-For: ", a().allowed.ip, ", ", a().denied.ip)});
  EXPECT_EQ(response.status, 403) << response.head;
  EXPECT_EQ(response.Header("X-Geo-Client-IP"), a().denied.ip);
}

TEST_F(ForwardAuthTest, ForwardedTakesQuotedIpv6AndEveryLine) {
  RawResponse response =
      Authorize({"Forwarded: for=\"[2001:db8::1]:443\";proto=https"});
  EXPECT_EQ(response.Header("X-Geo-Client-IP"), "2001:db8::1") << response.head;
  EXPECT_NE(response.status / 100, 5) << response.head;

  // Several lines and entries, walked from the right past 127.0.0.1.
  response = Authorize({absl::StrCat("Forwarded: for=", a().allowed.ip),
                        absl::StrCat("Forwarded: for=\"", a().denied.ip,
                                     ":8443\", for=127.0.0.1")});
  EXPECT_EQ(response.Header("X-Geo-Client-IP"), a().denied.ip) << response.head;
}

TEST_F(ForwardAuthTest, GarbledAddressesStopTheWalk) {
  // Garbage on the right: nothing left of it can be vouched for, so the
  // caller is the trusted peer itself, never an address behind the garbage.
  for (const std::string& xff :
       {std::string("garbage"), std::string("999.1.1.1"),
        absl::StrCat(a().denied.ip, ", not-an-ip"), std::string("unknown"),
        std::string("1.2.3.4:80:90"), std::string(",,,"),
        absl::StrCat(a().denied.ip, "/24"),
        absl::StrCat(a().denied.ip, ", [::1"),
        absl::StrCat(a().denied.ip, ", [2001:db8::5]junk")}) {
    SCOPED_TRACE(xff);
    RawResponse response = Authorize({absl::StrCat("X-Forwarded-For: ", xff)});
    EXPECT_TRUE(response.status == 200 || response.status == 403)
        << response.head << response.body;
    EXPECT_EQ(response.Header("X-Geo-Client-IP"), "127.0.0.1") << response.head;
  }
  // Garbage left of a good address: the walk stops at that address.
  RawResponse response =
      Authorize({absl::StrCat("X-Forwarded-For: garbage, ", a().denied.ip)});
  EXPECT_EQ(response.status, 403) << response.head;
  EXPECT_EQ(response.Header("X-Geo-Client-IP"), a().denied.ip);
}

TEST_F(ForwardAuthTest, NoControlByteReachesAHeader) {
  const std::vector<std::string> attempts = {
      // Percent-encoded CR LF stays text; it must not be decoded into one.
      "X-Forwarded-Uri: /a%0d%0aX-Injected: 1",
      "X-Forwarded-Host: evil.example%0d%0aX-Injected:%201",
      // Raw bytes the HTTP parser may accept as obs-text.
      "X-Forwarded-Host: h\x80\xff\x7f.example",
      "X-Forwarded-Uri: /\xc3\xbc\x01\x1b[31m",
      "X-Forwarded-For: 1.2.3.4\x0b",
      "X-Forwarded-For: 1.2.3.4\x7f",
      "Forwarded: for=\"1.2.3.4\\\r\nX-Injected: 1\"",
      // A bare CR inside a value, and an obs-fold continuation line.
      "X-Forwarded-Host: a\rX-Injected: 1",
      "X-Forwarded-Host: a\r\n X-Injected: 1",
      std::string("X-Forwarded-Method: GET\0X", 25),
  };
  for (const std::string& header : attempts) {
    SCOPED_TRACE(absl::CEscape(header));
    RawResponse response = Authorize({header});
    EXPECT_NE(response.status, 0);
    EXPECT_NE(response.status / 100, 5) << response.head << response.body;
  }
  // A city name outside ASCII arrives percent-encoded.
  RawResponse accented =
      Authorize({absl::StrCat("X-Forwarded-For: ", a().accented.ip)});
  EXPECT_EQ(accented.Header("X-Geo-City"), PercentEncoded(a().accented.city));
  EXPECT_NE(accented.Header("X-Geo-City"), a().accented.city);
}

TEST_F(ForwardAuthTest, OversizedHeadersAre431) {
  RawResponse response =
      Authorize({absl::StrCat("X-Forwarded-For: ", std::string(20000, '1'))});
  EXPECT_EQ(response.status, 431) << response.head;
  response =
      Authorize({absl::StrCat("X-Forwarded-Uri: /", std::string(20000, 'a'))});
  EXPECT_EQ(response.status, 431) << response.head;
}

TEST_F(ForwardAuthTest, EnvoyStyleOriginalPathBelowTheEndpoint) {
  // Envoy's path_prefix: the original path follows /v1/authorize.
  RawResponse response =
      Authorize({absl::StrCat("X-Forwarded-For: ", a().allowed.ip)},
                "/v1/authorize/admin/users?page=2");
  EXPECT_EQ(response.status, 200) << response.head;
  EXPECT_EQ(response.Header("X-Geo-Policy"), "admin");
  response = Authorize({absl::StrCat("X-Forwarded-For: ", a().accented.ip)},
                       "/v1/authorize/admin/users");
  EXPECT_EQ(response.status, 403) << response.head;
  EXPECT_EQ(response.Header("X-Geo-Policy"), "admin");
  EXPECT_EQ(response.Header("X-Geo-Rule"), "default");
  // Envoy keeps the original method: POST routes to admin-writes.
  response = Authorize(
      {absl::StrCat("X-Forwarded-For: ", a().allowed.ip), "Content-Length: 0"},
      "/v1/authorize/admin/users", "POST");
  EXPECT_EQ(response.status, 403) << response.head;
  EXPECT_EQ(response.Header("X-Geo-Policy"), "admin-writes");
  // X-Forwarded-Uri wins over the path below the endpoint.
  response = Authorize({absl::StrCat("X-Forwarded-For: ", a().accented.ip),
                        "X-Forwarded-Uri: /public"},
                       "/v1/authorize/admin");
  EXPECT_EQ(response.Header("X-Geo-Policy"), "default") << response.head;
  EXPECT_EQ(response.status, 200) << response.head;
}

TEST_F(ForwardAuthTest, RoutesChooseNamedPolicies) {
  struct Case {
    std::vector<std::string> headers;
    std::string method;
    std::string policy;
  };
  const std::string caller = absl::StrCat("X-Forwarded-For: ", a().allowed.ip);
  const std::vector<Case> cases = {
      {{caller}, "GET", "default"},
      {{caller, "X-Forwarded-Uri: /admin/x"}, "GET", "admin"},
      {{caller, "X-Original-URI: /admin/x"}, "GET", "admin"},
      {{caller, "X-Forwarded-Uri: /admin/x", "X-Forwarded-Method: POST"},
       "GET",
       "admin-writes"},
      {{caller, "X-Original-URI: /admin", "X-Original-Method: POST"},
       "GET",
       "admin-writes"},
      {{caller, "X-Forwarded-Host: api.example.com",
        "X-Forwarded-Uri: /report/q"},
       "GET",
       "report"},
      {{caller, "X-Forwarded-Uri: /report/q"}, "GET", "default"},
      {{caller, "X-Forwarded-Host: shop.example.com",
        "X-Forwarded-Uri: /report"},
       "GET",
       "shop-report"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrJoin(c.headers, " | "));
    RawResponse response = Authorize(c.headers, "/v1/authorize", c.method);
    EXPECT_EQ(response.Header("X-Geo-Policy"), c.policy) << response.head;
  }
  // Host: api.example.com on the request itself, when X-Forwarded-Host is
  // absent.
  RawResponse response = Exchange(absl::StrCat(
      "GET /v1/authorize HTTP/1.1\r\nHost: api.example.com\r\n", caller,
      "\r\nX-Forwarded-Uri: /report\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(response.Header("X-Geo-Policy"), "report") << response.head;
}

TEST_F(ForwardAuthTest, DryRunReportsTheDenialAndAllows) {
  const std::string series =
      "geofence_decisions_total{policy=\"report\",result=\"dry_run_denied\","
      "rule=\"country\"}";
  const double before = std::max(0.0, MetricSample(Metrics(), series));
  RawResponse response = Authorize(
      {absl::StrCat("X-Forwarded-For: ", a().allowed.ip),
       "X-Forwarded-Host: api.example.com", "X-Forwarded-Uri: /report/daily"});
  EXPECT_EQ(response.status, 200) << response.head;
  EXPECT_EQ(response.Header("X-Geo-Policy"), "report");
  EXPECT_EQ(response.Header("X-Geo-Decision"), "deny");
  EXPECT_EQ(response.Header("X-Geo-Dry-Run"), "true");
  EXPECT_EQ(response.Header("X-Geo-Rule"), "country");
  EXPECT_TRUE(absl::StrContains(response.body, "\"dryRun\":true"))
      << response.body;
  EXPECT_GE(MetricSample(Metrics(), series), before + 1);
}

TEST_F(ForwardAuthTest, CheckTakesAPolicyName) {
  CurlClient client;
  absl::StatusOr<CurlResponse> response = client.Get(server_->http_url(
      absl::StrCat("/v1/check/", a().accented.ip, "?policy=admin")));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200) << response->body;
  EXPECT_TRUE(absl::StrContains(response->body, "\"allowed\":false"))
      << response->body;
  response = client.Get(
      server_->http_url(absl::StrCat("/v1/check/", a().accented.ip)));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_TRUE(absl::StrContains(response->body, "\"allowed\":true"))
      << response->body;
}

// Rewrites the policy (by rename) while clients ask for decisions that every
// version agrees on; the address whose decision the versions flip shows each
// reload took effect. No request may fail.
TEST_F(ForwardAuthTest, PolicyReloadUnderLoadFailsNoRequest) {
  struct Client {
    std::string forwarded_for;
    std::string uri;
    long status;
  };
  const std::vector<Client> clients = {
      {a().allowed.ip, "/", 200},
      {a().denied.ip, "/", 403},
      {a().allowed.ip, "/admin/x", 200},
  };
  std::atomic<bool> stop{false};
  std::atomic<int> requests{0};
  absl::Mutex mu;
  std::vector<std::string> failures;
  std::vector<std::thread> threads;
  for (const Client& c : clients) {
    threads.emplace_back([&, c] {
      CurlClient client;
      while (!stop.load()) {
        absl::StatusOr<CurlResponse> response =
            client.Get(server_->http_url("/v1/authorize"),
                       {absl::StrCat("X-Forwarded-For: ", c.forwarded_for),
                        absl::StrCat("X-Forwarded-Uri: ", c.uri)});
        requests.fetch_add(1);
        if (!response.ok() || response->status != c.status) {
          absl::MutexLock lock(&mu);
          if (failures.size() < 5) {
            failures.push_back(response.ok()
                                   ? absl::StrCat(c.forwarded_for, c.uri,
                                                  " -> ", response->status, " ",
                                                  response->body)
                                   : response.status().ToString());
          } else {
            failures.push_back("...");
          }
        }
      }
    });
  }
  // The accented address is allowed by the default policy, denied while
  // `deny_accented` is set.
  auto accented_status = [&] {
    return Authorize({absl::StrCat("X-Forwarded-For: ", a().accented.ip)})
        .status;
  };
  int reloads_seen = 0;
  for (int version = 1; version <= 6; ++version) {
    const bool deny_accented = version % 2 == 1;
    ASSERT_TRUE(ReplaceFile(*policy_path_, EdgePolicyYaml(a(), deny_accented)));
    const int want = deny_accented ? 403 : 200;
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (accented_status() != want && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(20));
    }
    if (accented_status() == want) ++reloads_seen;
  }
  stop.store(true);
  for (std::thread& thread : threads) thread.join();
  ASSERT_TRUE(ReplaceFile(*policy_path_, EdgePolicyYaml(a())));

  EXPECT_EQ(reloads_seen, 6);
  EXPECT_GT(requests.load(), 30);
  absl::MutexLock lock(&mu);
  EXPECT_TRUE(failures.empty())
      << failures.size() << " failed requests, e.g.:\n"
      << absl::StrJoin(failures, "\n");
}

// Without a database no decision can be made: each policy's on_error says
// what the ingress gets, and the failure is counted.
TEST(ForwardAuthWithoutDatabaseTest, FailsAsEachPolicySays) {
  absl::StatusOr<EdgeAddresses> addresses = PickEdgeAddresses();
  ASSERT_TRUE(addresses.ok()) << addresses.status();
  const std::string policy = NewTempDir() + "/policy.yaml";
  ASSERT_TRUE(ReplaceFile(policy, EdgePolicyYaml(*addresses)));
  absl::StatusOr<ServerProcess> server =
      StartEdgeServer(policy, /*databases=*/false);
  ASSERT_TRUE(server.ok()) << server.status();

  auto authorize = [&](absl::string_view uri) {
    absl::StatusOr<RawResponse> response = RawExchange(
        server->ports().http,
        Request("/v1/authorize",
                {absl::StrCat("X-Forwarded-For: ", addresses->allowed.ip),
                 absl::StrCat("X-Forwarded-Uri: ", uri)}));
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *response : RawResponse();
  };
  RawResponse closed = authorize("/");  // default: on_error deny
  EXPECT_EQ(closed.status, 403) << closed.head << closed.body;
  EXPECT_EQ(closed.Header("X-Geo-Rule"), "error");
  EXPECT_EQ(closed.Header("X-Geo-Decision"), "deny");
  RawResponse open = authorize("/open");
  EXPECT_EQ(open.status, 200) << open.head << open.body;
  EXPECT_EQ(open.Header("X-Geo-Rule"), "error");
  RawResponse strict = authorize("/strict");
  EXPECT_EQ(strict.status, 503) << strict.head << strict.body;

  CurlClient client;
  absl::StatusOr<CurlResponse> metrics = client.Get(server->metrics_url());
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_GE(MetricSample(metrics->body,
                         "geofence_decision_errors_total{policy=\"default\","
                         "reason=\"no_database\"}"),
            1)
      << metrics->body;
  EXPECT_GE(MetricSample(metrics->body,
                         "geofence_decisions_total{policy=\"default\","
                         "result=\"denied\",rule=\"error\"}"),
            1)
      << metrics->body;
}

}  // namespace
}  // namespace geo::testing
