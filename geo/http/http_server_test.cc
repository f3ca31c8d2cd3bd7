#include "geo/http/http_server.h"

#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "geo/http/grpc_gateway_mapping.h"
#include "geo/http/router.h"
#include "geo/http/test_http_client.h"
#include "geo/http/test_refused_framings.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define GEO_HTTP_TEST_SANITIZER 1
#include <sanitizer/allocator_interface.h>
#endif
#endif

namespace geo::http {
namespace {

#ifndef GEO_HTTP_TEST_SANITIZER
// Allocations made on the thread a test names, counted by the replacement
// operator new below (not built with sanitizers, which have their own).
std::atomic<std::thread::id> io_thread_to_count{};
std::atomic<long> io_thread_allocations{0};
#endif

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

class HttpServerTest : public ::testing::Test {
 protected:
  HttpServerTest() {
    // As geo's server: the server's own errors in grpc-gateway's body.
    options_.error_formatter = GatewayHttpErrorBody;
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
    // Every X-Forwarded-For value, in order, and the body's size.
    Add("POST", "/v1/headers",
        [](const HttpRequest& request, const PathVariables&,
           HttpResponse* response) {
          response->SetJson(
              200,
              absl::StrCat(
                  R"({"xff":")",
                  absl::StrJoin(request.HeaderValues("x-forwarded-for"), "|"),
                  R"(","bytes":)", request.body().size(), "}"));
        });
    // A response as large as the request, ending in "END".
    Add("POST", "/v1/echo",
        [](const HttpRequest& request, const PathVariables&,
           HttpResponse* response) {
          response->set_body(request.body());
          response->mutable_body()->append("END");
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

  // The answer to a POST of `bytes` bytes to /v1/lookup:batch, sent by one
  // client (one connection, kept alive) for the whole test.
  CurlResponse PostBatchOf(size_t bytes) {
    absl::StatusOr<CurlResponse> response = batch_client_.Send(
        "POST", Url("/v1/lookup:batch"), std::string(bytes, 'x'));
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *std::move(response) : CurlResponse();
  }

  // What the server answers `request` on a connection of its own, read until
  // the server closes it or 5 seconds pass.
  std::string AnswerTo(absl::string_view request) {
    auto connection = RawConnection::Connect(server_->port());
    EXPECT_TRUE(connection.ok());
    if (!connection.ok()) return "";
    EXPECT_TRUE(connection->Send(request));
    return connection->ReadUntil(absl::Seconds(5));
  }

  Router router_;
  HttpServerOptions options_;
  absl::Notification slow_request_started_;
  std::unique_ptr<HttpServer> server_;
  CurlClient batch_client_;
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
  struct Case {
    const char* method;
    const char* path;
    int status;
    const char* body;
  };
  const Case refused[] = {
      {"GET", "/v2/nothing", 404,
       R"({"code":5,"message":"Not Found","details":[]})"},
      {"DELETE", "/v1/lookup/1.2.3.4", 501,
       R"({"code":12,"message":"Method Not Allowed","details":[]})"},
  };
  CurlClient client;
  for (const Case& c : refused) {
    auto response = client.Send(c.method, Url(c.path), "");
    ASSERT_TRUE(response.ok()) << c.method << " " << c.path;
    EXPECT_EQ(response->status, c.status) << c.path;
    EXPECT_EQ(response->body, c.body) << c.path;
  }
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
  const std::string received = AnswerTo(
      "HEAD /v1/lookup/1.2.3.4 HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /v1/lookup/5.6.7.8 HTTP/1.1\r\nHost: "
      "x\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(received, HasSubstr("Content-Length: 16\r\n"));
  EXPECT_THAT(received, Not(HasSubstr(R"({"ip":"1.2.3.4"})")));
  // The next response on the connection starts right after the HEAD header.
  EXPECT_THAT(received, HasSubstr("\r\n\r\nHTTP/1.1 200 OK"));
  EXPECT_THAT(received, HasSubstr("5.6.7.8"));
}

TEST_F(HttpServerTest, SharedBodyIsSentAndItsOwnerLetGoOnceWritten) {
  // Larger than a socket buffer, so it takes several writes; not uniform, so
  // a misplaced byte shows.
  std::string bytes;
  for (int i = 0; bytes.size() < (3u << 20); ++i) absl::StrAppend(&bytes, i);
  auto content = std::make_shared<const std::string>(std::move(bytes));
  const std::weak_ptr<const std::string> watched = content;
  Add("GET", "/v1/file",
      [&content](const HttpRequest&, const PathVariables&,
                 HttpResponse* response) {
        response->SetSharedBody(content, *content);
        EXPECT_TRUE(response->body().empty());
        EXPECT_EQ(response->BodyBytes().data(), content->data());
      });
  StartServer();
  CurlClient client;  // Keeps its connection open after the response.
  auto response = client.Get(Url("/v1/file"));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_TRUE(response->body == *content);
  EXPECT_EQ(server_->active_connections(), 1);
  // Now only the server may hold it: it must let go once the response is
  // written, not keep it until the idle connection's next request.
  content.reset();
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!watched.expired() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_TRUE(watched.expired());
  EXPECT_EQ(server_->active_connections(), 1);
}

// A handler fills a fresh response every time: nothing of the previous
// response on the connection (status, content type, headers, body) shows in
// the next one, whether it was read after the connection went idle or
// pipelined behind the first.
TEST_F(HttpServerTest, EveryRequestStartsFromAnEmptyResponse) {
  int calls = 0;
  Add("GET", "/v1/once",
      [&calls](const HttpRequest&, const PathVariables&,
               HttpResponse* response) {
        if (++calls % 2 == 1) {
          response->set_status(201);
          response->set_content_type("text/x-first");
          response->AddHeader("X-First", "yes");
          response->set_body("first");
        }
      });
  StartServer();
  CurlClient client;
  auto first = client.Get(Url("/v1/once"));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->status, 201);
  EXPECT_EQ(first->body, "first");
  EXPECT_THAT(first->headers, Contains("X-First: yes"));
  auto second = client.Get(Url("/v1/once"));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->local_port, first->local_port);
  EXPECT_EQ(second->status, 200);
  EXPECT_EQ(second->body, "");
  EXPECT_THAT(second->headers, Not(Contains(HasSubstr("X-First"))));
  EXPECT_THAT(second->headers, Not(Contains(HasSubstr("text/x-first"))));

  // Pipelined: the second request is parsed from the buffer, never idle.
  auto connection = RawConnection::Connect(server_->port());
  ASSERT_TRUE(connection.ok());
  ASSERT_TRUE(
      connection->Send("GET /v1/once HTTP/1.1\r\nHost: x\r\n\r\n"
                       "GET /v1/once HTTP/1.1\r\nHost: x\r\n"
                       "Connection: close\r\n\r\n"));
  std::string both;
  ASSERT_TRUE(connection->WaitForClose(absl::Seconds(10), &both)) << both;
  const size_t split = both.find("HTTP/1.1", 1);
  ASSERT_NE(split, std::string::npos) << both;
  EXPECT_THAT(both.substr(0, split), HasSubstr("X-First: yes"));
  EXPECT_THAT(both.substr(split), HasSubstr("HTTP/1.1 200"));
  EXPECT_THAT(both.substr(split), Not(HasSubstr("X-First")));
  EXPECT_THAT(both.substr(split), HasSubstr("Content-Length: 0"));
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
  EXPECT_EQ(PostBatchOf(1000).status, 200);
  for (const size_t size : {size_t{1001}, size_t{4 * 1024 * 1024}}) {
    const CurlResponse response = PostBatchOf(size);
    EXPECT_EQ(response.status, 413) << size;
    EXPECT_EQ(response.body,
              R"({"code":8,"message":"request body too large","details":[]})");
  }
}

TEST_F(HttpServerTest, MalformedRequestIs400) {
  StartServer();
  const std::string received = AnswerTo("GARBAGE\r\n\r\n");
  EXPECT_THAT(received, StartsWith("HTTP/1.1 400 Bad Request"));
  EXPECT_THAT(received, HasSubstr(R"("code":3)"));
}

TEST_F(HttpServerTest, ErrorsArePlainTextByDefault) {
  options_ = HttpServerOptions();
  options_.max_body_bytes = 10;
  StartServer();
  const CurlResponse response = PostBatchOf(11);
  EXPECT_EQ(response.status, 413);
  EXPECT_EQ(response.body, "request body too large\n");
  EXPECT_THAT(response.headers,
              Contains("Content-Type: text/plain; charset=utf-8"));
}

TEST_F(HttpServerTest, ErrorFormatterGetsTheCodeAndMessage) {
  options_.error_formatter = [](absl::StatusCode code,
                                absl::string_view message) {
    HttpErrorBody error;
    error.content_type = "text/x-test";
    error.body = absl::StrCat(static_cast<int>(code), " ", message);
    return error;
  };
  StartServer();
  const std::string received = AnswerTo("GARBAGE\r\n\r\n");
  EXPECT_THAT(received, StartsWith("HTTP/1.1 400 Bad Request"));
  EXPECT_THAT(received, HasSubstr("Content-Type: text/x-test\r\n"));
  // INVALID_ARGUMENT, and the parser's reason.
  EXPECT_THAT(received, HasSubstr("\r\n\r\n3 "));
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
  const std::string refused =
      AnswerTo("GET /v1/lookup/1.1.1.1 HTTP/1.1\r\nHost: x\r\n\r\n");
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

// Bytes the process has allocated and not freed (not what the allocator
// keeps cached, nor ASan's quarantine).
size_t LiveHeapBytes() {
#ifdef GEO_HTTP_TEST_SANITIZER
  return __sanitizer_get_current_allocated_bytes();
#else
  const struct mallinfo2 info = mallinfo2();  // Sums every arena.
  return info.uordblks + info.hblkhd;
#endif
}

constexpr char kChunkedPost[] =
    "POST /v1/headers HTTP/1.1\r\nHost: x\r\n"
    "Transfer-Encoding: chunked\r\n\r\n";
// Flooding: at most this much, in writes this large.
constexpr size_t kFloodBytes = 64 << 20;
constexpr size_t kFloodWriteBytes = 64 << 10;

TEST_F(HttpServerTest, ChunkedBodyWithExtensionsAndTrailerIsServed) {
  StartServer();
  auto connection = RawConnection::Connect(server_->port());
  ASSERT_TRUE(connection.ok());
  ASSERT_TRUE(connection->Send(absl::StrCat(
      "POST /v1/headers HTTP/1.1\r\nHost: x\r\n"
      "X-Forwarded-For: 198.51.100.1\r\nTransfer-Encoding: chunked\r\n\r\n",
      "5;name=value;quoted=\"a b\"\r\nhello\r\n6\r\n world\r\n",
      "0\r\nX-Forwarded-For: 203.0.113.66\r\nX-Other: t\r\n\r\n",
      "GET /v1/lookup/2.2.2.2 HTTP/1.1\r\nHost: x\r\n"
      "Connection: close\r\n\r\n")));
  const std::string received = connection->ReadUntil(absl::Seconds(5));
  EXPECT_EQ(StatusLine(received), "HTTP/1.1 200 OK") << received;
  // The trailer's X-Forwarded-For is not a header: handlers never see it.
  EXPECT_THAT(received, HasSubstr(R"({"xff":"198.51.100.1","bytes":11})"));
  EXPECT_THAT(received, Not(HasSubstr("203.0.113.66")));
  // The connection stays usable after a chunked request with a trailer.
  EXPECT_THAT(received, HasSubstr("2.2.2.2"));
}

// Sends `prefix`, then `filler` over and over (at most kFloodBytes), and
// returns the server's answer. The server must close the connection, and
// must have refused as soon as its read buffer was full, not at the end of
// the flood.
std::string AnswerToFlood(uint16_t port, absl::string_view prefix,
                          absl::string_view filler) {
  auto connection = RawConnection::Connect(port);
  EXPECT_TRUE(connection.ok());
  if (!connection.ok()) return "";
  const size_t sent =
      connection->Flood(prefix, filler, kFloodBytes, absl::Seconds(30));
  const std::string answer = connection->ReadUntil(absl::Seconds(10));
  EXPECT_TRUE(connection->WaitForClose(absl::Seconds(5)));
  EXPECT_LT(sent, kFloodBytes);
  return answer;
}

TEST_F(HttpServerTest, EndlessChunkSizeLineIs400AndCloses) {
  options_.max_header_bytes = 1024;
  options_.request_timeout = absl::Seconds(5);
  StartServer();
  // "1;" and then an extension that never ends.
  const std::string answer =
      AnswerToFlood(server_->port(), absl::StrCat(kChunkedPost, "1;"),
                    std::string(kFloodWriteBytes, 'a'));
  EXPECT_EQ(StatusLine(answer), "HTTP/1.1 400 Bad Request") << answer;
  EXPECT_THAT(answer, HasSubstr("chunk-size line too long"));
  EXPECT_THAT(answer, HasSubstr("Connection: close"));
}

TEST_F(HttpServerTest, ChunkExtensionsCountAgainstTheHeaderBudget) {
  options_.max_header_bytes = 1024;
  StartServer();
  // Extensions within the budget are fine.
  auto fine = RawConnection::Connect(server_->port());
  ASSERT_TRUE(fine.ok());
  ASSERT_TRUE(fine->Send(
      absl::StrCat(kChunkedPost, "1;a=b\r\nx\r\n1;c\r\ny\r\n0;last\r\n\r\n")));
  EXPECT_THAT(fine->ReadUntil(absl::Seconds(5), "}"),
              HasSubstr(R"("bytes":2})"));
  // Each line is short, but together they exceed the budget.
  std::string request = kChunkedPost;
  for (int i = 0; i < 20; ++i) {
    absl::StrAppend(&request, "1;e=", std::string(200, 'x'), "\r\na\r\n");
  }
  absl::StrAppend(&request, "0\r\n\r\n");
  const std::string answer = AnswerTo(request);
  EXPECT_EQ(StatusLine(answer), "HTTP/1.1 400 Bad Request") << answer;
  EXPECT_THAT(answer, HasSubstr("chunk extensions too long"));
  EXPECT_THAT(answer, HasSubstr("Connection: close"));
}

TEST_F(HttpServerTest, EndlessTrailerSectionIs431AndCloses) {
  options_.max_header_bytes = 1024;
  options_.request_timeout = absl::Seconds(5);
  StartServer();
  const std::string line = absl::StrCat("X-T: ", std::string(59, 't'), "\r\n");
  std::string filler;
  while (filler.size() < kFloodWriteBytes) filler += line;
  const std::string answer =
      AnswerToFlood(server_->port(),
                    absl::StrCat(kChunkedPost, "5\r\nhello\r\n0\r\n"), filler);
  EXPECT_EQ(StatusLine(answer), "HTTP/1.1 431 Request Header Fields Too Large")
      << answer;
  EXPECT_THAT(answer, HasSubstr("trailer fields too large"));
}

TEST_F(HttpServerTest, TrailerFieldsCountAgainstTheHeaderBudget) {
  options_.max_header_bytes = 1024;
  StartServer();
  // Fits in the read buffer, but the header section and the trailer
  // together are over 1024 bytes.
  std::string request = absl::StrCat(kChunkedPost, "1\r\na\r\n0\r\n");
  for (int i = 0; i < 10; ++i) {
    absl::StrAppend(&request, "X-T", i, ": ", std::string(100, 't'), "\r\n");
  }
  absl::StrAppend(&request, "\r\n");
  const std::string answer = AnswerTo(request);
  EXPECT_EQ(StatusLine(answer), "HTTP/1.1 431 Request Header Fields Too Large")
      << answer;
  EXPECT_THAT(answer, HasSubstr("Connection: close"));
}

TEST_F(HttpServerTest, TransferEncodingMustBeExactlyChunked) {
  StartServer();
  for (const RefusedFraming& c : kRefusedFramings) {
    auto connection = RawConnection::Connect(server_->port());
    ASSERT_TRUE(connection.ok());
    // A second request hides in what a lenient server would take for the
    // body or for the next request: it must never be served.
    ASSERT_TRUE(connection->Send(
        absl::StrCat("POST /v1/headers HTTP/1.1\r\nHost: x\r\n", c.fields,
                     "\r\n", "5\r\nhello\r\n0\r\n\r\n",
                     "GET /v1/lookup/6.6.6.6 HTTP/1.1\r\nHost: x\r\n\r\n")));
    const std::string answer = connection->ReadUntil(absl::Seconds(5));
    EXPECT_EQ(StatusLine(answer), c.status_line) << c.fields << answer;
    EXPECT_THAT(answer, HasSubstr("Connection: close")) << c.fields;
    EXPECT_THAT(answer, Not(HasSubstr("6.6.6.6"))) << c.fields;
    EXPECT_TRUE(connection->WaitForClose(absl::Seconds(2))) << c.fields;
  }
  // HTTP/1.0 has no Transfer-Encoding.
  auto old = RawConnection::Connect(server_->port());
  ASSERT_TRUE(old.ok());
  ASSERT_TRUE(old->Send(absl::StrCat(
      "POST /v1/headers HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
      "5\r\nhello\r\n0\r\n\r\n")));
  EXPECT_THAT(StatusLine(old->ReadUntil(absl::Seconds(5))),
              HasSubstr(" 400 Bad Request"));
  // Spelling and list syntax that mean exactly "chunked" are accepted.
  for (const char* fields :
       {"Transfer-Encoding: Chunked\r\n", "Transfer-Encoding:  chunked \r\n",
        "Transfer-Encoding: , chunked\r\n"}) {
    const std::string answer = AnswerTo(
        absl::StrCat("POST /v1/headers HTTP/1.1\r\nHost: x\r\n", fields,
                     "Connection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n"));
    EXPECT_EQ(StatusLine(answer), "HTTP/1.1 200 OK") << fields << answer;
    EXPECT_THAT(answer, HasSubstr(R"("bytes":5})")) << fields;
  }
}

TEST_F(HttpServerTest, SeveralHeaderLinesReachTheHandlerInOrder) {
  StartServer();
  auto connection = RawConnection::Connect(server_->port());
  ASSERT_TRUE(connection.ok());
  ASSERT_TRUE(
      connection->Send("POST /v1/headers HTTP/1.1\r\nHost: x\r\n"
                       "X-Forwarded-For: 203.0.113.1, 10.0.0.1\r\n"
                       "x-forwarded-for: 198.51.100.2\r\n"
                       "Content-Length: 0\r\n"
                       "X-FORWARDED-FOR: 192.0.2.3\r\n"
                       "Connection: close\r\n\r\n"));
  EXPECT_THAT(
      connection->ReadUntil(absl::Seconds(5)),
      HasSubstr(
          R"({"xff":"203.0.113.1, 10.0.0.1|198.51.100.2|192.0.2.3","bytes":0})"));
  // And from an ordinary client.
  CurlClient client;
  auto response =
      client.Send("POST", Url("/v1/headers"), "",
                  {"X-Forwarded-For: 192.0.2.9", "X-Forwarded-For: 192.0.2.8"});
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->body, R"({"xff":"192.0.2.9|192.0.2.8","bytes":0})");
}

TEST_F(HttpServerTest, IdleConnectionsGiveBackLargeBuffers) {
  StartServer();
  constexpr int kConnections = 16;
  const std::string request = absl::StrCat(
      "POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: ", 256 * 1024,
      "\r\n\r\n", std::string(256 * 1024, 'b'));
  // Warm up: the first connection's allocations (thread-local caches, the
  // io thread's first session) are not what this measures.
  {
    auto warm = RawConnection::Connect(server_->port());
    ASSERT_TRUE(warm.ok());
    ASSERT_TRUE(warm->Send(request));
    ASSERT_THAT(warm->ReadUntil(absl::Seconds(10), "END"), HasSubstr("END"));
  }
  absl::SleepFor(absl::Milliseconds(100));
  const size_t before = LiveHeapBytes();
  std::vector<RawConnection> idle;
  for (int i = 0; i < kConnections; ++i) {
    auto connection = RawConnection::Connect(server_->port());
    ASSERT_TRUE(connection.ok());
    ASSERT_TRUE(connection->Send(request));
    // Each holds a 256 KiB request and a 256 KiB response while served.
    ASSERT_THAT(connection->ReadUntil(absl::Seconds(10), "END"),
                HasSubstr("END"));
    idle.push_back(*std::move(connection));
  }
  // The response is read before the server's write completes; give it the
  // moment it needs to go idle.
  size_t after = 0;
  for (int attempt = 0; attempt < 50; ++attempt) {
    absl::SleepFor(absl::Milliseconds(20));
    after = LiveHeapBytes();
    if (after < before + kConnections * 64 * 1024) break;
  }
  EXPECT_EQ(server_->active_connections(), kConnections);
  // Keeping them would be over 8 MiB (16 x 512 KiB).
  EXPECT_LT(after, before + kConnections * 64 * 1024)
      << "live heap grew by " << (after - before) << " bytes";
}

TEST_F(HttpServerTest, ConnectionsPerPeerAreCapped) {
  options_.max_connections_per_peer = 2;
  StartServer();
  const std::string request =
      "GET /v1/lookup/1.1.1.1 HTTP/1.1\r\nHost: x\r\n\r\n";
  std::optional<RawConnection> first;
  std::vector<RawConnection> held;
  for (int i = 0; i < 2; ++i) {
    auto connection = RawConnection::Connect(server_->port());
    ASSERT_TRUE(connection.ok());
    ASSERT_TRUE(connection->Send(request));
    EXPECT_THAT(connection->ReadUntil(absl::Seconds(5), "}"),
                StartsWith("HTTP/1.1 200 OK"));
    if (i == 0) {
      first.emplace(*std::move(connection));
    } else {
      held.push_back(*std::move(connection));
    }
  }
  const std::string refused = AnswerTo(request);
  EXPECT_THAT(refused, StartsWith("HTTP/1.1 503 Service Unavailable"));
  EXPECT_THAT(
      refused,
      HasSubstr(R"("message":"too many connections from this address")"));
  EXPECT_THAT(refused, HasSubstr("Retry-After: 1\r\n"));
  // Another peer is not affected.
  auto other = RawConnection::Connect(server_->port(), "127.0.0.2");
  ASSERT_TRUE(other.ok()) << other.status();
  ASSERT_TRUE(other->Send(request));
  EXPECT_THAT(other->ReadUntil(absl::Seconds(5), "}"),
              StartsWith("HTTP/1.1 200 OK"));
  // A slot frees up when one of the peer's connections closes.
  first.reset();
  bool served = false;
  for (int attempt = 0; attempt < 50 && !served; ++attempt) {
    auto again = RawConnection::Connect(server_->port());
    ASSERT_TRUE(again.ok());
    ASSERT_TRUE(again->Send(request));
    served = absl::StartsWith(again->ReadUntil(absl::Seconds(5), "}"),
                              "HTTP/1.1 200 OK");
    if (!served) absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_TRUE(served);
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

TEST_F(HttpServerTest, Http10KeepAliveOnlyWhenAsked) {
  StartServer();
  auto connection = RawConnection::Connect(server_->port());
  ASSERT_TRUE(connection.ok());
  ASSERT_TRUE(connection->Send(
      "GET /v1/lookup/1.2.3.4 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  const std::string kept = connection->ReadUntil(absl::Seconds(5), "}");
  EXPECT_THAT(kept, StartsWith("HTTP/1.0 200 OK\r\n"));
  EXPECT_THAT(kept, HasSubstr("Connection: keep-alive\r\n"));
  // Still open: a second request is answered, and without keep-alive the
  // server closes after it.
  ASSERT_TRUE(connection->Send("GET /v1/lookup/5.6.7.8 HTTP/1.0\r\n\r\n"));
  const std::string closed = connection->ReadUntil(absl::Seconds(5));
  EXPECT_THAT(closed, StartsWith("HTTP/1.0 200 OK\r\n"));
  EXPECT_THAT(closed, HasSubstr("5.6.7.8"));
  EXPECT_THAT(closed, Not(HasSubstr("Connection:")));
  EXPECT_TRUE(connection->WaitForClose(absl::Seconds(5)));
}

#ifndef GEO_HTTP_TEST_SANITIZER
// A keep-alive connection serving ordinary requests allocates nothing on its
// io thread once warm: the parser's fields, the buffers, the response head
// and the asynchronous operations all reuse what the first requests left.
TEST(HttpServerAllocationTest, SteadyStateRequestsAllocateNothing) {
  HttpServerOptions options;
  auto server = HttpServer::Start(
      options, [](const HttpRequest& request, HttpResponse* response) {
        io_thread_to_count.store(std::this_thread::get_id());
        response->SetJson(
            200, absl::StrCat(R"({"bytes":)", request.target().size(), "}"));
      });
  ASSERT_TRUE(server.ok()) << server.status();
  auto connection = RawConnection::Connect((*server)->port());
  ASSERT_TRUE(connection.ok());
  const std::string request =
      "GET /v1/lookup/192.0.2.1?language=de HTTP/1.1\r\nHost: x\r\n"
      "User-Agent: allocation-test\r\nX-Forwarded-For: 203.0.113.9\r\n"
      "Accept: application/json\r\n\r\n";
  const auto serve = [&] {
    ASSERT_TRUE(connection->Send(request));
    ASSERT_THAT(connection->ReadUntil(absl::Seconds(5), "}"),
                StartsWith("HTTP/1.1 200 OK"));
  };
  for (int i = 0; i < 10; ++i) serve();
  const long before = io_thread_allocations.load();
  for (int i = 0; i < 200; ++i) serve();
  EXPECT_EQ(io_thread_allocations.load() - before, 0);
}
#endif

}  // namespace
}  // namespace geo::http

#ifndef GEO_HTTP_TEST_SANITIZER
void* operator new(size_t size) {
  if (geo::http::io_thread_to_count.load(std::memory_order_relaxed) ==
      std::this_thread::get_id()) {
    geo::http::io_thread_allocations.fetch_add(1, std::memory_order_relaxed);
  }
  if (void* memory = std::malloc(size == 0 ? 1 : size)) return memory;
  throw std::bad_alloc();
}
void operator delete(void* memory) noexcept { std::free(memory); }
void operator delete(void* memory, size_t) noexcept { std::free(memory); }
#endif
