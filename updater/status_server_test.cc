#include "updater/status_server.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "updater/http_client.h"

namespace geo::updater {
namespace {

TEST(RouteStatusRequestTest, Routes) {
  http::HttpHeaderList headers;
  auto route = [&](absl::string_view method, absl::string_view target,
                   bool healthy) {
    http::HttpRequest request(method, target, &headers, "", "127.0.0.1");
    http::HttpResponse response;
    RouteStatusRequest(
        request, [healthy] { return healthy; }, [] { return "m 1\n"; },
        &response);
    return response;
  };
  EXPECT_EQ(route("GET", "/healthz", true).status(), 200);
  EXPECT_EQ(route("GET", "/healthz", false).status(), 503);
  EXPECT_EQ(route("GET", "/metrics", true).body(), "m 1\n");
  EXPECT_EQ(route("GET", "/other", true).status(), 404);
  EXPECT_EQ(route("POST", "/healthz", true).status(), 405);
}

TEST(StatusServerTest, ServesOverHttp) {
  auto server = StartStatusServer(
      "127.0.0.1", 0, [] { return true; }, [] { return "up 1\n"; });
  ASSERT_TRUE(server.ok()) << server.status();
  HttpClient client({}, nullptr);
  std::string body;
  HttpRequest request;
  request.url =
      absl::StrCat("http://127.0.0.1:", (*server)->port(), "/metrics");
  absl::StatusOr<HttpResponse> response =
      client.Get(request, [&body](absl::string_view chunk) {
        body.append(chunk.data(), chunk.size());
        return absl::OkStatus();
      });
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(body, "up 1\n");
  (*server)->Shutdown(absl::Now() + absl::Seconds(1));
}

}  // namespace
}  // namespace geo::updater
