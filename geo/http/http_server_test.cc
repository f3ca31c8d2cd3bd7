#include "geo/http/http_server.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "geo/http/gateway.h"
#include "geo/http/router.h"
#include "geo/http/test_http_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace geo::http {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

class HttpServerTest : public ::testing::Test {
 protected:
  HttpServerTest() {
    Add("GET", "/v1/lookup/{ip}",
        [](const HttpRequest& request, const PathVariables& variables,
           HttpResponse* response) {
          const auto language = request.QueryParameter("language");
          response->SetJson(
              200, absl::StrCat(R"({"ip":")", variables.Get("ip"),
                                R"(","language":")", language.value_or(""),
                                R"(","peer":")", request.peer_address(),
                                R"(","xff":")",
                                request.Header("x-forwarded-for").value_or(""),
                                R"("})"));
        });
    Add("POST", "/v1/lookup:batch",
        [](const HttpRequest& request, const PathVariables&,
           HttpResponse* response) {
          response->SetJson(
              200, absl::StrCat(R"({"bytes":)", request.body().size(), "}"));
        });
    Add("GET", "/v1/slow",
        [this](const HttpRequest&, const PathVariables&,
               HttpResponse* response) {
          slow_request_started_.Notify();
          absl::SleepFor(absl::Milliseconds(300));
          response->set_body("done");
        });
    Add("GET", "/v1/status/{code}",
        [](const HttpRequest&, const PathVariables& variables,
           HttpResponse* response) {
          int code = 0;
          if (!absl::SimpleAtoi(variables.Get("code"), &code)) code = 2;
          const auto status_code = static_cast<absl::StatusCode>(code);
          response->SetJson(HttpStatusFromGrpcCode(status_code),
                            GatewayErrorBody(status_code, "as asked"));
          response->AddHeader("X-Test", "yes");
        });
  }

  void Add(const std::string& method, const std::string& path_template,
           RouteHandler handler) {
    ASSERT_TRUE(router_.Add(method, path_template, std::move(handler)).ok());
  }

  void StartServer() {
    auto server = HttpServer::Start(options_, router_.AsHandler());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }

  std::string Url(absl::string_view path) const {
    return absl::StrCat("http://127.0.0.1:", server_->port(), path);
  }

  Router router_;
  HttpServerOptions options_;
  absl::Notification slow_request_started_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, ServesRoutesWithQueryHeadersAndPeer) {
  StartServer();
  CurlClient client;
  auto response = client.Get(Url("/v1/lookup/2001:db8::1?language=pt-BR"),
                             {"X-Forwarded-For: 203.0.113.7"});
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body,
            R"({"ip":"2001:db8::1","language":"pt-BR","peer":"127.0.0.1",)"
            R"("xff":"203.0.113.7"})");
  EXPECT_THAT(response->headers, Contains("Content-Type: application/json"));
}

TEST_F(HttpServerTest, PostBody) {
  StartServer();
  CurlClient client;
  auto response =
      client.Send("POST", Url("/v1/lookup:batch"), R"({"ips":["1.2.3.4"]})");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, R"({"bytes":19})");
}

TEST_F(HttpServerTest, LargeBodyWithExpectContinueWithinLimit) {
  StartServer();
  CurlClient client;
  // curl sends "Expect: 100-continue" for bodies this large and waits a
  // second for the 100 unless the server answers it.
  const std::string body(200 * 1024, 'x');
  const absl::Time start = absl::Now();
  auto response = client.Send("POST", Url("/v1/lookup:batch"), body);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->body, absl::StrCat(R"({"bytes":)", body.size(), "}"));
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(900));
}

TEST_F(HttpServerTest, UnknownPathAndWrongMethodHaveGatewayBodies) {
  StartServer();
  CurlClient client;
  auto not_found = client.Get(Url("/v2/nothing"));
  ASSERT_TRUE(not_found.ok());
  EXPECT_EQ(not_found->status, 404);
  EXPECT_EQ(not_found->body,
            R"({"code":5,"message":"Not Found","details":[]})");
  auto wrong_method = client.Send("DELETE", Url("/v1/lookup/1.2.3.4"), "");
  ASSERT_TRUE(wrong_method.ok());
  EXPECT_EQ(wrong_method->status, 501);
  EXPECT_EQ(wrong_method->body,
            R"({"code":12,"message":"Method Not Allowed","details":[]})");
}

TEST_F(HttpServerTest, HandlerStatusesAndHeadersReachTheClient) {
  StartServer();
  CurlClient client;
  auto cancelled = client.Get(Url("/v1/status/1"));
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->status, 499);
  EXPECT_THAT(cancelled->headers, Contains("X-Test: yes"));
  EXPECT_THAT(cancelled->headers,
              Contains(StartsWith("HTTP/1.1 499 Client Closed Request")));
  auto unavailable = client.Get(Url("/v1/status/14"));
  ASSERT_TRUE(unavailable.ok());
  EXPECT_EQ(unavailable->status, 503);
  EXPECT_EQ(unavailable->body,
            R"({"code":14,"message":"as asked","details":[]})");
}

TEST_F(HttpServerTest, HeadGetsTheLengthButNoBody) {
  Add("HEAD", "/v1/lookup/{ip}",
      [](const HttpRequest&, const PathVariables&, HttpResponse* response) {
        response->SetJson(200, R"({"ip":"1.2.3.4"})");
      });
  StartServer();
  auto connection = RawConnection::Connect(server_->port());
  ASSERT_TRUE(connection.ok());
  ASSERT_TRUE(
      connection->Send("HEAD /v1/lookup/1.2.3.4 HTTP/1.1\r\nHost: x\r\n\r\n"
                       "GET /v1/lookup/5.6.7.8 HTTP/1.1\r\nHost: "
                       "x\r\nConnection: close\r\n\r\n"));
  const std::string received = connection->ReadUntil(absl::Seconds(5));
  EXPECT_THAT(received, HasSubstr("Content-Length: 16\r\n"));
  EXPECT_THAT(received, Not(HasSubstr(R"({"ip":"1.2.3.4"})")));
  // The next response on the connection starts right after the HEAD header.
  EXPECT_THAT(received, HasSubstr("\r\n\r\nHTTP/1.1 200 OK"));
  EXPECT_THAT(received, HasSubstr("5.6.7.8"));
}

TEST_F(HttpServerTest, KeepAliveReusesTheConnection) {
  StartServer();
  CurlClient client;
  long first_port = 0;
  for (int i = 0; i < 20; ++i) {
    auto response = client.Get(Url("/v1/lookup/1.2.3.4"));
    ASSERT_TRUE(response.ok()) << response.status();
    ASSERT_EQ(response->status, 200);
    if (i == 0) first_port = response->local_port;
    EXPECT_EQ(response->local_port, first_port);
  }
  // Error answers from the router keep the connection too.
  auto not_found = client.Get(Url("/nothing"));
  ASSERT_TRUE(not_found.ok());
  EXPECT_EQ(not_found->local_port, first_port);
  EXPECT_EQ(server_->active_connections(), 1);
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  StartServer();
  auto connection = RawConnection::Connect(server_->port());
  ASSERT_TRUE(connection.ok());
  std::string requests;
  for (const char* ip : {"1.1.1.1", "2.2.2.2", "3.3.3.3"}) {
    absl::StrAppend(&requests, "GET /v1/lookup/", ip,
                    " HTTP/1.1\r\nHost: x\r\n\r\n");
  }
  absl::StrAppend(&requests,
                  "GET /v1/lookup/4.4.4.4 HTTP/1.1\r\nHost: x\r\n"
                  "Connection: close\r\n\r\n");
  ASSERT_TRUE(connection->Send(requests));
  const std::string received = connection->ReadUntil(absl::Seconds(5));
  const size_t first = received.find("1.1.1.1");
  const size_t second = received.find("2.2.2.2");
  const size_t third = received.find("3.3.3.3");
  const size_t fourth = received.find("4.4.4.4");
  ASSERT_NE(fourth, std::string::npos) << received;
  EXPECT_LT(first, second);
  EXPECT_LT(second, third);
  EXPECT_LT(third, fourth);
}

TEST_F(HttpServerTest, OversizedHeaderIs431) {
  options_.max_header_bytes = 1024;
  StartServer();
  CurlClient client;
  auto response = client.Get(Url("/v1/lookup/1.2.3.4"),
                             {"X-Big: " + std::string(2048, 'a')});
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 431);
  EXPECT_EQ(response->body,
            R"({"code":8,"message":"request header fields too large",)"
            R"("details":[]})");
  EXPECT_THAT(response->headers, Contains("Connection: close"));
}

TEST_F(HttpServerTest, OversizedBodyIs413) {
  options_.max_body_bytes = 1000;
  StartServer();
  CurlClient client;
  auto small =
      client.Send("POST", Url("/v1/lookup:batch"), std::string(1000, 'x'));
  ASSERT_TRUE(small.ok()) << small.status();
  EXPECT_EQ(small->status, 200);
  for (const size_t size : {size_t{1001}, size_t{4 * 1024 * 1024}}) {
    auto response =
        client.Send("POST", Url("/v1/lookup:batch"), std::string(size, 'x'));
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->status, 413) << size;
    EXPECT_EQ(response->body,
              R"({"code":8,"message":"request body too large","details":[]})");
  }
}

TEST_F(HttpServerTest, MalformedRequestIs400) {
  StartServer();
  auto connection = RawConnection::Connect(server_->port());
  ASSERT_TRUE(connection.ok());
  ASSERT_TRUE(connection->Send("GARBAGE\r\n\r\n"));
  const std::string received = connection->ReadUntil(absl::Seconds(5));
  EXPECT_THAT(received, StartsWith("HTTP/1.1 400 Bad Request"));
  EXPECT_THAT(received, HasSubstr(R"("code":3)"));
}

TEST_F(HttpServerTest, SlowClientIsCutOffAndDoesNotHoldTheServer) {
  options_.request_timeout = absl::Milliseconds(300);
  StartServer();
  auto slow = RawConnection::Connect(server_->port());
  ASSERT_TRUE(slow.ok());
  const std::string request =
      "GET /v1/lookup/1.2.3.4 HTTP/1.1\r\nHost: x\r\n\r\n";
  const absl::Time start = absl::Now();
  bool cut_off = false;
  for (const char byte : request) {
    if (!slow->Send(std::string(1, byte))) {
      cut_off = true;
      break;
    }
    // Meanwhile an ordinary client is served at once.
    CurlClient client;
    auto response = client.Get(Url("/v1/lookup/9.9.9.9"));
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->status, 200);
    if (slow->WaitForClose(absl::Milliseconds(50))) {
      cut_off = true;
      break;
    }
  }
  EXPECT_TRUE(cut_off);
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
}

TEST_F(HttpServerTest, IdleKeepAliveConnectionIsClosed) {
  options_.idle_timeout = absl::Milliseconds(200);
  StartServer();
  auto connection = RawConnection::Connect(server_->port());
  ASSERT_TRUE(connection.ok());
  EXPECT_TRUE(connection->WaitForClose(absl::Seconds(5)));
}

TEST_F(HttpServerTest, ConnectionsBeyondTheLimitAreRefused) {
  options_.max_connections = 2;
  StartServer();
  auto first = RawConnection::Connect(server_->port());
  auto second = RawConnection::Connect(server_->port());
  ASSERT_TRUE(first.ok() && second.ok());
  // Both are accepted once a request on each has been answered.
  for (auto* connection : {&*first, &*second}) {
    ASSERT_TRUE(
        connection->Send("GET /v1/lookup/1.1.1.1 HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_THAT(connection->ReadUntil(absl::Seconds(5), "}"),
                StartsWith("HTTP/1.1 200 OK"));
  }
  auto third = RawConnection::Connect(server_->port());
  ASSERT_TRUE(third.ok());
  ASSERT_TRUE(
      third->Send("GET /v1/lookup/1.1.1.1 HTTP/1.1\r\nHost: x\r\n\r\n"));
  const std::string refused = third->ReadUntil(absl::Seconds(5));
  EXPECT_THAT(refused, StartsWith("HTTP/1.1 503 Service Unavailable"));
  EXPECT_THAT(refused, HasSubstr(R"("message":"too many connections")"));
  EXPECT_THAT(refused, HasSubstr("Retry-After: 1\r\n"));
}

TEST_F(HttpServerTest, ConcurrentClientsOnSeveralIoThreads) {
  options_.io_threads = 4;
  StartServer();
  constexpr int kClients = 16;
  constexpr int kRequestsPerClient = 50;
  std::atomic<int> succeeded{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([this, c, &succeeded] {
      CurlClient client;
      for (int i = 0; i < kRequestsPerClient; ++i) {
        const std::string ip = absl::StrCat("10.0.", c, ".", i);
        auto response = client.Get(Url("/v1/lookup/" + ip));
        if (response.ok() && response->status == 200 &&
            absl::StrContains(response->body, ip)) {
          succeeded.fetch_add(1);
        }
      }
    });
  }
  for (auto& client : clients) client.join();
  EXPECT_EQ(succeeded.load(), kClients * kRequestsPerClient);
}

TEST_F(HttpServerTest, GracefulShutdownFinishesRequestsInFlight) {
  options_.io_threads = 2;
  StartServer();
  const std::string slow_url = Url("/v1/slow");
  const std::string url = Url("/v1/lookup/1.2.3.4");
  // An idle keep-alive connection must not delay the shutdown.
  CurlClient idle_client;
  ASSERT_TRUE(idle_client.Get(url).ok());

  absl::StatusOr<CurlResponse> slow_response;
  std::thread slow_client([&] {
    CurlClient client;
    slow_response = client.Get(slow_url);
  });
  slow_request_started_.WaitForNotification();
  const absl::Time start = absl::Now();
  server_->Shutdown(absl::Now() + absl::Seconds(5));
  const absl::Duration shutdown_took = absl::Now() - start;
  slow_client.join();

  ASSERT_TRUE(slow_response.ok()) << slow_response.status();
  EXPECT_EQ(slow_response->status, 200);
  EXPECT_EQ(slow_response->body, "done");
  EXPECT_THAT(slow_response->headers, Contains("Connection: close"));
  EXPECT_LT(shutdown_took, absl::Seconds(2));
  EXPECT_EQ(server_->active_connections(), 0);
  // No longer accepting.
  CurlClient late_client;
  EXPECT_FALSE(late_client.Get(url).ok());
  server_->Shutdown(absl::Now());  // Idempotent.
}

TEST_F(HttpServerTest, ShutdownDeadlineClosesStuckConnections) {
  StartServer();
  auto stuck = RawConnection::Connect(server_->port());
  ASSERT_TRUE(stuck.ok());
  // Half a request: the server waits for the rest until the deadline.
  ASSERT_TRUE(stuck->Send("GET /v1/lookup/1.2.3.4 HTTP/1.1\r\n"));
  absl::SleepFor(absl::Milliseconds(50));
  const absl::Time start = absl::Now();
  server_->Shutdown(absl::Now() + absl::Milliseconds(200));
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  EXPECT_TRUE(stuck->WaitForClose(absl::Seconds(1)));
}

TEST(HttpServerStartTest, BadAddressAndBusyPortFail) {
  HttpServerOptions options;
  options.address = "not an address";
  const auto handler = [](const HttpRequest&, HttpResponse*) {};
  EXPECT_EQ(HttpServer::Start(options, handler).status().code(),
            absl::StatusCode::kInvalidArgument);
  options.address = "127.0.0.1";
  auto first = HttpServer::Start(options, handler);
  ASSERT_TRUE(first.ok());
  options.port = (*first)->port();
  EXPECT_EQ(HttpServer::Start(options, handler).status().code(),
            absl::StatusCode::kUnavailable);
}

TEST(HttpServerStartTest, ListensOnIpv6Loopback) {
  HttpServerOptions options;
  options.address = "::1";
  auto server = HttpServer::Start(
      options, [](const HttpRequest& request, HttpResponse* response) {
        response->set_body(std::string(request.peer_address()));
      });
  if (!server.ok()) GTEST_SKIP() << "no IPv6 loopback: " << server.status();
  CurlClient client;
  auto response =
      client.Get(absl::StrCat("http://[::1]:", (*server)->port(), "/"));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->body, "::1");
}

}  // namespace
}  // namespace geo::http
