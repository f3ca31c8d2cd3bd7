#include "updater/http_client.h"

#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/updater/fake_maxmind_server.h"
#include "tests/updater/forward_proxy.h"

namespace geo::updater {
namespace {

using testing::FakeMaxMindServer;
using testing::FakeResponse;
using ::testing::HasSubstr;
using ::testing::Not;

class HttpClientTest : public ::testing::Test {
 protected:
  absl::StatusOr<HttpResponse> Get(const std::string& path,
                                   HttpClientOptions options = {},
                                   const std::string& password = "") {
    HttpClient client(options, &cancel_);
    HttpRequest request;
    request.url = server_.url() + path;
    request.username = password.empty() ? "" : "user";
    request.password = password;
    body_.clear();
    return client.Get(request, [this](absl::string_view chunk) {
      body_.append(chunk.data(), chunk.size());
      return absl::OkStatus();
    });
  }

  FakeMaxMindServer server_;
  absl::Notification cancel_;
  std::string body_;
};

TEST_F(HttpClientTest, ReturnsBodyAndHeaders) {
  server_.SetFile("a", "hello", absl::FromUnixSeconds(1715083200));
  absl::StatusOr<HttpResponse> response = Get("/files/a");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(body_, "hello");
  EXPECT_EQ(response->body_bytes, 5);
  EXPECT_FALSE(response->etag.empty());
  EXPECT_EQ(response->last_modified, "Tue, 07 May 2024 12:00:00 GMT");
}

TEST_F(HttpClientTest, ErrorBodiesDoNotReachTheSink) {
  FakeResponse error;
  error.status = 429;
  error.headers = {{"Retry-After", "7"}};
  error.body = "slow down";
  server_.Enqueue("/x", error);
  absl::StatusOr<HttpResponse> response = Get("/x");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 429);
  EXPECT_EQ(response->retry_after, "7");
  EXPECT_EQ(response->error_body, "slow down");
  EXPECT_TRUE(body_.empty());
}

TEST_F(HttpClientTest, SendsBasicAuth) {
  server_.Enqueue("/auth", FakeResponse());
  ASSERT_TRUE(Get("/auth", {}, "pa55").ok());
  // "user:pa55" in base64.
  EXPECT_EQ(server_.requests().back().headers.at("authorization"),
            "Basic dXNlcjpwYTU1");
}

TEST_F(HttpClientTest, TruncatedBodyIsUnavailable) {
  FakeResponse truncated;
  truncated.body = std::string(1000, 'x');
  truncated.content_length = 5000;
  server_.Enqueue("/t", truncated);
  absl::StatusOr<HttpResponse> response = Get("/t");
  EXPECT_TRUE(absl::IsUnavailable(response.status())) << response.status();
}

TEST_F(HttpClientTest, SlowBodyTimesOut) {
  FakeResponse slow;
  slow.body = std::string(10 * 1024, 'x');
  slow.delay_per_chunk = absl::Milliseconds(200);
  server_.Enqueue("/slow", slow);
  HttpClientOptions options;
  options.total_timeout = absl::Milliseconds(500);
  absl::StatusOr<HttpResponse> response = Get("/slow", options);
  EXPECT_TRUE(absl::IsDeadlineExceeded(response.status())) << response.status();
}

TEST_F(HttpClientTest, RefusesOversizedBodies) {
  FakeResponse big;
  big.body = std::string(4096, 'x');
  server_.Enqueue("/big", big);
  HttpClientOptions options;
  options.max_body_bytes = 1000;
  EXPECT_TRUE(absl::IsOutOfRange(Get("/big", options).status()));
}

TEST_F(HttpClientTest, CancelAbortsTransfer) {
  FakeResponse slow;
  slow.body = std::string(64 * 1024, 'x');
  slow.delay_per_chunk = absl::Milliseconds(100);
  server_.Enqueue("/slow", slow);
  std::thread canceller([this] {
    server_.AwaitRequests("/slow", 1, absl::Seconds(10));
    cancel_.Notify();
  });
  absl::StatusOr<HttpResponse> response = Get("/slow");
  canceller.join();
  EXPECT_TRUE(absl::IsCancelled(response.status())) << response.status();
}

TEST_F(HttpClientTest, ErrorsNeverContainThePasswordOrQuery) {
  HttpClient client({}, nullptr);
  HttpRequest request;
  // Nothing listens on port 1.
  request.url = "http://127.0.0.1:1/path?signature=abc";
  request.username = "user";
  request.password = "top-secret";
  absl::StatusOr<HttpResponse> response =
      client.Get(request, [](absl::string_view) { return absl::OkStatus(); });
  ASSERT_TRUE(absl::IsUnavailable(response.status()));
  std::string message(response.status().message());
  EXPECT_THAT(message, Not(HasSubstr("top-secret")));
  EXPECT_THAT(message, Not(HasSubstr("signature")));
  EXPECT_THAT(message, HasSubstr("127.0.0.1:1/path"));
}

TEST_F(HttpClientTest, RefusesOtherProtocols) {
  HttpClient client({}, nullptr);
  HttpRequest request;
  request.url = "file:///etc/passwd";
  EXPECT_FALSE(
      client.Get(request, [](absl::string_view) { return absl::OkStatus(); })
          .ok());
}

TEST(RedactUrlTest, DropsUserInfoQueryAndFragment) {
  EXPECT_EQ(RedactUrl("https://u:p@host/a/b?x=1#f"), "https://host/a/b");
  EXPECT_EQ(RedactUrl("https://host/a"), "https://host/a");
}

}  // namespace
}  // namespace geo::updater

namespace geo::updater {
namespace {

using testing::FakeMaxMindServer;
using testing::ForwardProxy;
using ::testing::IsEmpty;

// Sets an environment variable for the test's lifetime.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() { ::unsetenv(name_); }

 private:
  const char* name_;
};

class HttpClientProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.SetFile("a", "through", absl::FromUnixSeconds(1715083200));
  }
  absl::StatusOr<HttpResponse> Get(const HttpClientOptions& options) {
    HttpClient client(options, &cancel_);
    HttpRequest request;
    request.url = server_.url() + "/files/a";
    body_.clear();
    return client.Get(request, [this](absl::string_view chunk) {
      body_.append(chunk.data(), chunk.size());
      return absl::OkStatus();
    });
  }

  FakeMaxMindServer server_;
  ForwardProxy proxy_;
  absl::Notification cancel_;
  std::string body_;
};

TEST(NormalizeProxyTest, GeoIpUpdateForms) {
  EXPECT_EQ(NormalizeProxy("127.0.0.1:8888"), "http://127.0.0.1:8888");
  EXPECT_EQ(NormalizeProxy("proxy.internal"), "http://proxy.internal:1080");
  EXPECT_EQ(NormalizeProxy("https://proxy:3128"), "https://proxy:3128");
  EXPECT_EQ(NormalizeProxy("socks5://proxy"), "socks5://proxy:1080");
  EXPECT_EQ(NormalizeProxy("[::1]"), "http://[::1]:1080");
  EXPECT_EQ(NormalizeProxy("[::1]:3128"), "http://[::1]:3128");
  EXPECT_EQ(NormalizeProxy(""), "");
}

TEST_F(HttpClientProxyTest, ConfiguredProxyCarriesTheRequest) {
  HttpClientOptions options;
  options.proxy = proxy_.address();
  absl::StatusOr<HttpResponse> response = Get(options);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(body_, "through");
  ASSERT_EQ(proxy_.requests().size(), 1u);
  EXPECT_EQ(proxy_.requests()[0].request_line,
            absl::StrCat("GET ", server_.url(), "/files/a HTTP/1.1"));
}

TEST_F(HttpClientProxyTest, ProxyCredentialsAreSentAndNeverInErrors) {
  proxy_.RequireAuthorization("Basic dXNlcjpwcm94eS1zZWNyZXQ=");
  HttpClientOptions options;
  options.proxy = proxy_.address();
  options.proxy_user_password = "user:proxy-secret";
  absl::StatusOr<HttpResponse> response = Get(options);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);

  options.proxy_user_password = "user:wrong-secret";
  response = Get(options);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 407);
}

TEST_F(HttpClientProxyTest, NoProxyIsHonouredWithAConfiguredProxy) {
  ScopedEnv no_proxy("NO_PROXY", "127.0.0.1");
  HttpClientOptions options;
  options.proxy = proxy_.address();
  absl::StatusOr<HttpResponse> response = Get(options);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(body_, "through");
  EXPECT_THAT(proxy_.requests(), IsEmpty());
}

TEST_F(HttpClientProxyTest, StandardEnvironmentSelectsAProxy) {
  // libcurl reads http_proxy (lower case only, for http URLs) and
  // https_proxy / HTTPS_PROXY for https URLs such as MaxMind's.
  ScopedEnv http_proxy("http_proxy", "http://" + proxy_.address());
  absl::StatusOr<HttpResponse> response = Get(HttpClientOptions{});
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(body_, "through");
  EXPECT_EQ(proxy_.requests().size(), 1u);
}

TEST_F(HttpClientProxyTest, UnreachableProxyIsTransient) {
  HttpClientOptions options;
  options.proxy = "127.0.0.1:1";
  options.proxy_user_password = "user:hidden-pass";
  absl::StatusOr<HttpResponse> response = Get(options);
  ASSERT_FALSE(response.ok());
  EXPECT_TRUE(absl::IsUnavailable(response.status())) << response.status();
  EXPECT_THAT(std::string(response.status().message()),
              Not(HasSubstr("hidden-pass")));
}

}  // namespace
}  // namespace geo::updater
