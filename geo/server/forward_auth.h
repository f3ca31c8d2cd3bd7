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

#include <array>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "geo/common/text_template.h"
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

// The fields of an authorize answer's body, whose schema is the
// ForwardAuthDecision message (geo/server/forward_auth_decision.proto, the
// OpenAPI document's geoAuthorizeResponse). Views, valid while it is written.
struct AuthorizeBody {
  bool allowed = false;
  absl::string_view decision;  // "allow" or "deny".
  bool dry_run = false;
  absl::string_view policy;
  absl::string_view rule;
  absl::string_view reason;
  absl::string_view ip;
};

// Writes an AuthorizeBody as exactly the bytes MessageToGatewayJson prints
// for a ForwardAuthDecision holding the same fields, without a message per
// answer: each (allowed, dry_run) pair's answer is printed once, with unique
// placeholders in the string fields, and cut at them; an answer then
// appends the literals and the strings between them. A string that JSON
// must escape (a quote, a backslash, a control character) has the whole
// message printed instead, so the printer stays the only escaper. Immutable
// after construction, so thread-safe.
class AuthorizeBodyWriter {
 public:
  AuthorizeBodyWriter();

  void AppendTo(const AuthorizeBody& body, std::string* out) const;

 private:
  // Nullopt when TextTemplate cannot cut the printed text (no printer of
  // ForwardAuthDecision does that); AppendTo then prints every answer in
  // full.
  static std::optional<TextTemplate> Build(bool allowed, bool dry_run);

  // Indexed by 2 * allowed + dry_run.
  std::array<std::optional<TextTemplate>, 4> templates_;
};

// Adds `ANY /v1/authorize[/...]` to `router`. `service` must outlive it.
absl::Status AddForwardAuthRoute(const LookupService* service,
                                 ForwardAuthOptions options,
                                 http::Router* router);

}  // namespace geo

#endif  // GEO_SERVER_FORWARD_AUTH_H_
