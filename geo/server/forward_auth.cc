#include "geo/server/forward_auth.h"

#include <algorithm>
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

// Plain ASCII, so the printer copies them verbatim between quotes; Build
// checks that each stands exactly once, where it was put.
constexpr absl::string_view kDecisionPlaceholder =
    "geo.forward-auth.decision.5d21e8";
constexpr absl::string_view kPolicyPlaceholder =
    "geo.forward-auth.policy.5d21e8";
constexpr absl::string_view kRulePlaceholder = "geo.forward-auth.rule.5d21e8";
constexpr absl::string_view kReasonPlaceholder =
    "geo.forward-auth.reason.5d21e8";
constexpr absl::string_view kIpPlaceholder = "geo.forward-auth.ip.5d21e8";

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

// Whether `needle` stands exactly once in `text`, as a whole JSON string.
bool StandsOnceQuoted(absl::string_view text, absl::string_view needle) {
  const size_t at = text.find(needle);
  return at != absl::string_view::npos && at == text.rfind(needle) && at > 0 &&
         text[at - 1] == '"' && at + needle.size() < text.size() &&
         text[at + needle.size()] == '"';
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

std::optional<AuthorizeBodyWriter::Template> AuthorizeBodyWriter::Build(
    bool allowed, bool dry_run) {
  static constexpr std::pair<Field, absl::string_view> kPlaceholders[] = {
      {Field::kDecision, kDecisionPlaceholder},
      {Field::kPolicy, kPolicyPlaceholder},
      {Field::kRule, kRulePlaceholder},
      {Field::kReason, kReasonPlaceholder},
      {Field::kIp, kIpPlaceholder},
  };
  AuthorizeBody placeholders;
  placeholders.allowed = allowed;
  placeholders.decision = kDecisionPlaceholder;
  placeholders.dry_run = dry_run;
  placeholders.policy = kPolicyPlaceholder;
  placeholders.rule = kRulePlaceholder;
  placeholders.reason = kReasonPlaceholder;
  placeholders.ip = kIpPlaceholder;
  const std::string text =
      http::MessageToGatewayJson(DecisionMessage(placeholders));
  for (const auto& placeholder : kPlaceholders) {
    if (!StandsOnceQuoted(text, placeholder.second)) return std::nullopt;
  }
  Template answer;
  absl::string_view rest = text;
  while (true) {
    // The earliest placeholder left; cut inside its quotes, so the quotes
    // stay in the literals.
    size_t at = absl::string_view::npos;
    const std::pair<Field, absl::string_view>* found = nullptr;
    for (const auto& placeholder : kPlaceholders) {
      const size_t placeholder_at = rest.find(placeholder.second);
      if (placeholder_at < at) {
        at = placeholder_at;
        found = &placeholder;
      }
    }
    if (found == nullptr) break;
    answer.literals.emplace_back(rest.substr(0, at));
    answer.holes.push_back(found->first);
    rest.remove_prefix(at + found->second.size());
  }
  answer.literals.emplace_back(rest);
  return answer;
}

absl::string_view AuthorizeBodyWriter::Value(const AuthorizeBody& body,
                                             Field field) {
  switch (field) {
    case Field::kDecision:
      return body.decision;
    case Field::kPolicy:
      return body.policy;
    case Field::kRule:
      return body.rule;
    case Field::kReason:
      return body.reason;
    case Field::kIp:
      return body.ip;
  }
  return {};
}

void AuthorizeBodyWriter::AppendTo(const AuthorizeBody& body,
                                   std::string* out) const {
  const std::optional<Template>& answer =
      templates_[2 * body.allowed + body.dry_run];
  const bool escapes = std::any_of(
      kStringFields.begin(), kStringFields.end(),
      [&](Field field) { return NeedsJsonEscape(Value(body, field)); });
  if (!answer.has_value() || escapes) {
    out->append(http::MessageToGatewayJson(DecisionMessage(body)));
    return;
  }
  for (size_t i = 0; i < answer->holes.size(); ++i) {
    out->append(answer->literals[i]);
    const absl::string_view value = Value(body, answer->holes[i]);
    out->append(value.data(), value.size());
  }
  out->append(answer->literals.back());
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
