// Debian's nginx (auth_request) and Caddy (forward_auth) in front of a real
// geo_server, each running the configuration printed in docs/edge.md with
// only its placeholders replaced, and an upstream that reports the headers
// it received. The test client plays the load balancer in front of the
// ingress (LOAD_BALANCER_CIDR is 127.0.0.1/32): its X-Forwarded-For names
// the caller.
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "geo/http/test_http_client.h"
#include "gtest/gtest.h"
#include "tests/edge/doc_config.h"
#include "tests/edge/edge_fixture.h"
#include "tests/edge/ingress_process.h"
#include "tests/support/server_process.h"
#include "tests/support/test_files.h"

namespace geo::testing {
namespace {

using ::geo::http::CurlClient;
using ::geo::http::CurlResponse;

constexpr char kEdgeDoc[] = "docs/edge.md";

// What the upstream reported: name=value pieces, '\n' (nginx) or '|'
// (Caddy) between them. Empty when the request did not reach it.
std::map<std::string, std::string> Upstream(const CurlResponse& response) {
  std::map<std::string, std::string> seen;
  for (absl::string_view piece :
       absl::StrSplit(response.body, absl::ByAnyChar("\n|"))) {
    const size_t equals = piece.find('=');
    if (equals == absl::string_view::npos) continue;
    seen[std::string(piece.substr(0, equals))] =
        std::string(piece.substr(equals + 1));
  }
  if (seen["upstream"] != "yes") seen.clear();
  return seen;
}

class IngressTest
    : public EdgeSuiteTest<::testing::TestWithParam<std::string>> {
 protected:
  void SetUp() override {
    ASSERT_NE(server_, nullptr) << "geo_server did not start";
    const std::string doc = ReadFile(kEdgeDoc);
    ASSERT_FALSE(doc.empty()) << "cannot read " << kEdgeDoc;
    const std::string geo = absl::StrCat("127.0.0.1:", server_->ports().http);
    const std::string kind = GetParam();
    SiteRenderer render = [&](const IngressPorts& ports) {
      const std::string upstream = absl::StrCat("127.0.0.1:", ports.upstream);
      if (kind == "nginx") {
        return DocConfig(
            doc, "nginx",
            {{"GEO_ADDRESS", geo},
             {"LISTEN_ADDRESS", absl::StrCat("127.0.0.1:", ports.listen)},
             {"LOAD_BALANCER_CIDR", "127.0.0.1/32"},
             {"UPSTREAM_ADDRESS", upstream}});
      }
      return DocConfig(
          doc, "caddy",
          {{"SITE_ADDRESS", absl::StrCat("http://:", ports.listen)},
           {"GEO_ADDRESS", geo},
           {"LOAD_BALANCER_CIDR", "127.0.0.1/32"},
           {"UPSTREAM_ADDRESS", upstream}});
    };
    absl::StatusOr<std::unique_ptr<IngressProcess>> ingress =
        IngressProcess::Start(kind, render);
    ASSERT_TRUE(ingress.ok()) << ingress.status();
    ingress_ = *std::move(ingress);
  }

  void TearDown() override {
    if (ingress_ == nullptr) return;
    absl::StatusOr<int> code = ingress_->Stop(absl::Seconds(15));
    EXPECT_TRUE(code.ok()) << code.status();
    if (HasFailure()) {
      std::cerr << GetParam() << " log:\n"
                << ingress_->Log() << "\ngeo log:\n"
                << server_->Log();
    }
  }

  CurlResponse Get(const std::string& path,
                   const std::vector<std::string>& headers) {
    absl::StatusOr<CurlResponse> response =
        client_.Get(ingress_->url(path), headers);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *response : CurlResponse();
  }
  CurlResponse Send(const std::string& method, const std::string& path,
                    const std::vector<std::string>& headers) {
    absl::StatusOr<CurlResponse> response =
        client_.Send(method, ingress_->url(path), "", headers);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *response : CurlResponse();
  }
  const EdgeAddresses& a() const { return *addresses_; }
  std::string From(const EdgeAddress& address) const {
    return absl::StrCat("X-Forwarded-For: ", address.ip);
  }

  std::unique_ptr<IngressProcess> ingress_;
  CurlClient client_;
};

TEST_P(IngressTest, DeniedCountryGets403AndNeverReachesTheUpstream) {
  CurlResponse response = Get("/shop/cart", {From(a().denied)});
  EXPECT_EQ(response.status, 403) << response.body;
  EXPECT_TRUE(Upstream(response).empty()) << response.body;
}

TEST_P(IngressTest, AllowedCountryReachesTheUpstreamWithItsLocation) {
  CurlResponse response =
      Get("/shop/cart?item=1",
          {From(a().allowed), "X-Geo-Country: ZZ", "X-Geo-Decision: forged"});
  ASSERT_EQ(response.status, 200) << response.body;
  std::map<std::string, std::string> seen = Upstream(response);
  ASSERT_FALSE(seen.empty()) << response.body;
  EXPECT_EQ(seen["uri"], "/shop/cart?item=1");
  // geo's answer, not the client's own header.
  EXPECT_EQ(seen["x-geo-country"], a().allowed.country);
  EXPECT_EQ(seen["x-geo-decision"], "allow");
  EXPECT_EQ(seen["x-geo-dry-run"], "false");
  EXPECT_EQ(seen["x-geo-policy"], "default");
  EXPECT_EQ(seen["x-geo-subdivision"], a().allowed.subdivision);
  EXPECT_EQ(seen["x-geo-city"], PercentEncoded(a().allowed.city));
}

TEST_P(IngressTest, CityOutsideAsciiArrivesPercentEncoded) {
  CurlResponse response = Get("/", {From(a().accented)});
  ASSERT_EQ(response.status, 200) << response.body;
  std::map<std::string, std::string> seen = Upstream(response);
  EXPECT_EQ(seen["x-geo-country"], a().accented.country);
  EXPECT_EQ(seen["x-geo-city"], PercentEncoded(a().accented.city));
}

TEST_P(IngressTest, ClientForwardedAndRealIpHeadersDoNotChooseTheCaller) {
  // The load balancer says the caller is in the denied country; the client
  // also claims an allowed address in headers geo would otherwise read.
  CurlResponse response = Get(
      "/", {From(a().denied), absl::StrCat("Forwarded: for=", a().allowed.ip),
            absl::StrCat("X-Real-IP: ", a().allowed.ip)});
  EXPECT_EQ(response.status, 403) << response.body;
  EXPECT_TRUE(Upstream(response).empty()) << response.body;
}

TEST_P(IngressTest, RoutesChooseNamedPoliciesThroughTheIngress) {
  // /admin allows only the allowed country (the path reaches geo).
  EXPECT_EQ(Get("/admin/users", {From(a().allowed)}).status, 200);
  EXPECT_EQ(Get("/admin/users", {From(a().accented)}).status, 403);
  // POST /admin denies everyone (the method reaches geo).
  EXPECT_EQ(Send("POST", "/admin/users", {From(a().allowed)}).status, 403);
  // shop.example.com/report: an exact host beats *.example.com (the host
  // reaches geo).
  CurlResponse shop =
      Get("/report", {From(a().allowed), "Host: shop.example.com"});
  EXPECT_EQ(shop.status, 200) << shop.body;
  EXPECT_EQ(Upstream(shop)["x-geo-policy"], "shop-report") << shop.body;
}

TEST_P(IngressTest, DryRunPassesTheRequestAndSaysWhatWouldHaveHappened) {
  CurlResponse response =
      Get("/report/daily", {From(a().allowed), "Host: api.example.com"});
  ASSERT_EQ(response.status, 200) << response.body;
  std::map<std::string, std::string> seen = Upstream(response);
  ASSERT_FALSE(seen.empty()) << response.body;
  EXPECT_EQ(seen["x-geo-policy"], "report");
  EXPECT_EQ(seen["x-geo-decision"], "deny");
  EXPECT_EQ(seen["x-geo-dry-run"], "true");
}

INSTANTIATE_TEST_SUITE_P(DocsEdge, IngressTest,
                         ::testing::Values("nginx", "caddy"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

// The placeholders are what the tests replace; a doc edit that renames or
// drops one fails here with a message that says so.
TEST(EdgeDocTest, TestedConfigurationsAreMarkedAndUseTheirPlaceholders) {
  const std::string doc = ReadFile(kEdgeDoc);
  ASSERT_FALSE(doc.empty());
  EXPECT_TRUE(DocConfig(doc, "nginx",
                        {{"GEO_ADDRESS", "g"},
                         {"LISTEN_ADDRESS", "l"},
                         {"LOAD_BALANCER_CIDR", "c"},
                         {"UPSTREAM_ADDRESS", "u"}})
                  .ok());
  EXPECT_TRUE(DocConfig(doc, "caddy",
                        {{"SITE_ADDRESS", "s"},
                         {"GEO_ADDRESS", "g"},
                         {"LOAD_BALANCER_CIDR", "c"},
                         {"UPSTREAM_ADDRESS", "u"}})
                  .ok());
  EXPECT_FALSE(DocConfig(doc, "nginx", {{"NOT_THERE", "x"}}).ok());
  EXPECT_FALSE(DocConfig(doc, "traefik", {}).ok());
}

}  // namespace
}  // namespace geo::testing
