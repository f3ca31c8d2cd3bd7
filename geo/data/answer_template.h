// A rendered answer with holes where the per-lookup strings go, so a cached
// record is rendered (by the gateway's JSON printer) once instead of per
// lookup.
#ifndef GEO_DATA_ANSWER_TEMPLATE_H_
#define GEO_DATA_ANSWER_TEMPLATE_H_

#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "api/geo/v1/geo.pb.h"
#include "geo/common/text_template.h"

namespace geo {

// Turns a complete response into its wire text (the HTTP gateway's JSON).
using AnswerRenderer =
    std::function<std::string(const geo::v1::LookupResponse&)>;

// True when `response` names an autonomous system (a number or an
// organisation): the lookup then gives it the matched network.
bool HasAutonomousSystem(const geo::v1::LookupResponse& response);

// Immutable, so thread-safe. Filling the holes with a lookup's address and
// network gives exactly what `render` would print for the whole response:
// the record is rendered with unique placeholder strings in `ip`, `network`
// and `autonomous_system.network`, and the text is cut at them.
class AnswerTemplate {
 public:
  // `record` is the record's fields decoded into an empty message (found,
  // ip and network unset). Nullopt when the placeholders cannot be told
  // apart from the record's own text (no real record does that); callers
  // then render each answer in full.
  static std::optional<AnswerTemplate> Build(
      const geo::v1::LookupResponse& record, const AnswerRenderer& render);

  // Appends the answer for `ip` in `network`. Both are an address and a CIDR
  // in text form, which JSON never escapes.
  void AppendTo(absl::string_view ip, absl::string_view network,
                std::string* out) const;

  // Bytes held, for sizing the record cache.
  size_t size() const;

 private:
  explicit AnswerTemplate(TextTemplate text) : text_(std::move(text)) {}

  TextTemplate text_;
};

}  // namespace geo

#endif  // GEO_DATA_ANSWER_TEMPLATE_H_
