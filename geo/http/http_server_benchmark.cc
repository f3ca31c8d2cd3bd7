// Requests per second of HttpServer on one io thread with a constant JSON
// body (the figure make bench compares with nginx, docs/benchmarks.md):
// keep-alive clients on loopback, one request in flight per connection.
//
//   bazel run --config=opt //geo/http:http_server_benchmark -- 16 5
//   (connections, seconds)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "geo/http/http_server.h"

namespace {

constexpr char kRequest[] =
    "GET /v1/lookup/8.8.8.8 HTTP/1.1\r\nHost: bench\r\n\r\n";

// One keep-alive connection; returns the number of complete responses.
long RunClient(uint16_t port, absl::Time deadline) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    close(fd);
    return 0;
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  long responses = 0;
  std::string buffer;
  char chunk[8192];
  while (absl::Now() < deadline) {
    if (send(fd, kRequest, sizeof kRequest - 1, MSG_NOSIGNAL) < 0) break;
    // Responses here have a fixed size, but parse the length anyway.
    size_t needed = 0;
    while (true) {
      const size_t header_end = buffer.find("\r\n\r\n");
      if (header_end != std::string::npos && needed == 0) {
        const size_t length_at = buffer.find("Content-Length: ");
        const size_t length =
            std::strtoul(buffer.c_str() + length_at + 16, nullptr, 10);
        needed = header_end + 4 + length;
      }
      if (needed != 0 && buffer.size() >= needed) {
        buffer.erase(0, needed);
        ++responses;
        break;
      }
      const ssize_t bytes = recv(fd, chunk, sizeof chunk, 0);
      if (bytes <= 0) {
        close(fd);
        return responses;
      }
      buffer.append(chunk, static_cast<size_t>(bytes));
    }
  }
  close(fd);
  return responses;
}

}  // namespace

int main(int argc, char** argv) {
  const int connections = argc > 1 ? std::atoi(argv[1]) : 16;
  const int seconds = argc > 2 ? std::atoi(argv[2]) : 5;
  geo::http::HttpServerOptions options;
  options.io_threads = 1;
  const std::string body =
      R"({"ip":"8.8.8.8","network":"8.8.8.0/24","found":true,"country":{"isoCode":"US"}})";
  auto server = geo::http::HttpServer::Start(
      options, [&body](const geo::http::HttpRequest&,
                       geo::http::HttpResponse* response) {
        response->SetJson(200, body);
      });
  if (!server.ok()) {
    std::fprintf(stderr, "%s\n", server.status().ToString().c_str());
    return 1;
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(seconds);
  std::atomic<long> total{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < connections; ++i) {
    clients.emplace_back(
        [&] { total += RunClient((*server)->port(), deadline); });
  }
  for (auto& client : clients) client.join();
  std::printf("%d connections, %d s, 1 io thread: %.0f requests/s\n",
              connections, seconds,
              static_cast<double>(total.load()) / seconds);
  (*server)->Shutdown(absl::Now() + absl::Seconds(1));
  return 0;
}
