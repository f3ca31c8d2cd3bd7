// The geofence: an immutable policy built from a validated PolicyConfig, and
// the decision it makes for one looked-up address.
//
// Order of precedence (the first step that applies decides):
//   1. Client identity rules: the names of the client certificate the TLS
//      handshake verified (SAN URI, SAN DNS name or subject CN). Who is
//      calling is more specific than any fact about an address, so these
//      come before CIDR rules. The most specific entry wins: an exact entry
//      before a prefix ("spiffe://cluster.local/ns/payments/*"), a longer
//      prefix before a shorter one; when two names of one certificate match
//      equally specific entries of both lists, deny wins. A call without a
//      client certificate never matches. Trap: behind a proxy that
//      terminates TLS (a forward-auth ingress), the certificate is the
//      proxy's, so the identity is the proxy's and never the end user's.
//   2. CIDR rules: the most specific network (longest prefix) in the allow or
//      deny list that contains the address. IPv4 rules also match IPv4-mapped
//      IPv6 addresses (::ffff:a.b.c.d). CIDR rules come before the address's
//      other facts so that an operator can carve exceptions out of
//      everything below, e.g. allow an
//      office network inside a denied country, or a private range.
//   3. Private/reserved addresses, when `private_addresses` is set.
//   4. Anonymizer rules (GeoIP2 Anonymous IP): an anonymizer's exit says
//      nothing about where its user is, so its ASN and location must not
//      decide first. Of the specific kinds the address has, a deny rule wins
//      over an allow rule (allowing VPNs does not let in a VPN that is also
//      a Tor exit denied by name); among rules of the same action the order
//      is tor_exit_node, public_proxy, residential_proxy, anonymous_vpn,
//      hosting_provider. "anonymous" (any kind) applies only when no
//      specific kind decided.
//   5. ASN rules (the network operator is more specific than its location).
//   6. Connection type rules (a class of network: more specific than a
//      location, less than one operator).
//   7. Subdivision rules, most specific subdivision first ("GB-KEN" before
//      "GB-ENG"), so that allow US-CA + deny US allows only California.
//   8. Country rules.
//   9. Unknown addresses (no database record), when `unknown_addresses` is
//      set.
//   10. The default action.
// An item cannot be in both lists (rejected when the policy is built), so
// within one step there is never a tie except between anonymizer kinds and
// between the names of one certificate, resolved as above.
// Local overrides (geofeed) are applied to the lookup before the policy sees
// it: a country or subdivision from an override is matched like one from a
// database.
#ifndef GEO_POLICY_POLICY_H_
#define GEO_POLICY_POLICY_H_

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "geo/common/ip_address.h"
#include "geo/policy/policy_config.pb.h"
#include "geo/policy/policy_parser.h"
#include "geo/tls/peer_identity.h"

namespace geo::policy {

// What a lookup found for the address being checked. Views: the strings must
// outlive the Evaluate call.
struct PolicyInput {
  IpAddress ip;
  // True when a database has a record for the address.
  bool found = false;
  // ISO 3166-1 alpha-2, upper case; empty when unknown.
  absl::string_view country_iso_code;
  // ISO 3166-2 codes, largest first, either full ("US-CA") or as MaxMind
  // stores them, without the country ("CA", completed with
  // country_iso_code).
  absl::InlinedVector<absl::string_view, 2> subdivision_codes;
  // 0 when unknown.
  uint32_t asn = 0;
  // The anonymizer kinds the address has: AnonymizerKind bits.
  uint32_t anonymizers = 0;
  // As the database spells it ("Cable/DSL"); empty when unknown.
  absl::string_view connection_type;
  // The names of the client certificate the TLS handshake verified; null
  // without one (plaintext, or no certificate presented). Not owned.
  const tls::PeerIdentity* client_identity = nullptr;
};

// The kinds of anonymizer a policy can name, as bits of
// PolicyInput::anonymizers. The specific kinds are in the order of
// precedence among rules of the same action; kAnonymous is the catch-all
// (GeoIP2's is_anonymous).
enum AnonymizerKind : uint32_t {
  kTorExitNode = 1u << 0,
  kPublicProxy = 1u << 1,
  kResidentialProxy = 1u << 2,
  kAnonymousVpn = 1u << 3,
  kHostingProvider = 1u << 4,
  kAnonymous = 1u << 5,
};

// The policy file's name of `kind` ("tor_exit_node"); `kind` is one bit.
absl::string_view AnonymizerKindName(AnonymizerKind kind);

// The kind of rule that decided: a bounded set, usable as a metric label.
enum class RuleKind {
  kNone,  // No policy configured.
  kClientIdentity,
  kNetwork,
  kPrivate,
  kAsn,
  kAnonymizer,
  kConnectionType,
  kSubdivision,
  kCountry,
  kUnknown,
  kDefault,
  kError,  // No decision could be made; the policy's on_error decided.
  // A new kind goes before kError, with its name in RuleKindName's table.
};

// "none", "client_identity", "cidr", "private", "asn", "anonymizer",
// "connection_type", "subdivision", "country", "unknown", "default", "error".
absl::string_view RuleKindName(RuleKind kind);

// What a policy does when it cannot decide (see PolicyConfig.on_error).
enum class FailureAction { kAllow, kDeny, kError };

// How a decision ended, as counted: a dry-run policy's deny is allowed and
// counted apart.
enum class DecisionResult { kAllowed, kDenied, kDryRunDenied };

// Why no decision could be made.
enum class DecisionError { kNoDatabase, kLookupError, kBadClientAddress };

// "allowed", "denied", "dry_run_denied".
absl::string_view DecisionResultName(DecisionResult result);
// "no_database", "lookup_error", "bad_client_address".
absl::string_view DecisionErrorName(DecisionError error);

// Counts one policy's decisions (metrics). Made once per policy when a policy
// file loads, so counting on the request path only increments. Thread-safe.
class DecisionCounter {
 public:
  virtual ~DecisionCounter() = default;
  virtual void Count(DecisionResult result, RuleKind rule) const = 0;
  virtual void CountError(DecisionError error) const = 0;
};

// Makes the counter of the policy named `policy_name`.
using DecisionCounterFactory =
    std::function<std::shared_ptr<const DecisionCounter>(
        absl::string_view policy_name)>;

struct Decision {
  bool allowed = true;
  // The rule that decided, e.g. "country DE is in deny list".
  std::string reason;
  RuleKind rule = RuleKind::kNone;
};

// The decision when no policy is configured: allowed, and the reason says so.
Decision NoPolicyDecision();

// Immutable once built; thread-safe.
class Policy {
 public:
  // Validates `config`: actions are "allow"/"deny" (default_action
  // required), countries are assigned ISO 3166-1 codes, subdivisions are
  // "CC-XXX" with an assigned CC, ASNs are non-zero, networks parse as CIDRs
  // without host bits, client identities are non-empty without spaces or
  // control characters and use '*' only as a final "/*", and no item is
  // listed twice or in both lists.
  // on_error is "allow", "deny" or "error" (default "deny"). INVALID_ARGUMENT
  // naming the field path (`field_prefix` + the field, and its line when
  // `lines` knows it) otherwise.
  // `counter` may be null (decisions are not counted).
  static absl::StatusOr<std::shared_ptr<const Policy>> Create(
      const PolicyConfig& config, const FieldLines& lines = {},
      absl::string_view name = "default", absl::string_view field_prefix = "",
      std::shared_ptr<const DecisionCounter> counter = nullptr);

  // The policy used when no policy file is configured: allows everything
  // with NoPolicyDecision()'s reason.
  static std::shared_ptr<const Policy> AllowAll(
      absl::string_view name,
      std::shared_ptr<const DecisionCounter> counter = nullptr);

  Decision Evaluate(const PolicyInput& input) const;

  // Its name in the policy file ("default" for a single-policy file).
  const std::string& name() const { return name_; }
  bool dry_run() const { return dry_run_; }
  FailureAction on_error() const { return on_error_; }
  // Counts a decision of this policy (a no-op without a counter).
  void Count(DecisionResult result, RuleKind rule) const {
    if (counter_ != nullptr) counter_->Count(result, rule);
  }
  void CountError(DecisionError error) const {
    if (counter_ != nullptr) counter_->CountError(error);
  }

  // Counts of the rules, for the log line of a (re)load.
  size_t rule_count() const;

  // Whether a rule needs anonymizer data (a GeoIP2 Anonymous IP database) or
  // connection types (GeoIP2 Connection Type or Enterprise): without such a
  // database those rules never match, which the server warns about.
  bool uses_anonymizers() const { return !anonymizers_.empty(); }
  bool uses_connection_types() const { return !connection_types_.empty(); }

 private:
  // Builds a policy from a config in named steps (policy.cc).
  class Builder;
  struct Rule {
    bool allow = true;
    std::string reason;
    RuleKind kind = RuleKind::kDefault;
  };
  // An address in IPv6 form (IPv4 as ::ffff:a.b.c.d), two halves.
  using AddressKey = std::pair<uint64_t, uint64_t>;
  struct NetworksOfLength {
    int prefix_length = 0;  // In the IPv6 form: IPv4 /8 is 104.
    absl::flat_hash_map<AddressKey, Rule> networks;
  };

  Policy() = default;

  Decision Decide(const Rule& rule) const {
    return {rule.allow, rule.reason, rule.kind};
  }
  // The most specific client identity rule matching one of `identity`'s
  // names, or null.
  const Rule* MatchClientIdentity(const tls::PeerIdentity& identity) const;

  std::string name_;
  bool dry_run_ = false;
  FailureAction on_error_ = FailureAction::kDeny;
  bool allow_all_ = false;
  std::shared_ptr<const DecisionCounter> counter_;
  Rule default_rule_;
  std::optional<Rule> private_rule_;
  std::optional<Rule> unknown_rule_;
  // Client identities listed exactly.
  absl::flat_hash_map<std::string, Rule> client_identities_;
  // Entries ending in "/*", by the prefix before the '*' (which ends in
  // '/'), longest first.
  std::vector<std::pair<std::string, Rule>> client_identity_prefixes_;
  // Longest prefix first.
  std::vector<NetworksOfLength> networks_by_length_;
  absl::flat_hash_map<uint32_t, Rule> asns_;
  // By AnonymizerKind bit.
  absl::flat_hash_map<uint32_t, Rule> anonymizers_;
  // By lower-case connection type.
  absl::flat_hash_map<std::string, Rule> connection_types_;
  absl::flat_hash_map<std::string, Rule> subdivisions_;
  absl::flat_hash_map<std::string, Rule> countries_;
};

}  // namespace geo::policy

#endif  // GEO_POLICY_POLICY_H_
