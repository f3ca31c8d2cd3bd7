#include "geo/server/forward_auth.h"

#include <algorithm>
#include <array>
#include <iterator>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "geo/http/grpc_gateway_mapping.h"
#include "geo/server/forward_auth_decision.pb.h"
#include "geo/server/http_call_origin.h"

namespace geo {
namespace {

using ::geo::server::ForwardAuthDecision;

constexpr size_t kMaxHeaderPrefixLength = 32;

// The string fields of an answer (those of ForwardAuthDecision), and the
// placeholder each holds while its template is printed, paired by index
// (Build fills and AppendTo reads through the same table, so the two lists
// cannot disagree on an order): plain ASCII, so the printer copies them
// verbatim between quotes.
constexpr absl::string_view AuthorizeBody::*kStringFields[] = {
    &AuthorizeBody::decision, &AuthorizeBody::policy, &AuthorizeBody::rule,
    &AuthorizeBody::reason, &AuthorizeBody::ip};
constexpr TextTemplate::Placeholder kPlaceholders[] = {
    {"geo.forward-auth.decision.5d21e8"}, {"geo.forward-auth.policy.5d21e8"},
    {"geo.forward-auth.rule.5d21e8"},     {"geo.forward-auth.reason.5d21e8"},
    {"geo.forward-auth.ip.5d21e8"},
};
constexpr size_t kStringFieldCount = std::size(kStringFields);
static_assert(std::size(kPlaceholders) == kStringFieldCount);

// The string fields of `body`, in the order of kStringFields.
std::array<absl::string_view, kStringFieldCount> StringFields(
    const AuthorizeBody& body) {
  std::array<absl::string_view, kStringFieldCount> strings;
  for (size_t i = 0; i < kStringFieldCount; ++i) {
    strings[i] = body.*kStringFields[i];
  }
  return strings;
}

ForwardAuthDecision DecisionMessage(const AuthorizeBody& body) {
  ForwardAuthDecision message;
  message.set_allowed(body.allowed);
  message.set_decision(std::string(body.decision));
  message.set_dry_run(body.dry_run);
  message.set_policy(std::string(body.policy));
  message.set_rule(std::string(body.rule));
  message.set_reason(std::string(body.reason));
  message.set_ip(std::string(body.ip));
  return message;
}

// Whether MessageToGatewayJson escapes anything in `text`: it escapes only
// '"', '\\' and control characters (geo/http/grpc_gateway_mapping.h).
bool NeedsJsonEscape(absl::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == '"' || c == '\\';
  });
}

// The first value of the first of `names` the request carries.
std::optional<absl::string_view> FirstHeader(
    const http::HttpRequest& request,
    std::initializer_list<absl::string_view> names) {
  for (absl::string_view name : names) {
    if (std::optional<absl::string_view> value = request.Header(name)) {
      absl::string_view trimmed = absl::StripAsciiWhitespace(*value);
      if (!trimmed.empty()) return trimmed;
    }
  }
  return std::nullopt;
}

// The decision headers' names, with the configured prefix, made once when
// the route is added rather than per request.
struct HeaderNames {
  explicit HeaderNames(absl::string_view prefix)
      : decision(absl::StrCat(prefix, "Decision")),
        dry_run(absl::StrCat(prefix, "Dry-Run")),
        policy(absl::StrCat(prefix, "Policy")),
        rule(absl::StrCat(prefix, "Rule")),
        reason(absl::StrCat(prefix, "Reason")),
        client_ip(absl::StrCat(prefix, "Client-IP")),
        country(absl::StrCat(prefix, "Country")),
        subdivision(absl::StrCat(prefix, "Subdivision")),
        city(absl::StrCat(prefix, "City")),
        asn(absl::StrCat(prefix, "ASN")) {}
  std::string decision, dry_run, policy, rule, reason, client_ip, country,
      subdivision, city, asn;
};

// What the route keeps from one answer to the next.
struct Endpoint {
  HeaderNames names;
  AuthorizeBodyWriter body;
};

void Serve(const LookupService* service, const Endpoint& endpoint,
           const http::HttpRequest& request, absl::string_view path_below,
           http::HttpResponse* response) {
  const HeaderNames& names = endpoint.names;
  const HttpCallOrigin origin(request);
  const GeofenceDecision decision =
      service->Authorize(origin.get(), OriginalRequest(request, path_below));
  const bool unavailable = decision.failed && decision.policy->on_error() ==
                                                  policy::FailureAction::kError;
  const absl::string_view decided =
      decision.decision.allowed ? "allow" : "deny";
  const absl::string_view rule = policy::RuleKindName(decision.decision.rule);
  const bool dry_run = !decision.failed && decision.policy->dry_run();

  response->AddHeader(names.decision, decided);
  response->AddHeader(names.dry_run, dry_run ? "true" : "false");
  response->AddHeader(names.policy, decision.policy->name());
  response->AddHeader(names.rule, rule);
  response->AddHeader(names.reason, HeaderSafe(decision.decision.reason));
  response->AddHeader(names.client_ip, decision.ip);
  response->AddHeader(names.country, HeaderSafe(decision.country_code));
  response->AddHeader(names.subdivision, HeaderSafe(decision.subdivision_code));
  response->AddHeader(names.city, HeaderSafe(decision.city));
  response->AddHeader(names.asn,
                      decision.asn == 0 ? "" : absl::StrCat(decision.asn));
  // An ingress must not cache a per-client answer.
  response->AddHeader("Cache-Control", "no-store");

  response->set_status(decision.allowed ? 200 : (unavailable ? 503 : 403));
  response->set_content_type("application/json");
  response->set_body({});
  AuthorizeBody body;
  body.allowed = decision.allowed;
  body.decision = decided;
  body.dry_run = dry_run;
  body.policy = decision.policy->name();
  body.rule = rule;
  body.reason = decision.decision.reason;
  body.ip = decision.ip;
  endpoint.body.AppendTo(body, response->mutable_body());
}

}  // namespace

AuthorizeBodyWriter::AuthorizeBodyWriter() {
  for (const bool allowed : {false, true}) {
    for (const bool dry_run : {false, true}) {
      templates_[2 * allowed + dry_run] = Build(allowed, dry_run);
    }
  }
}

std::optional<TextTemplate> AuthorizeBodyWriter::Build(bool allowed,
                                                       bool dry_run) {
  AuthorizeBody placeholders;
  placeholders.allowed = allowed;
  placeholders.dry_run = dry_run;
  for (size_t i = 0; i < kStringFieldCount; ++i) {
    placeholders.*kStringFields[i] = kPlaceholders[i].text;
  }
  return TextTemplate::Cut(
      http::MessageToGatewayJson(DecisionMessage(placeholders)), kPlaceholders);
}

void AuthorizeBodyWriter::AppendTo(const AuthorizeBody& body,
                                   std::string* out) const {
  const std::optional<TextTemplate>& answer =
      templates_[2 * body.allowed + body.dry_run];
  const std::array<absl::string_view, kStringFieldCount> strings =
      StringFields(body);
  if (!answer.has_value() ||
      std::any_of(strings.begin(), strings.end(), NeedsJsonEscape)) {
    out->append(http::MessageToGatewayJson(DecisionMessage(body)));
    return;
  }
  answer->AppendTo(strings, out);
}

absl::Status ValidateHeaderPrefix(absl::string_view prefix) {
  if (prefix.empty() || prefix.size() > kMaxHeaderPrefixLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a header prefix is 1 to ", kMaxHeaderPrefixLength, " characters"));
  }
  for (const char c : prefix) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) &&
        !absl::StrContains("!#$%&'*+-.^_`|~", c)) {
      return absl::InvalidArgumentError(
          absl::StrCat("header prefix \"", prefix,
                       "\" may hold only letters, digits and -._~!#$%&'*+^`|"));
    }
  }
  return absl::OkStatus();
}

policy::RequestTarget OriginalRequest(const http::HttpRequest& request,
                                      absl::string_view path_below) {
  policy::RequestTarget target;
  if (std::optional<absl::string_view> host =
          FirstHeader(request, {"x-forwarded-host", "host"})) {
    // A list when several proxies appended: the first is the client's.
    target.host = absl::StripAsciiWhitespace(host->substr(0, host->find(',')));
  }
  if (std::optional<absl::string_view> path =
          FirstHeader(request, {"x-forwarded-uri", "x-original-uri"})) {
    target.path = *path;
  } else if (!path_below.empty()) {
    target.path = path_below;
  } else {
    target.path = "/";
  }
  if (std::optional<absl::string_view> method =
          FirstHeader(request, {"x-forwarded-method", "x-original-method"})) {
    target.method = *method;
  } else {
    target.method = request.method();
  }
  return target;
}

std::string HeaderSafe(absl::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string safe;
  safe.reserve(value.size());
  for (const char c : value) {
    const unsigned char byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte >= 0x7F || c == '%') {
      safe.push_back('%');
      safe.push_back(kHex[byte >> 4]);
      safe.push_back(kHex[byte & 0xF]);
    } else {
      safe.push_back(c);
    }
  }
  return safe;
}

absl::Status AddForwardAuthRoute(const LookupService* service,
                                 ForwardAuthOptions options,
                                 http::Router* router) {
  absl::Status status = ValidateHeaderPrefix(options.header_prefix);
  if (!status.ok()) return status;
  return router->AddPrefix(
      "/v1/authorize",
      [service, endpoint = Endpoint{HeaderNames(options.header_prefix),
                                    AuthorizeBodyWriter()}](
          const http::HttpRequest& request,
          const http::PathVariables& variables, http::HttpResponse* response) {
        Serve(service, endpoint, request, variables.Get("path"), response);
      });
}

}  // namespace geo
