#include "tests/support/loopback_listener.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/strings/match.h"

namespace geo::testing {

LoopbackListener::LoopbackListener(std::function<void(int fd)> serve)
    : serve_(std::move(serve)),
      listen_fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  if (!listen_fd_.valid() ||
      ::bind(listen_fd_.get(), reinterpret_cast<sockaddr*>(&address),
             sizeof(address)) != 0 ||
      ::listen(listen_fd_.get(), 64) != 0 ||
      ::getsockname(listen_fd_.get(), reinterpret_cast<sockaddr*>(&address),
                    &length) != 0) {
    std::perror("LoopbackListener: bind/listen");
    std::abort();
  }
  port_ = ntohs(address.sin_port);
  accept_thread_ = std::thread([this] { AcceptLoop(); });
}

LoopbackListener::~LoopbackListener() {
  stopping_.Notify();
  accept_thread_.join();
  std::vector<std::thread> connections;
  {
    absl::MutexLock lock(&mu_);
    connections.swap(connections_);
  }
  for (std::thread& connection : connections) connection.join();
}

void LoopbackListener::AcceptLoop() {
  while (!stopping_.HasBeenNotified()) {
    pollfd poll_fd{listen_fd_.get(), POLLIN, 0};
    if (::poll(&poll_fd, 1, 20) <= 0) continue;
    const int fd = ::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    absl::MutexLock lock(&mu_);
    connections_.emplace_back([this, fd] {
      serve_(fd);
      ::close(fd);
    });
  }
}

bool SendAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::optional<std::string> ReadHttpHead(int fd, absl::Duration timeout) {
  std::string data;
  char buffer[4096];
  const int timeout_ms = static_cast<int>(absl::ToInt64Milliseconds(timeout));
  while (!absl::StrContains(data, "\r\n\r\n")) {
    pollfd poll_fd{fd, POLLIN, 0};
    if (::poll(&poll_fd, 1, timeout_ms) <= 0) return std::nullopt;
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) return std::nullopt;
    data.append(buffer, static_cast<size_t>(n));
  }
  return data;
}

}  // namespace geo::testing
