#include "geo/http/router.h"

#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "geo/http/grpc_gateway_mapping.h"

namespace geo::http {
namespace {

bool IsValidName(absl::string_view name) {
  if (name.empty()) return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

absl::string_view PathVariables::Get(absl::string_view name) const {
  for (const auto& [variable, value] : variables_) {
    if (variable == name) return value;
  }
  return absl::string_view();
}

absl::Status Router::Add(absl::string_view method,
                         absl::string_view path_template,
                         RouteHandler handler) {
  if (method.empty()) return absl::InvalidArgumentError("empty HTTP method");
  if (!absl::StartsWith(path_template, "/")) {
    return absl::InvalidArgumentError(
        absl::StrCat("path template '", path_template, "' must start with /"));
  }
  Route route;
  route.method = std::string(method);
  route.handler = std::move(handler);
  absl::string_view rest = path_template.substr(1);
  // The verb is after the last ':' outside braces.
  const size_t last_brace = rest.rfind('}');
  const size_t colon = rest.rfind(':');
  if (colon != absl::string_view::npos &&
      (last_brace == absl::string_view::npos || colon > last_brace)) {
    route.verb = std::string(rest.substr(colon + 1));
    rest = rest.substr(0, colon);
    if (!IsValidName(route.verb)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "path template '", path_template, "' has a malformed verb"));
    }
  }
  const std::vector<absl::string_view> parts =
      rest.empty() && route.verb.empty() ? std::vector<absl::string_view>()
                                         : absl::StrSplit(rest, '/');
  for (const absl::string_view part : parts) {
    Segment segment;
    if (absl::StartsWith(part, "{") && absl::EndsWith(part, "}")) {
      segment.variable = std::string(part.substr(1, part.size() - 2));
      if (!IsValidName(segment.variable)) {
        return absl::InvalidArgumentError(
            absl::StrCat("path template '", path_template,
                         "' has a malformed variable '", part, "'"));
      }
    } else if (part.empty() || absl::StrContains(part, "{") ||
               absl::StrContains(part, "}") || absl::StrContains(part, ":")) {
      return absl::InvalidArgumentError(
          absl::StrCat("path template '", path_template,
                       "' has a malformed segment '", part, "'"));
    } else {
      segment.literal = std::string(part);
    }
    route.segments.push_back(std::move(segment));
  }
  routes_.push_back(std::move(route));
  return absl::OkStatus();
}

absl::Status Router::AddPrefix(absl::string_view path_prefix,
                               RouteHandler handler) {
  if (path_prefix.size() < 2 || path_prefix.front() != '/' ||
      path_prefix.back() == '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("path prefix '", path_prefix, "' is malformed"));
  }
  prefix_routes_.push_back({std::string(path_prefix), std::move(handler)});
  return absl::OkStatus();
}

bool Router::Match(const Route& route,
                   const absl::InlinedVector<absl::string_view, 8>& segments,
                   PathVariables* variables) {
  if (segments.size() != route.segments.size()) return false;
  variables->Clear();
  for (size_t i = 0; i < segments.size(); ++i) {
    absl::string_view part = segments[i];
    if (i + 1 == segments.size() && !route.verb.empty()) {
      if (part.size() <= route.verb.size() ||
          part[part.size() - route.verb.size() - 1] != ':' ||
          !absl::EndsWith(part, route.verb)) {
        return false;
      }
      part.remove_suffix(route.verb.size() + 1);
    }
    const Segment& segment = route.segments[i];
    if (segment.variable.empty()) {
      if (part != segment.literal) return false;
      continue;
    }
    std::string value;
    if (part.empty() || !PercentDecode(part, /*plus_is_space=*/false, &value)) {
      return false;
    }
    variables->Add(segment.variable, std::move(value));
  }
  return true;
}

void Router::Handle(const HttpRequest& request, HttpResponse* response) const {
  absl::string_view path = request.path();
  for (const PrefixRoute& route : prefix_routes_) {
    if (!absl::StartsWith(path, route.prefix)) continue;
    const absl::string_view rest = path.substr(route.prefix.size());
    if (!rest.empty() && rest.front() != '/') continue;
    PathVariables variables;
    variables.Add("path", std::string(rest));
    route.handler(request, variables, response);
    return;
  }
  absl::InlinedVector<absl::string_view, 8> segments;
  // "/" has no segments; a path without a leading "/" matches nothing.
  if (path.size() > 1 && path[0] == '/') {
    segments = absl::StrSplit(path.substr(1), '/');
  } else if (path != "/") {
    segments.push_back(absl::string_view());
  }
  PathVariables variables;
  bool path_known = false;
  for (const Route& route : routes_) {
    if (!Match(route, segments, &variables)) continue;
    if (route.method != request.method()) {
      path_known = true;
      continue;
    }
    route.handler(request, variables, response);
    return;
  }
  // grpc-gateway's routing errors: 405 becomes UNIMPLEMENTED (501).
  if (path_known) {
    response->SetJson(HttpStatusFromGrpcCode(absl::StatusCode::kUnimplemented),
                      GatewayErrorBody(absl::StatusCode::kUnimplemented,
                                       "Method Not Allowed"));
  } else {
    response->SetJson(
        HttpStatusFromGrpcCode(absl::StatusCode::kNotFound),
        GatewayErrorBody(absl::StatusCode::kNotFound, "Not Found"));
  }
}

HttpHandler Router::AsHandler() const {
  return [this](const HttpRequest& request, HttpResponse* response) {
    Handle(request, response);
  };
}

}  // namespace geo::http
