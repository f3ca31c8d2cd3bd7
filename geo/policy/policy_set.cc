#include "geo/policy/policy_set.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace geo::policy {
namespace {

// Names become metric label values and header values: keep them short and
// plain.
constexpr size_t kMaxPolicyNameLength = 64;

bool IsPolicyName(absl::string_view name) {
  if (name.empty() || name.size() > kMaxPolicyNameLength) return false;
  for (const char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' &&
        c != '_' && c != '.') {
      return false;
    }
  }
  return true;
}

// A host name or address literal as a route may name it: letters, digits,
// '.', '-', and ':' '[' ']' for IPv6 literals.
bool IsHostName(absl::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  for (const char c : host) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' &&
        c != '-' && c != ':' && c != '[' && c != ']') {
      return false;
    }
  }
  return true;
}

// RFC 9110 token characters, for methods.
bool IsToken(absl::string_view text) {
  if (text.empty()) return false;
  for (const char c : text) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) &&
        !absl::StrContains("!#$%&'*+-.^_`|~", c)) {
      return false;
    }
  }
  return true;
}

// The request's host without port, trailing dot or case.
std::string NormalizeHost(absl::string_view host) {
  host = absl::StripAsciiWhitespace(host);
  if (absl::StartsWith(host, "[")) {
    const size_t close = host.find(']');
    if (close != absl::string_view::npos) host = host.substr(0, close + 1);
  } else if (const size_t colon = host.find(':');
             colon != absl::string_view::npos &&
             host.find(':', colon + 1) == absl::string_view::npos) {
    host = host.substr(0, colon);
  }
  host = absl::StripSuffix(host, ".");
  return absl::AsciiStrToLower(host);
}

}  // namespace

absl::StatusOr<std::shared_ptr<const PolicySet>> PolicySet::Create(
    const PolicyFile& file, const FieldLines& lines, bool single_policy,
    const DecisionCounterFactory& counters) {
  std::shared_ptr<PolicySet> set(new PolicySet());
  PolicyErrors errors(lines);

  if (file.policies().empty()) {
    errors.Add("policies", "at least one policy is required");
  }
  // Name order, so logs, metrics and errors are stable.
  const std::map<std::string, PolicyConfig> sorted(file.policies().begin(),
                                                   file.policies().end());
  for (const auto& [name, config] : sorted) {
    const std::string prefix =
        single_policy ? "" : absl::StrCat("policies.", name, ".");
    if (!IsPolicyName(name)) {
      errors.Add(absl::StrCat("policies.", name),
                 absl::StrCat("a policy name is 1 to ", kMaxPolicyNameLength,
                              " letters, digits, '.', '_' or '-'"));
      continue;
    }
    absl::StatusOr<std::shared_ptr<const Policy>> policy = Policy::Create(
        config, lines, name, prefix, counters ? counters(name) : nullptr);
    if (!policy.ok()) {
      errors.AddStatus(policy.status());
      continue;
    }
    set->by_name_.emplace(name, policy->get());
    set->policies_.push_back(*std::move(policy));
  }

  for (int i = 0; i < file.routes_size(); ++i) {
    const Route& route = file.routes(i);
    const std::string path = absl::StrCat("routes[", i, "]");
    CompiledRoute compiled;
    bool valid = true;
    const std::string host = absl::AsciiStrToLower(route.host());
    if (host.empty()) {
      compiled.host_kind = CompiledRoute::HostKind::kAny;
    } else if (absl::StartsWith(host, "*.") && IsHostName(host.substr(2)) &&
               !absl::StrContains(host.substr(2), '*')) {
      compiled.host_kind = CompiledRoute::HostKind::kWildcard;
      compiled.host = host.substr(1);  // ".example.com"
    } else if (IsHostName(host)) {
      compiled.host_kind = CompiledRoute::HostKind::kExact;
      compiled.host = std::string(absl::StripSuffix(host, "."));
    } else {
      errors.Add(absl::StrCat(path, ".host"),
                 absl::StrCat("\"", route.host(),
                              "\" is not a host name or \"*.\" and a name"));
      valid = false;
    }
    if (route.path_prefix().empty()) {
      compiled.path_prefix = "/";
    } else if (!absl::StartsWith(route.path_prefix(), "/") ||
               absl::StrContains(route.path_prefix(), '?')) {
      errors.Add(absl::StrCat(path, ".path_prefix"),
                 absl::StrCat("\"", route.path_prefix(),
                              "\" must start with '/' and hold no query"));
      valid = false;
    } else {
      absl::string_view prefix = route.path_prefix();
      while (prefix.size() > 1 && absl::EndsWith(prefix, "/")) {
        prefix.remove_suffix(1);
      }
      compiled.path_prefix = std::string(prefix);
    }
    for (int m = 0; m < route.methods_size(); ++m) {
      if (!IsToken(route.methods(m))) {
        errors.Add(absl::StrCat(path, ".methods[", m, "]"),
                   absl::StrCat("\"", route.methods(m), "\" is not a method"));
        valid = false;
        continue;
      }
      compiled.methods.push_back(absl::AsciiStrToUpper(route.methods(m)));
    }
    const auto policy = set->by_name_.find(route.policy());
    if (route.policy().empty()) {
      errors.Add(absl::StrCat(path, ".policy"), "is required");
      valid = false;
    } else if (policy == set->by_name_.end()) {
      errors.Add(absl::StrCat(path, ".policy"),
                 absl::StrCat("no policy is named \"", route.policy(), "\""));
      valid = false;
    } else {
      compiled.policy = policy->second;
    }
    if (!valid) continue;
    // Two routes for the same requests would make the file order decide.
    for (const CompiledRoute& other : set->routes_) {
      if (other.host_kind != compiled.host_kind ||
          other.host != compiled.host ||
          other.path_prefix != compiled.path_prefix ||
          other.methods.empty() != compiled.methods.empty()) {
        continue;
      }
      const bool overlap =
          compiled.methods.empty() ||
          std::any_of(compiled.methods.begin(), compiled.methods.end(),
                      [&](const std::string& method) {
                        return std::find(other.methods.begin(),
                                         other.methods.end(),
                                         method) != other.methods.end();
                      });
      if (overlap) {
        errors.Add(path,
                   "matches the same requests as an earlier route (same "
                   "host, path_prefix and method)");
        valid = false;
        break;
      }
    }
    if (valid) set->routes_.push_back(std::move(compiled));
  }
  std::stable_sort(set->routes_.begin(), set->routes_.end(),
                   [](const CompiledRoute& a, const CompiledRoute& b) {
                     if (a.host_kind != b.host_kind) {
                       return a.host_kind > b.host_kind;
                     }
                     if (a.host.size() != b.host.size()) {
                       return a.host.size() > b.host.size();
                     }
                     if (a.path_prefix.size() != b.path_prefix.size()) {
                       return a.path_prefix.size() > b.path_prefix.size();
                     }
                     return !a.methods.empty() && b.methods.empty();
                   });

  if (!file.default_policy().empty()) {
    const auto policy = set->by_name_.find(file.default_policy());
    if (policy == set->by_name_.end()) {
      // A policy of that name that failed validation was reported above.
      if (!file.policies().contains(file.default_policy())) {
        errors.Add("default_policy", absl::StrCat("no policy is named \"",
                                                  file.default_policy(), "\""));
      }
    } else {
      set->default_policy_ = policy->second;
    }
  } else if (file.policies().size() == 1 && !set->policies_.empty()) {
    set->default_policy_ = set->policies_.front().get();
  } else if (const auto policy = set->by_name_.find("default");
             policy != set->by_name_.end()) {
    set->default_policy_ = policy->second;
  } else if (file.policies().size() > 1) {
    errors.Add("default_policy",
               "is required when there are several policies and none is "
               "named \"default\"");
  }
  const absl::Status status = errors.ToStatus();
  if (!status.ok()) return status;
  return std::shared_ptr<const PolicySet>(std::move(set));
}

absl::StatusOr<std::shared_ptr<const PolicySet>> PolicySet::FromFile(
    const std::string& path, const DecisionCounterFactory& counters) {
  absl::StatusOr<ParsedPolicyFile> parsed = ReadPolicyFile(path);
  if (!parsed.ok()) return parsed.status();
  auto set =
      Create(parsed->file, parsed->lines, parsed->single_policy, counters);
  if (!set.ok()) {
    return absl::Status(
        set.status().code(),
        absl::StrCat("policy file ", path, ": ", set.status().message()));
  }
  return set;
}

std::shared_ptr<const PolicySet> PolicySet::AllowAll(
    const DecisionCounterFactory& counters) {
  std::shared_ptr<PolicySet> set(new PolicySet());
  set->policies_.push_back(
      Policy::AllowAll("default", counters ? counters("default") : nullptr));
  set->default_policy_ = set->policies_.front().get();
  set->by_name_.emplace("default", set->default_policy_);
  return set;
}

const Policy* PolicySet::Find(absl::string_view name) const {
  const auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

bool PolicySet::Matches(const CompiledRoute& route, absl::string_view host,
                        absl::string_view path, absl::string_view method) {
  switch (route.host_kind) {
    case CompiledRoute::HostKind::kAny:
      break;
    case CompiledRoute::HostKind::kExact:
      if (host != route.host) return false;
      break;
    case CompiledRoute::HostKind::kWildcard:
      if (host.size() <= route.host.size() ||
          !absl::EndsWith(host, route.host)) {
        return false;
      }
      break;
  }
  if (route.path_prefix != "/") {
    if (!absl::StartsWith(path, route.path_prefix)) return false;
    if (path.size() > route.path_prefix.size() &&
        path[route.path_prefix.size()] != '/') {
      return false;
    }
  }
  if (!route.methods.empty() &&
      std::none_of(route.methods.begin(), route.methods.end(),
                   [&](const std::string& allowed) {
                     return absl::EqualsIgnoreCase(allowed, method);
                   })) {
    return false;
  }
  return true;
}

const Policy& PolicySet::Select(const RequestTarget& target) const {
  if (routes_.empty()) return *default_policy_;
  const std::string host = NormalizeHost(target.host);
  absl::string_view path = target.path;
  path = path.substr(0, path.find_first_of("?#"));
  if (path.empty()) path = "/";
  for (const CompiledRoute& route : routes_) {
    if (Matches(route, host, path, target.method)) return *route.policy;
  }
  return *default_policy_;
}

}  // namespace geo::policy
