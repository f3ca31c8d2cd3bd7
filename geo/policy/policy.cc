#include "geo/policy/policy.h"

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "geo/common/enum_names.h"
#include "geo/data/country_codes.h"

namespace geo::policy {
namespace {

// ISO 3166-2: the country, '-', one to three letters or digits.
bool IsSubdivisionCode(absl::string_view code) {
  if (code.size() < 4 || code.size() > 6 || code[2] != '-') return false;
  if (!IsCountryCode(code.substr(0, 2))) return false;
  for (const char c : code.substr(3)) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// A list of ISO codes in PolicyRules: its field, what one item is, which
// codes are valid and what an invalid one is not.
struct CodeList {
  absl::string_view field;
  absl::string_view item;
  bool (*valid)(absl::string_view code);
  absl::string_view invalid;
  RuleKind kind;
};

constexpr CodeList kCountryList = {"countries", "country", IsCountryCode,
                                   "is not an ISO 3166-1 alpha-2 country code",
                                   RuleKind::kCountry};
constexpr CodeList kSubdivisionList = {
    "subdivisions", "subdivision", IsSubdivisionCode,
    "is not an ISO 3166-2 subdivision code like \"US-CA\"",
    RuleKind::kSubdivision};

// "allow" -> true, "deny" -> false; nullopt for "" (unset) and errors.
std::optional<bool> ParseAction(absl::string_view text, const std::string& path,
                                bool required, PolicyErrors* errors) {
  const std::string action = absl::AsciiStrToLower(text);
  if (action == "allow") return true;
  if (action == "deny") return false;
  if (action.empty() && !required) return std::nullopt;
  errors->Add(path, action.empty()
                        ? "is required: \"allow\" or \"deny\""
                        : absl::StrCat("must be \"allow\" or \"deny\", not \"",
                                       text, "\""));
  return std::nullopt;
}

absl::string_view ListName(bool allow) { return allow ? "allow" : "deny"; }

// Why `entry` cannot be a client identity rule; "" when it can. The names
// are checked as the listener allow-lists check theirs; '*' only makes sense
// as the final segment of a prefix.
std::string ClientIdentityEntryProblem(absl::string_view entry) {
  if (entry.empty()) return "is empty";
  if (!tls::IsClientIdentityName(entry)) {
    return absl::StrCat("\"", absl::CHexEscape(entry),
                        "\" contains a space or control character");
  }
  const size_t star = entry.find('*');
  if (star == absl::string_view::npos) return "";
  if (star != entry.size() - 1 || !absl::EndsWith(entry, "/*") ||
      entry.size() < 3) {
    return absl::StrCat("\"", entry,
                        "\": '*' is only allowed as a final \"/*\" (a prefix "
                        "like \"spiffe://cluster.local/ns/payments/*\")");
  }
  return "";
}

// Each anonymizer kind with its name in policy files, in order of
// precedence (see policy.h).
constexpr EnumName<AnonymizerKind> kAnonymizerKinds[] = {
    {kTorExitNode, "tor_exit_node"},          {kPublicProxy, "public_proxy"},
    {kResidentialProxy, "residential_proxy"}, {kAnonymousVpn, "anonymous_vpn"},
    {kHostingProvider, "hosting_provider"},   {kAnonymous, "anonymous"},
};

// The names of an enum's values in the order its enumerators are declared
// (numbered from 0), each table checked against the enum's last value.
constexpr absl::string_view kRuleKindNames[] = {"none",
                                                "client_identity",
                                                "cidr",
                                                "private",
                                                "asn",
                                                "anonymizer",
                                                "connection_type",
                                                "subdivision",
                                                "country",
                                                "unknown",
                                                "default",
                                                "error"};
static_assert(std::size(kRuleKindNames) ==
              static_cast<size_t>(RuleKind::kError) + 1);
constexpr absl::string_view kDecisionResultNames[] = {"allowed", "denied",
                                                      "dry_run_denied"};
static_assert(std::size(kDecisionResultNames) ==
              static_cast<size_t>(DecisionResult::kDryRunDenied) + 1);
constexpr absl::string_view kDecisionErrorNames[] = {
    "no_database", "lookup_error", "bad_client_address"};
static_assert(std::size(kDecisionErrorNames) ==
              static_cast<size_t>(DecisionError::kBadClientAddress) + 1);

// `value`'s entry in `names` (one of the tables above); names[0] for a value
// outside the enum.
template <typename Enum, size_t N>
absl::string_view NameIn(const absl::string_view (&names)[N], Enum value) {
  const auto index = static_cast<size_t>(value);
  return index < N ? names[index] : names[0];
}

// GeoIP2's connection_type values, as MaxMind documents them.
constexpr absl::string_view kConnectionTypes[] = {
    "Dialup", "Cable/DSL", "Corporate", "Cellular", "Satellite"};

}  // namespace

absl::string_view RuleKindName(RuleKind kind) {
  return NameIn(kRuleKindNames, kind);
}

absl::string_view AnonymizerKindName(AnonymizerKind kind) {
  return NameOf(kAnonymizerKinds, kind, "anonymous");
}

absl::string_view DecisionResultName(DecisionResult result) {
  return NameIn(kDecisionResultNames, result);
}

absl::string_view DecisionErrorName(DecisionError error) {
  return NameIn(kDecisionErrorNames, error);
}

Decision NoPolicyDecision() {
  return {true, "no policy configured: allowed by default", RuleKind::kNone};
}

std::shared_ptr<const Policy> Policy::AllowAll(
    absl::string_view name, std::shared_ptr<const DecisionCounter> counter) {
  std::shared_ptr<Policy> policy(new Policy());
  policy->name_ = std::string(name);
  policy->counter_ = std::move(counter);
  policy->allow_all_ = true;
  policy->on_error_ = FailureAction::kAllow;
  return policy;
}

// Fills a Policy from a PolicyConfig one part at a time, collecting every
// error so that a file's author sees them all at once.
class Policy::Builder {
 public:
  Builder(const FieldLines& lines, absl::string_view field_prefix,
          absl::string_view name,
          std::shared_ptr<const DecisionCounter> counter)
      : policy_(new Policy()), errors_(lines, field_prefix) {
    policy_->name_ = std::string(name);
    policy_->counter_ = std::move(counter);
  }

  // dry_run, default_action, private_addresses, unknown_addresses, on_error.
  void AddActions(const PolicyConfig& config);
  // One list's items, `allow` telling which list.
  void AddRules(const PolicyRules& rules, bool allow);
  // The policy, or every error found.
  absl::StatusOr<std::shared_ptr<const Policy>> Finish();

 private:
  // The codes of `list` into `rules`.
  void AddCodes(const CodeList& list,
                const google::protobuf::RepeatedPtrField<std::string>& codes,
                bool allow, absl::flat_hash_map<std::string, Rule>* rules);
  void AddAsns(const PolicyRules& rules, bool allow);
  void AddAnonymizers(const PolicyRules& rules, bool allow);
  void AddConnectionTypes(const PolicyRules& rules, bool allow);
  void AddNetworks(const PolicyRules& rules, bool allow);
  void AddClientIdentities(const PolicyRules& rules, bool allow);

  // False, and an error at `path`, when the item keyed `item_key` was seen
  // before (twice in one list, or in both).
  bool CheckUnique(const std::string& item_key, const std::string& path,
                   absl::string_view description);
  static Rule ListRule(bool allow, absl::string_view description,
                       RuleKind kind) {
    return Rule{allow,
                absl::StrCat(description, " is in ", ListName(allow), " list"),
                kind};
  }

  std::shared_ptr<Policy> policy_;
  PolicyErrors errors_;
  // Every item's first appearance, to report duplicates and conflicts.
  absl::flat_hash_map<std::string, std::string> first_seen_;
  std::map<int, absl::flat_hash_map<AddressKey, Rule>, std::greater<int>>
      networks_by_length_;
};

void Policy::Builder::AddActions(const PolicyConfig& config) {
  policy_->dry_run_ = config.dry_run();
  const std::optional<bool> default_allow = ParseAction(
      config.default_action(), "default_action", /*required=*/true, &errors_);
  const bool default_allowed = default_allow.value_or(false);
  policy_->default_rule_ = {
      default_allowed,
      absl::StrCat("default action ", ListName(default_allowed)),
      RuleKind::kDefault};
  // The rule for private or unknown addresses, when the file sets one.
  const auto address_rule =
      [&](absl::string_view action, const std::string& field,
          absl::string_view addresses, RuleKind kind) -> std::optional<Rule> {
    const std::optional<bool> allow =
        ParseAction(action, field, /*required=*/false, &errors_);
    if (!allow.has_value()) return std::nullopt;
    return Rule{
        *allow,
        absl::StrCat(addresses, " address (policy: ", ListName(*allow), ")"),
        kind};
  };
  policy_->private_rule_ =
      address_rule(config.private_addresses(), "private_addresses", "private",
                   RuleKind::kPrivate);
  policy_->unknown_rule_ =
      address_rule(config.unknown_addresses(), "unknown_addresses", "unknown",
                   RuleKind::kUnknown);
  const std::string on_error = absl::AsciiStrToLower(config.on_error());
  if (on_error.empty() || on_error == "deny") {
    policy_->on_error_ = FailureAction::kDeny;
  } else if (on_error == "allow") {
    policy_->on_error_ = FailureAction::kAllow;
  } else if (on_error == "error") {
    policy_->on_error_ = FailureAction::kError;
  } else {
    errors_.Add("on_error",
                absl::StrCat("must be \"allow\", \"deny\" or \"error\", not \"",
                             config.on_error(), "\""));
  }
}

void Policy::Builder::AddRules(const PolicyRules& rules, bool allow) {
  AddClientIdentities(rules, allow);
  AddCodes(kCountryList, rules.countries(), allow, &policy_->countries_);
  AddCodes(kSubdivisionList, rules.subdivisions(), allow,
           &policy_->subdivisions_);
  AddAsns(rules, allow);
  AddAnonymizers(rules, allow);
  AddConnectionTypes(rules, allow);
  AddNetworks(rules, allow);
}

bool Policy::Builder::CheckUnique(const std::string& item_key,
                                  const std::string& path,
                                  absl::string_view description) {
  const auto [it, inserted] = first_seen_.emplace(item_key, path);
  if (inserted) return true;
  const bool same_list = it->second.substr(0, it->second.find('.')) ==
                         path.substr(0, path.find('.'));
  errors_.Add(path,
              absl::StrCat(description,
                           same_list ? " is listed twice (also at "
                                     : " is in both allow and deny (also at ",
                           it->second, ")"));
  return false;
}

void Policy::Builder::AddCodes(
    const CodeList& list,
    const google::protobuf::RepeatedPtrField<std::string>& codes, bool allow,
    absl::flat_hash_map<std::string, Rule>* rules) {
  const absl::string_view list_name = ListName(allow);
  for (int i = 0; i < codes.size(); ++i) {
    const std::string path =
        absl::StrCat(list_name, ".", list.field, "[", i, "]");
    const std::string code = absl::AsciiStrToUpper(codes[i]);
    if (!list.valid(code)) {
      errors_.Add(path, absl::StrCat("\"", codes[i], "\" ", list.invalid));
      continue;
    }
    const std::string description = absl::StrCat(list.item, " ", code);
    if (!CheckUnique(description, path, description)) continue;
    rules->emplace(code, ListRule(allow, description, list.kind));
  }
}

void Policy::Builder::AddAsns(const PolicyRules& rules, bool allow) {
  const absl::string_view list = ListName(allow);
  for (int i = 0; i < rules.asns_size(); ++i) {
    const std::string path = absl::StrCat(list, ".asns[", i, "]");
    const uint32_t asn = rules.asns(i);
    if (asn == 0) {
      errors_.Add(path, "ASN 0 is reserved and never assigned");
      continue;
    }
    const std::string description = absl::StrCat("ASN ", asn);
    if (!CheckUnique(description, path, description)) continue;
    policy_->asns_.emplace(asn, ListRule(allow, description, RuleKind::kAsn));
  }
}

void Policy::Builder::AddAnonymizers(const PolicyRules& rules, bool allow) {
  const absl::string_view list = ListName(allow);
  for (int i = 0; i < rules.anonymizers_size(); ++i) {
    const std::string path = absl::StrCat(list, ".anonymizers[", i, "]");
    const std::string name = absl::AsciiStrToLower(rules.anonymizers(i));
    const std::optional<AnonymizerKind> kind =
        ValueNamed(kAnonymizerKinds, name);
    if (!kind.has_value()) {
      std::vector<absl::string_view> names;
      for (const EnumName<AnonymizerKind>& entry : kAnonymizerKinds) {
        names.push_back(entry.name);
      }
      errors_.Add(path, absl::StrCat("\"", rules.anonymizers(i),
                                     "\" is not an anonymizer kind (",
                                     absl::StrJoin(names, ", "), ")"));
      continue;
    }
    const std::string description = absl::StrCat("anonymizer ", name);
    if (!CheckUnique(description, path, description)) continue;
    policy_->anonymizers_.emplace(
        *kind, ListRule(allow, description, RuleKind::kAnonymizer));
  }
}

void Policy::Builder::AddConnectionTypes(const PolicyRules& rules, bool allow) {
  const absl::string_view list = ListName(allow);
  for (int i = 0; i < rules.connection_types_size(); ++i) {
    const std::string path = absl::StrCat(list, ".connection_types[", i, "]");
    const std::string lower = absl::AsciiStrToLower(rules.connection_types(i));
    const absl::string_view* type = std::find_if(
        std::begin(kConnectionTypes), std::end(kConnectionTypes),
        [&](absl::string_view t) { return absl::AsciiStrToLower(t) == lower; });
    if (type == std::end(kConnectionTypes)) {
      errors_.Add(path,
                  absl::StrCat("\"", rules.connection_types(i),
                               "\" is not a connection type (",
                               absl::StrJoin(kConnectionTypes, ", "), ")"));
      continue;
    }
    const std::string description = absl::StrCat("connection type ", *type);
    if (!CheckUnique(description, path, description)) continue;
    policy_->connection_types_.emplace(
        lower, ListRule(allow, description, RuleKind::kConnectionType));
  }
}

void Policy::Builder::AddNetworks(const PolicyRules& rules, bool allow) {
  const absl::string_view list = ListName(allow);
  for (int i = 0; i < rules.networks_size(); ++i) {
    const std::string path = absl::StrCat(list, ".networks[", i, "]");
    const auto network = IpNetwork::Parse(rules.networks(i));
    if (!network.ok()) {
      errors_.Add(path, network.status().message());
      continue;
    }
    const int prefix_length =
        network->prefix_length() + (network->address().is_v4() ? 96 : 0);
    const AddressKey key =
        MaskHalves(HalvesOf(network->address()), prefix_length);
    const std::string description =
        absl::StrCat("network ", network->ToString());
    // Keyed by the IPv6 form, so 10.0.0.0/8 and ::ffff:10.0.0.0/104 are the
    // same item.
    if (!CheckUnique(absl::StrCat("network ", key.first, ":", key.second, "/",
                                  prefix_length),
                     path, description)) {
      continue;
    }
    networks_by_length_[prefix_length].emplace(
        key, ListRule(allow, description, RuleKind::kNetwork));
  }
}

void Policy::Builder::AddClientIdentities(const PolicyRules& rules,
                                          bool allow) {
  const absl::string_view list = ListName(allow);
  for (int i = 0; i < rules.client_identities_size(); ++i) {
    const std::string path = absl::StrCat(list, ".client_identities[", i, "]");
    const std::string& entry = rules.client_identities(i);
    const std::string problem = ClientIdentityEntryProblem(entry);
    if (!problem.empty()) {
      errors_.Add(path, problem);
      continue;
    }
    const std::string description = absl::StrCat("client identity ", entry);
    if (!CheckUnique(description, path, description)) continue;
    Rule rule = ListRule(allow, description, RuleKind::kClientIdentity);
    if (absl::EndsWith(entry, "/*")) {
      policy_->client_identity_prefixes_.emplace_back(
          entry.substr(0, entry.size() - 1), std::move(rule));
    } else {
      policy_->client_identities_.emplace(entry, std::move(rule));
    }
  }
}

absl::StatusOr<std::shared_ptr<const Policy>> Policy::Builder::Finish() {
  const absl::Status status = errors_.ToStatus();
  if (!status.ok()) return status;
  for (auto& [prefix_length, networks] : networks_by_length_) {
    policy_->networks_by_length_.push_back(
        {prefix_length, std::move(networks)});
  }
  std::stable_sort(policy_->client_identity_prefixes_.begin(),
                   policy_->client_identity_prefixes_.end(),
                   [](const auto& a, const auto& b) {
                     return a.first.size() > b.first.size();
                   });
  return std::shared_ptr<const Policy>(std::move(policy_));
}

absl::StatusOr<std::shared_ptr<const Policy>> Policy::Create(
    const PolicyConfig& config, const FieldLines& lines, absl::string_view name,
    absl::string_view field_prefix,
    std::shared_ptr<const DecisionCounter> counter) {
  Builder builder(lines, field_prefix, name, std::move(counter));
  builder.AddActions(config);
  builder.AddRules(config.allow(), /*allow=*/true);
  builder.AddRules(config.deny(), /*allow=*/false);
  return builder.Finish();
}

const Policy::Rule* Policy::MatchClientIdentity(
    const tls::PeerIdentity& identity) const {
  // Specificity: an exact entry beats every prefix, a longer prefix a
  // shorter one; on a tie between names of one certificate, deny wins.
  const Rule* best = nullptr;
  size_t best_specificity = 0;
  const auto consider = [&](const Rule& rule, size_t specificity) {
    if (best == nullptr || specificity > best_specificity ||
        (specificity == best_specificity && best->allow && !rule.allow)) {
      best = &rule;
      best_specificity = specificity;
    }
  };
  const auto match = [&](const std::string& name) {
    if (name.empty()) return;
    if (const auto it = client_identities_.find(name);
        it != client_identities_.end()) {
      consider(it->second, std::numeric_limits<size_t>::max());
      return;
    }
    // Longest first: the first prefix that matches is this name's best.
    for (const auto& [prefix, rule] : client_identity_prefixes_) {
      if (absl::StartsWith(name, prefix)) {
        consider(rule, prefix.size());
        return;
      }
    }
  };
  for (const std::string& uri : identity.uris) match(uri);
  for (const std::string& dns : identity.dns_names) match(dns);
  match(identity.common_name);
  return best;
}

Decision Policy::Evaluate(const PolicyInput& input) const {
  if (allow_all_) return NoPolicyDecision();
  if (input.client_identity != nullptr &&
      (!client_identities_.empty() || !client_identity_prefixes_.empty())) {
    if (const Rule* rule = MatchClientIdentity(*input.client_identity)) {
      return Decide(*rule);
    }
  }
  if (!networks_by_length_.empty()) {
    const AddressKey key = HalvesOf(input.ip);
    for (const NetworksOfLength& level : networks_by_length_) {
      const auto it = level.networks.find(MaskHalves(key, level.prefix_length));
      if (it != level.networks.end()) return Decide(it->second);
    }
  }
  if (private_rule_.has_value() && input.ip.IsPrivateOrReserved()) {
    return Decide(*private_rule_);
  }
  if (input.anonymizers != 0 && !anonymizers_.empty()) {
    // Specific kinds: denials first, then allowances, each in kind order.
    for (const bool allow : {false, true}) {
      for (const EnumName<AnonymizerKind>& entry : kAnonymizerKinds) {
        const AnonymizerKind kind = entry.value;
        if (kind == kAnonymous || (input.anonymizers & kind) == 0) continue;
        const auto it = anonymizers_.find(kind);
        if (it != anonymizers_.end() && it->second.allow == allow) {
          return Decide(it->second);
        }
      }
    }
    const auto any = anonymizers_.find(kAnonymous);
    if (any != anonymizers_.end()) return Decide(any->second);
  }
  if (input.asn != 0 && !asns_.empty()) {
    const auto it = asns_.find(input.asn);
    if (it != asns_.end()) return Decide(it->second);
  }
  if (!input.connection_type.empty() && !connection_types_.empty()) {
    const auto it =
        connection_types_.find(absl::AsciiStrToLower(input.connection_type));
    if (it != connection_types_.end()) return Decide(it->second);
  }
  if (!subdivisions_.empty()) {
    for (auto code = input.subdivision_codes.rbegin();
         code != input.subdivision_codes.rend(); ++code) {
      std::string full_code;
      absl::string_view lookup = *code;
      if (lookup.find('-') == absl::string_view::npos) {
        if (input.country_iso_code.empty()) continue;
        full_code = absl::StrCat(input.country_iso_code, "-", lookup);
        lookup = full_code;
      }
      const auto it = subdivisions_.find(lookup);
      if (it != subdivisions_.end()) return Decide(it->second);
    }
  }
  if (!input.country_iso_code.empty() && !countries_.empty()) {
    const auto it = countries_.find(input.country_iso_code);
    if (it != countries_.end()) return Decide(it->second);
  }
  if (unknown_rule_.has_value() && !input.found) return Decide(*unknown_rule_);
  return Decide(default_rule_);
}

size_t Policy::rule_count() const {
  size_t count = asns_.size() + subdivisions_.size() + countries_.size() +
                 anonymizers_.size() + connection_types_.size() +
                 client_identities_.size() + client_identity_prefixes_.size();
  for (const NetworksOfLength& level : networks_by_length_) {
    count += level.networks.size();
  }
  return count;
}

}  // namespace geo::policy
