#include "geo/data/answer_template.h"

#include <utility>

namespace geo {
namespace {

// Placeholders: plain ASCII, so every renderer prints them verbatim between
// quotes, and nothing a MaxMind record holds looks like them. TextTemplate
// checks that each occurs exactly where it was put.
constexpr absl::string_view kIpPlaceholder = "geo.answer-template.ip.7f3c91";
constexpr absl::string_view kNetworkPlaceholder =
    "geo.answer-template.network.7f3c91";

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
  std::optional<TextTemplate> text = TextTemplate::Cut(
      render(filled),
      {{kIpPlaceholder, 1}, {kNetworkPlaceholder, expected_networks}});
  if (!text.has_value()) return std::nullopt;
  return AnswerTemplate(*std::move(text));
}

void AnswerTemplate::AppendTo(absl::string_view ip, absl::string_view network,
                              std::string* out) const {
  // In the order of the placeholders given to Cut.
  text_.AppendTo({ip, network}, out);
}

size_t AnswerTemplate::size() const { return text_.size(); }

}  // namespace geo
