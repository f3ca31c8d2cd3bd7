// The forward-auth endpoint: ingresses (nginx auth_request, Traefik
// ForwardAuth, Caddy forward_auth, Envoy ext_authz over HTTP) ask it before
// they proxy a request, act on its status, and copy its headers upstream.
// docs/edge.md is the user's guide.
//
//   ANY /v1/authorize[/<original path>]
//   200 allowed, 403 denied, 503 when the policy's on_error is "error" and no
//   decision could be made; body {"allowed","decision","dryRun","policy",
//   "rule","reason","ip"}; the decision headers below on every answer.
#ifndef GEO_SERVER_FORWARD_AUTH_H_
#define GEO_SERVER_FORWARD_AUTH_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "geo/http/http_message.h"
#include "geo/http/router.h"
#include "geo/policy/policy_set.h"
#include "geo/server/lookup_service.h"

namespace geo {

struct ForwardAuthOptions {
  // Prefix of every decision header ("X-Geo-" gives X-Geo-Decision, ...).
  std::string header_prefix = "X-Geo-";
};

// INVALID_ARGUMENT unless `prefix` is a field-name token (letters, digits,
// '-', ...), at most 32 bytes.
absl::Status ValidateHeaderPrefix(absl::string_view prefix);

// The request being authorized, from the forwarding headers the ingresses
// send: host from X-Forwarded-Host (its first entry) else Host; path from
// X-Forwarded-Uri, else X-Original-URI, else `path_below` (Envoy appends the
// original path to the endpoint's), else "/"; method from
// X-Forwarded-Method, else X-Original-Method, else the request's own. Views
// into `request`.
policy::RequestTarget OriginalRequest(const http::HttpRequest& request,
                                      absl::string_view path_below);

// A header value that is safe to send: bytes outside printable ASCII, and
// '%', percent-encoded (UTF-8 "Zürich" is "Z%C3%BCrich"), so no CR, LF or
// other control byte from a database or a request can reach a header.
std::string HeaderSafe(absl::string_view value);

// Adds `ANY /v1/authorize[/...]` to `router`. `service` must outlive it.
absl::Status AddForwardAuthRoute(const LookupService* service,
                                 ForwardAuthOptions options,
                                 http::Router* router);

}  // namespace geo

#endif  // GEO_SERVER_FORWARD_AUTH_H_
