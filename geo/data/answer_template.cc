#include "geo/data/answer_template.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace geo {
namespace {

// Placeholders: plain ASCII, so every renderer prints them verbatim between
// quotes, and nothing a MaxMind record holds looks like them. Build checks
// that each occurs exactly where it was put.
constexpr absl::string_view kIpPlaceholder = "geo.answer-template.ip.7f3c91";
constexpr absl::string_view kNetworkPlaceholder =
    "geo.answer-template.network.7f3c91";

size_t CountOccurrences(absl::string_view text, absl::string_view needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != absl::string_view::npos;
       at = text.find(needle, at + needle.size())) {
    ++count;
  }
  return count;
}

}  // namespace

bool HasAutonomousSystem(const geo::v1::LookupResponse& response) {
  return response.has_autonomous_system() &&
         (response.autonomous_system().number() != 0 ||
          !response.autonomous_system().organization().empty());
}

std::optional<AnswerTemplate> AnswerTemplate::Build(
    const geo::v1::LookupResponse& record, const AnswerRenderer& render) {
  geo::v1::LookupResponse filled = record;
  filled.set_found(true);
  filled.set_ip(std::string(kIpPlaceholder));
  filled.set_network(std::string(kNetworkPlaceholder));
  size_t expected_networks = 1;
  if (HasAutonomousSystem(filled)) {
    // A lookup gives the autonomous system the matched network.
    filled.mutable_autonomous_system()->set_network(
        std::string(kNetworkPlaceholder));
    ++expected_networks;
  }
  const std::string text = render(filled);
  const std::string quoted_ip = absl::StrCat("\"", kIpPlaceholder, "\"");
  const std::string quoted_network =
      absl::StrCat("\"", kNetworkPlaceholder, "\"");
  // The bare strings too: a placeholder that also occurred inside some other
  // string would make the cut ambiguous.
  if (CountOccurrences(text, kIpPlaceholder) != 1 ||
      CountOccurrences(text, quoted_ip) != 1 ||
      CountOccurrences(text, kNetworkPlaceholder) != expected_networks ||
      CountOccurrences(text, quoted_network) != expected_networks) {
    return std::nullopt;
  }

  AnswerTemplate answer;
  absl::string_view rest = text;
  while (true) {
    // Cut inside the quotes, so the quotes stay in the literals.
    const size_t ip_at = rest.find(kIpPlaceholder);
    const size_t network_at = rest.find(kNetworkPlaceholder);
    const size_t at = std::min(ip_at, network_at);
    if (at == absl::string_view::npos) break;
    const bool is_ip = at == ip_at;
    answer.literals_.emplace_back(rest.substr(0, at));
    answer.holes_.push_back(is_ip ? Hole::kIp : Hole::kNetwork);
    rest.remove_prefix(
        at + (is_ip ? kIpPlaceholder.size() : kNetworkPlaceholder.size()));
  }
  answer.literals_.emplace_back(rest);
  return answer;
}

void AnswerTemplate::AppendTo(absl::string_view ip, absl::string_view network,
                              std::string* out) const {
  out->reserve(out->size() + size() + ip.size() + 2 * network.size());
  for (size_t i = 0; i < holes_.size(); ++i) {
    out->append(literals_[i]);
    const absl::string_view value = holes_[i] == Hole::kIp ? ip : network;
    out->append(value.data(), value.size());
  }
  out->append(literals_.back());
}

size_t AnswerTemplate::size() const {
  size_t bytes = 0;
  for (const std::string& literal : literals_) bytes += literal.size();
  return bytes;
}

}  // namespace geo
