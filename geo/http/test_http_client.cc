#include "geo/http/test_http_client.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace geo::http {
namespace {

size_t AppendBody(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

size_t AppendHeader(char* data, size_t size, size_t count, void* user) {
  std::string line(data, size * count);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
    line.pop_back();
  }
  if (!line.empty()) {
    static_cast<std::vector<std::string>*>(user)->push_back(std::move(line));
  }
  return size * count;
}

}  // namespace

CurlClient::CurlClient() {
  // curl_global_init is not thread-safe; a function-local static is.
  static const bool initialized = curl_global_init(CURL_GLOBAL_DEFAULT) == 0;
  (void)initialized;
  curl_ = curl_easy_init();
}

CurlClient::~CurlClient() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

absl::StatusOr<CurlResponse> CurlClient::Get(
    const std::string& url, const std::vector<std::string>& headers) {
  return Send("GET", url, "", headers);
}

absl::StatusOr<CurlResponse> CurlClient::Send(
    const std::string& method, const std::string& url, const std::string& body,
    const std::vector<std::string>& headers) {
  CURL* curl = static_cast<CURL*>(curl_);
  CurlResponse response;
  curl_slist* header_list = nullptr;
  for (const std::string& header : headers) {
    header_list = curl_slist_append(header_list, header.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, header_list);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, AppendHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);
  if (method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, nullptr);
  } else {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
  const CURLcode code = curl_easy_perform(curl);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  curl_slist_free_all(header_list);
  if (code != CURLE_OK) {
    return absl::UnavailableError(absl::StrCat("curl ", method, " ", url, ": ",
                                               curl_easy_strerror(code)));
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  curl_easy_getinfo(curl, CURLINFO_LOCAL_PORT, &response.local_port);
  return response;
}

std::string StatusLine(absl::string_view answer) {
  return std::string(answer.substr(0, answer.find("\r\n")));
}

absl::StatusOr<RawConnection> RawConnection::Connect(uint16_t port) {
  return Connect(port, "");
}

absl::StatusOr<RawConnection> RawConnection::Connect(
    uint16_t port, const std::string& source_address) {
  FileDescriptor socket_fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!socket_fd.valid()) return absl::ErrnoToStatus(errno, "socket");
  if (!source_address.empty()) {
    sockaddr_in source{};
    source.sin_family = AF_INET;
    if (inet_pton(AF_INET, source_address.c_str(), &source.sin_addr) != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("not an IPv4 address: ", source_address));
    }
    if (bind(socket_fd.get(), reinterpret_cast<sockaddr*>(&source),
             sizeof source) != 0) {
      return absl::ErrnoToStatus(errno, absl::StrCat("bind ", source_address));
    }
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(socket_fd.get(), reinterpret_cast<sockaddr*>(&address),
              sizeof address) != 0) {
    int error = errno;
    // A signal (a fuzzer's timer, say) interrupted the wait, not the
    // connection, which goes on: wait for it to finish and read its result.
    if (error == EINTR) {
      pollfd poll_fd{socket_fd.get(), POLLOUT, 0};
      int ready;
      do {
        ready = poll(&poll_fd, 1, /*timeout_ms=*/10000);
      } while (ready < 0 && errno == EINTR);
      socklen_t length = sizeof error;
      if (ready != 1 || getsockopt(socket_fd.get(), SOL_SOCKET, SO_ERROR,
                                   &error, &length) != 0) {
        error = ready == 0 ? ETIMEDOUT : errno;
      }
    }
    if (error != 0) {
      return absl::ErrnoToStatus(error, absl::StrCat("connect to port ", port));
    }
  }
  return RawConnection(std::move(socket_fd));
}

bool RawConnection::Send(absl::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t written =
        send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (written < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<size_t>(written));
  }
  return true;
}

size_t RawConnection::Flood(absl::string_view prefix, absl::string_view filler,
                            size_t max_bytes, absl::Duration timeout) {
  size_t sent = 0;
  size_t position = 0;  // In prefix, then in filler (cyclically).
  const absl::Time deadline = absl::Now() + timeout;
  while (sent < max_bytes && absl::Now() < deadline) {
    pollfd poll_fd{fd_.get(), POLLIN | POLLOUT, 0};
    if (poll(&poll_fd, 1, 100) <= 0) continue;
    if (poll_fd.revents & (POLLIN | POLLERR | POLLHUP)) break;
    absl::string_view next;
    if (sent < prefix.size()) {
      next = prefix.substr(sent);
    } else {
      if (filler.empty()) break;
      next = filler.substr(position % filler.size());
    }
    next = next.substr(0, max_bytes - sent);
    const ssize_t written =
        send(fd_.get(), next.data(), next.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (written < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      break;
    }
    if (sent >= prefix.size()) position += static_cast<size_t>(written);
    sent += static_cast<size_t>(written);
  }
  return sent;
}

std::string RawConnection::ReadUntil(absl::Duration timeout,
                                     absl::string_view stop_after) {
  std::string received;
  Read(absl::Now() + timeout, stop_after, &received);
  return received;
}

bool RawConnection::WaitForClose(absl::Duration timeout,
                                 std::string* received) {
  std::string discarded;
  return Read(absl::Now() + timeout, "",
              received != nullptr ? received : &discarded);
}

void RawConnection::ShutdownWrite() { shutdown(fd_.get(), SHUT_WR); }

bool RawConnection::Read(absl::Time deadline, absl::string_view stop_after,
                         std::string* received) {
  while (stop_after.empty() || !absl::StrContains(*received, stop_after)) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return false;
    pollfd poll_fd{fd_.get(), POLLIN, 0};
    const int ready = poll(
        &poll_fd, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (ready <= 0) continue;
    char chunk[16384];
    const ssize_t bytes = recv(fd_.get(), chunk, sizeof chunk, 0);
    if (bytes <= 0) return true;  // EOF or reset.
    received->append(chunk, static_cast<size_t>(bytes));
  }
  return false;
}

}  // namespace geo::http
