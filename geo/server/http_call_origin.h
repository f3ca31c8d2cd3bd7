// The CallOrigin of an HTTP request: its peer, its verified client identity,
// and its header fields read on demand as forwarding headers.
#ifndef GEO_SERVER_HTTP_CALL_ORIGIN_H_
#define GEO_SERVER_HTTP_CALL_ORIGIN_H_

#include <vector>

#include "absl/strings/string_view.h"
#include "geo/http/http_message.h"
#include "geo/server/caller_address.h"
#include "geo/server/lookup_service.h"

namespace geo {

// Valid while the request is (a handler's lifetime). Not copyable: the origin
// points at the adapter inside it.
class HttpCallOrigin final : private ForwardingHeaders {
 public:
  explicit HttpCallOrigin(const http::HttpRequest& request)
      : request_(request) {
    origin_.protocol = Protocol::kHttp;
    origin_.peer = request.peer_address();
    origin_.headers = this;
    origin_.client_identity = request.client_identity();
  }
  HttpCallOrigin(const HttpCallOrigin&) = delete;
  HttpCallOrigin& operator=(const HttpCallOrigin&) = delete;

  const CallOrigin& get() const { return origin_; }

 private:
  void Get(absl::string_view name,
           std::vector<absl::string_view>* values) const override {
    for (absl::string_view value : request_.HeaderValues(name)) {
      values->push_back(value);
    }
  }

  const http::HttpRequest& request_;
  CallOrigin origin_;
};

}  // namespace geo

#endif  // GEO_SERVER_HTTP_CALL_ORIGIN_H_
