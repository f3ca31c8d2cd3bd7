// The named policies of one policy file and the routes that choose one for a
// request by its host, path and method.
//
// Route order (most specific first; the first route that matches decides):
//   1. Host: an exact host before any wildcard, a longer wildcard suffix
//      ("*.api.example.com") before a shorter one ("*.example.com"), and any
//      wildcard before a route without a host.
//   2. Path: a longer path prefix before a shorter one.
//   3. Methods: a route that lists methods before one that does not.
// Two routes with the same host and path prefix whose methods overlap are
// rejected when the file is loaded, so the order never depends on the file.
// No route matching: the default policy.
#ifndef GEO_POLICY_POLICY_SET_H_
#define GEO_POLICY_POLICY_SET_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "geo/policy/policy.h"
#include "geo/policy/policy_config.pb.h"
#include "geo/policy/policy_parser.h"

namespace geo::policy {

// The request a forward-auth decision is made for.
struct RequestTarget {
  // As sent in Host / X-Forwarded-Host, possibly with a port.
  absl::string_view host;
  // The path, possibly with a query string (ignored for routing).
  absl::string_view path = "/";
  absl::string_view method = "GET";
};

// Immutable once built; thread-safe.
class PolicySet {
 public:
  // Validates every policy (Policy::Create), every route (a known policy, a
  // host that is a name or "*." and a name, a path prefix starting with '/',
  // method tokens, no ambiguous pair) and the default policy. Errors name the
  // field path and line, all of them at once. `single_policy`: the file was
  // one PolicyConfig (ParsedPolicyFile::single_policy), whose field paths
  // have no "policies.default." prefix.
  // `counters` (may be null) makes each policy's DecisionCounter.
  static absl::StatusOr<std::shared_ptr<const PolicySet>> Create(
      const PolicyFile& file, const FieldLines& lines = {},
      bool single_policy = false,
      const DecisionCounterFactory& counters = nullptr);

  // Reads, parses and validates a policy file of either form; errors name
  // the file.
  static absl::StatusOr<std::shared_ptr<const PolicySet>> FromFile(
      const std::string& path,
      const DecisionCounterFactory& counters = nullptr);

  // One policy, "default", that allows everything (no policy file).
  static std::shared_ptr<const PolicySet> AllowAll(
      const DecisionCounterFactory& counters = nullptr);

  // The policy named `name`, or nullptr.
  const Policy* Find(absl::string_view name) const;

  // The policy for `target`: the most specific matching route's, else the
  // default. Never null.
  const Policy& Select(const RequestTarget& target) const;

  const Policy& default_policy() const { return *default_policy_; }

  // Every policy, in name order.
  const std::vector<std::shared_ptr<const Policy>>& policies() const {
    return policies_;
  }
  size_t route_count() const { return routes_.size(); }

 private:
  struct CompiledRoute {
    enum class HostKind { kAny, kWildcard, kExact };
    HostKind host_kind = HostKind::kAny;
    // Lower case; for a wildcard the suffix with its leading dot
    // (".example.com").
    std::string host;
    // Without a trailing '/' unless it is "/".
    std::string path_prefix;
    // Upper case; empty means any.
    std::vector<std::string> methods;
    const Policy* policy = nullptr;
  };

  PolicySet() = default;

  static bool Matches(const CompiledRoute& route, absl::string_view host,
                      absl::string_view path, absl::string_view method);

  std::vector<std::shared_ptr<const Policy>> policies_;
  absl::flat_hash_map<std::string, const Policy*> by_name_;
  // Most specific first.
  std::vector<CompiledRoute> routes_;
  const Policy* default_policy_ = nullptr;
};

}  // namespace geo::policy

#endif  // GEO_POLICY_POLICY_SET_H_
