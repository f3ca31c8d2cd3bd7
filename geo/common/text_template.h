// A rendered text with holes: render a message once with a unique
// placeholder string in each field that varies, cut the text at the
// placeholders, and later append the literals with each answer's own values.
// Used for answers printed by a JSON printer that is too slow to run per
// request (lookup answers, forward-auth bodies).
#ifndef GEO_COMMON_TEXT_TEMPLATE_H_
#define GEO_COMMON_TEXT_TEMPLATE_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace geo {

// Immutable once cut, so thread-safe.
class TextTemplate {
 public:
  struct Placeholder {
    absl::string_view text;
    // How often it must stand in the rendered text, each time as a whole
    // JSON string (between quotes).
    size_t count = 1;
  };

  // Cuts `rendered` at every placeholder (inside its quotes, so the quotes
  // stay in the literals). Nullopt when a placeholder does not stand exactly
  // `count` times quoted and nowhere else: the cut would be ambiguous, and
  // the caller then renders each answer in full. Placeholders must be plain
  // ASCII, which a JSON printer copies verbatim.
  static std::optional<TextTemplate> Cut(
      absl::string_view rendered, absl::Span<const Placeholder> placeholders);

  // Appends the text with each hole filled by `values[i]`, `i` being the
  // index of its placeholder in Cut's list. The values are not escaped.
  void AppendTo(absl::Span<const absl::string_view> values,
                std::string* out) const;

  // Bytes of the literals.
  size_t size() const;

 private:
  TextTemplate() = default;

  // literals_[0], values[holes_[0]], literals_[1], ... literals_.back().
  std::vector<std::string> literals_;
  std::vector<size_t> holes_;
};

}  // namespace geo

#endif  // GEO_COMMON_TEXT_TEMPLATE_H_
