// Test clients for HttpServer: libcurl for ordinary requests (keep-alive
// reuse included) and a raw loopback socket for what curl will not send
// (byte-by-byte slow clients, pipelined requests, oversized headers).
#ifndef GEO_HTTP_TEST_HTTP_CLIENT_H_
#define GEO_HTTP_TEST_HTTP_CLIENT_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "geo/common/file_descriptor.h"

namespace geo::http {

struct CurlResponse {
  long status = 0;
  std::string body;
  // Raw header lines, e.g. "Content-Type: application/json".
  std::vector<std::string> headers;
  // The client's local port: equal across requests when the connection was
  // reused.
  long local_port = 0;
};

// The first line of a raw HTTP answer, e.g. "HTTP/1.1 400 Bad Request".
std::string StatusLine(absl::string_view answer);

// One libcurl easy handle: requests through one client reuse its connection.
// Not thread-safe; use one per thread.
class CurlClient {
 public:
  CurlClient();
  ~CurlClient();
  CurlClient(const CurlClient&) = delete;
  CurlClient& operator=(const CurlClient&) = delete;

  absl::StatusOr<CurlResponse> Get(
      const std::string& url, const std::vector<std::string>& headers = {});
  absl::StatusOr<CurlResponse> Send(
      const std::string& method, const std::string& url,
      const std::string& body, const std::vector<std::string>& headers = {});

 private:
  void* curl_;
};

// A plain TCP connection to 127.0.0.1:port.
class RawConnection {
 public:
  static absl::StatusOr<RawConnection> Connect(uint16_t port);
  // From `source_address` (e.g. "127.0.0.2": Linux routes all of 127/8 to
  // loopback), so a test can be several peers.
  static absl::StatusOr<RawConnection> Connect(
      uint16_t port, const std::string& source_address);
  RawConnection(RawConnection&& other) noexcept = default;
  RawConnection& operator=(RawConnection&&) = delete;

  // False when the peer has closed or reset the connection.
  bool Send(absl::string_view bytes);
  // Sends `prefix`, then `filler` over and over, until `max_bytes` are sent
  // in all, the peer says something (it answered: the flood was refused) or
  // the connection fails. Never blocks on a peer that stops reading for
  // longer than `timeout`. Returns the bytes sent.
  size_t Flood(absl::string_view prefix, absl::string_view filler,
               size_t max_bytes, absl::Duration timeout);
  // Reads until the peer closes the connection, `timeout` passes, or
  // `stop_after` appears in what was read (when non-empty).
  std::string ReadUntil(absl::Duration timeout,
                        absl::string_view stop_after = "");
  // True when the peer closed (or reset) the connection within `timeout`;
  // what it sent until then is appended to `received` when not null.
  bool WaitForClose(absl::Duration timeout, std::string* received = nullptr);
  // Half-closes: the peer reads EOF after what was sent, and may still answer.
  void ShutdownWrite();

 private:
  explicit RawConnection(FileDescriptor fd) : fd_(std::move(fd)) {}
  // Appends what arrives to `received` until `stop_after` appears in it
  // (when non-empty), the peer closes or resets the connection (true), or
  // `deadline` passes.
  bool Read(absl::Time deadline, absl::string_view stop_after,
            std::string* received);
  FileDescriptor fd_;
};

}  // namespace geo::http

#endif  // GEO_HTTP_TEST_HTTP_CLIENT_H_
