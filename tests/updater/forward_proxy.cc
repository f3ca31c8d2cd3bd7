#include "tests/updater/forward_proxy.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace geo::updater::testing {
namespace {

using ::geo::testing::ReadHttpHead;
using ::geo::testing::SendAll;

// A TCP connection to `host:port` (loopback only in tests), or -1.
int ConnectTo(absl::string_view host_port) {
  std::pair<std::string, std::string> parts =
      absl::StrSplit(host_port, absl::MaxSplits(':', 1));
  int port = 0;
  if (!absl::SimpleAtoi(parts.second, &port)) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  if (parts.first == "localhost") parts.first = "127.0.0.1";
  if (::inet_pton(AF_INET, parts.first.c_str(), &address.sin_addr) != 1) {
    return -1;
  }
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) !=
      0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Copies bytes both ways until either side closes.
void Relay(int a, int b) {
  char buffer[16384];
  while (true) {
    pollfd fds[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
    if (::poll(fds, 2, 10000) <= 0) return;
    for (int i = 0; i < 2; ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      ssize_t n = ::recv(fds[i].fd, buffer, sizeof(buffer), 0);
      if (n <= 0) return;
      if (!SendAll(fds[1 - i].fd,
                   absl::string_view(buffer, static_cast<size_t>(n)))) {
        return;
      }
    }
  }
}

}  // namespace

std::string ForwardProxy::address() const {
  return absl::StrCat("127.0.0.1:", port());
}

void ForwardProxy::RequireAuthorization(std::string header_value) {
  absl::MutexLock lock(&mu_);
  required_authorization_ = std::move(header_value);
}

std::vector<ProxiedRequest> ForwardProxy::requests() const {
  absl::MutexLock lock(&mu_);
  return requests_;
}

void ForwardProxy::Serve(int client) {
  std::optional<std::string> read = ReadHttpHead(client);
  if (!read.has_value()) return;
  const std::string& data = *read;
  const size_t head_end = data.find("\r\n\r\n");
  std::vector<std::string> lines =
      absl::StrSplit(data.substr(0, head_end), "\r\n");
  ProxiedRequest request;
  request.request_line = lines[0];
  std::string forwarded_head;
  for (size_t i = 1; i < lines.size(); ++i) {
    absl::string_view line = lines[i];
    if (absl::StartsWithIgnoreCase(line, "Proxy-Authorization:")) {
      request.proxy_authorization = std::string(absl::StripAsciiWhitespace(
          line.substr(sizeof("Proxy-Authorization:") - 1)));
      continue;  // Never passed on.
    }
    if (absl::StartsWithIgnoreCase(line, "Proxy-Connection:")) continue;
    absl::StrAppend(&forwarded_head, line, "\r\n");
  }
  std::string required;
  {
    absl::MutexLock lock(&mu_);
    requests_.push_back(request);
    required = required_authorization_;
  }
  if (!required.empty() && request.proxy_authorization != required) {
    SendAll(client,
            "HTTP/1.1 407 Proxy Authentication Required\r\n"
            "Proxy-Authenticate: Basic realm=\"test\"\r\n"
            "Content-Length: 0\r\nConnection: close\r\n\r\n");
    return;
  }
  std::vector<std::string> parts = absl::StrSplit(request.request_line, ' ');
  if (parts.size() != 3) return;
  if (parts[0] == "CONNECT") {
    int upstream = ConnectTo(parts[1]);
    if (upstream < 0) {
      SendAll(client, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    SendAll(client, "HTTP/1.1 200 Connection established\r\n\r\n");
    SendAll(upstream, absl::string_view(data).substr(head_end + 4));
    Relay(client, upstream);
    ::close(upstream);
    return;
  }
  // Absolute form: http://host:port/path -> origin form to host:port.
  absl::string_view target = parts[1];
  if (!absl::ConsumePrefix(&target, "http://")) return;
  const size_t slash = target.find('/');
  absl::string_view host_port = target.substr(0, slash);
  absl::string_view path =
      slash == absl::string_view::npos ? "/" : target.substr(slash);
  int upstream = ConnectTo(host_port);
  if (upstream < 0) {
    SendAll(client, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
    return;
  }
  SendAll(upstream, absl::StrCat(parts[0], " ", path, " ", parts[2], "\r\n",
                                 forwarded_head, "Connection: close\r\n\r\n",
                                 absl::string_view(data).substr(head_end + 4)));
  Relay(client, upstream);
  ::close(upstream);
}

}  // namespace geo::updater::testing
