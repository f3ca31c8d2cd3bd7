// The request and response a handler of HttpServer sees. They hold no Beast
// types, so handlers (the router, the API surface) compile without Beast, and
// tests can build requests without a socket.
#ifndef GEO_HTTP_HTTP_MESSAGE_H_
#define GEO_HTTP_HTTP_MESSAGE_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "geo/tls/peer_identity.h"

namespace geo::http {

// Read access to request header fields. Names compare case-insensitively.
class HttpHeaders {
 public:
  virtual ~HttpHeaders() = default;
  // The value of the first field named `name`, or nullopt.
  virtual std::optional<absl::string_view> Find(
      absl::string_view name) const = 0;
  // Appends the value of every field named `name`, in the order received
  // (a proxy may add its own X-Forwarded-For line after the client's).
  virtual void FindAll(absl::string_view name,
                       std::vector<absl::string_view>* values) const = 0;
};

// HttpHeaders over a list of (name, value) pairs, for tests and adapters.
class HttpHeaderList final : public HttpHeaders {
 public:
  HttpHeaderList() = default;
  explicit HttpHeaderList(
      std::vector<std::pair<std::string, std::string>> fields)
      : fields_(std::move(fields)) {}
  std::optional<absl::string_view> Find(absl::string_view name) const override;
  void FindAll(absl::string_view name,
               std::vector<absl::string_view>* values) const override;

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

// One HTTP request. A view: everything it returns points into buffers owned
// by the connection and is valid only while the handler runs.
class HttpRequest {
 public:
  // `client_identity` (may be null) must outlive the request.
  HttpRequest(absl::string_view method, absl::string_view target,
              const HttpHeaders* headers, absl::string_view body,
              absl::string_view peer_address,
              const tls::PeerIdentity* client_identity = nullptr);

  // "GET", "POST", ... as sent (methods are case-sensitive).
  absl::string_view method() const { return method_; }
  // The request target as sent, e.g. "/v1/lookup/8.8.8.8?language=de".
  absl::string_view target() const { return target_; }
  // The target up to '?', still percent-encoded.
  absl::string_view path() const { return path_; }
  // The raw query string after '?' (empty when there is none).
  absl::string_view query() const { return query_; }
  // The percent-decoded value ('+' is a space) of the first query parameter
  // named `name`; nullopt when absent. "?a" has value "".
  std::optional<std::string> QueryParameter(absl::string_view name) const;
  // The value of the first header `name` (case-insensitive), or nullopt.
  std::optional<absl::string_view> Header(absl::string_view name) const;
  // Every value of header `name`, in the order received.
  std::vector<absl::string_view> HeaderValues(absl::string_view name) const;
  absl::string_view body() const { return body_; }
  // The TCP peer's IP address in text form ("127.0.0.1", "::1").
  absl::string_view peer_address() const { return peer_address_; }
  // The names of the client certificate the TLS handshake verified; null on
  // a plaintext connection or when the client sent no certificate.
  const tls::PeerIdentity* client_identity() const { return client_identity_; }

 private:
  absl::string_view method_;
  absl::string_view target_;
  absl::string_view path_;
  absl::string_view query_;
  const HttpHeaders* headers_;
  absl::string_view body_;
  absl::string_view peer_address_;
  const tls::PeerIdentity* client_identity_;
};

// The response a handler fills in. The server reuses one per connection, so
// its body keeps its capacity from request to request.
class HttpResponse {
 public:
  int status() const { return status_; }
  void set_status(int status) { status_ = status; }

  absl::string_view content_type() const { return content_type_; }
  void set_content_type(absl::string_view content_type) {
    content_type_.assign(content_type.data(), content_type.size());
  }

  // Fields besides Content-Type, Content-Length and Connection (which the
  // server sets).
  void AddHeader(absl::string_view name, absl::string_view value) {
    headers_.emplace_back(std::string(name), std::string(value));
  }
  const std::vector<std::pair<std::string, std::string>>& headers() const {
    return headers_;
  }

  // The body this response owns. Empty when a shared body is set.
  const std::string& body() const { return body_; }
  std::string* mutable_body() {
    ClearSharedBody();
    return &body_;
  }
  void set_body(absl::string_view body) {
    ClearSharedBody();
    body_.assign(body.data(), body.size());
  }

  // Sends `bytes` without copying them into this response: for large,
  // immutable content that many clients may fetch at once (a database
  // file), so memory holds one copy however many responses are in flight.
  // `bytes` must stay valid while `owner` lives; the server keeps `owner`
  // until the response has been written. Clears body().
  void SetSharedBody(std::shared_ptr<const void> owner,
                     absl::string_view bytes) {
    body_.clear();
    shared_body_owner_ = std::move(owner);
    shared_body_ = bytes;
  }

  // What the server writes: the shared body when one is set, else body().
  absl::string_view BodyBytes() const {
    return shared_body_owner_ != nullptr ? shared_body_
                                         : absl::string_view(body_);
  }

  // A JSON body with its content type and status.
  void SetJson(int status, absl::string_view json) {
    set_status(status);
    set_content_type("application/json");
    set_body(json);
  }

  // Back to 200, no headers, empty body; keeps allocated capacity.
  void Reset() {
    status_ = 200;
    content_type_.clear();
    headers_.clear();
    body_.clear();
    ClearSharedBody();
  }

 private:
  void ClearSharedBody() {
    shared_body_owner_.reset();
    shared_body_ = {};
  }

  int status_ = 200;
  std::string content_type_;
  std::vector<std::pair<std::string, std::string>> headers_;
  std::string body_;
  std::shared_ptr<const void> shared_body_owner_;
  absl::string_view shared_body_;
};

// The body of an error the server answers itself, without a handler: a
// request it refuses (400, 408, 413, 431, 501), a connection over a limit
// (503), a client identity not allowed (403), a handler that threw (500).
struct HttpErrorBody {
  std::string content_type;
  std::string body;
};

// Formats such an error from its canonical code and message (the HTTP status
// is the server's, not derived from the code). Called on an io thread, only
// on those error paths; must be thread-safe.
using HttpErrorFormatter = std::function<HttpErrorBody(
    absl::StatusCode code, absl::string_view message)>;

// The message and a newline as text/plain: the server's default, for a
// surface with no error format of its own.
HttpErrorBody PlainTextErrorBody(absl::StatusCode code,
                                 absl::string_view message);

// Decodes %XX escapes (and '+' as space when `plus_is_space`, for query
// strings). Returns false on a malformed escape.
bool PercentDecode(absl::string_view encoded, bool plus_is_space,
                   std::string* decoded);

}  // namespace geo::http

#endif  // GEO_HTTP_HTTP_MESSAGE_H_
