#include "geo/common/text_template.h"

#include "absl/strings/str_cat.h"

namespace geo {
namespace {

size_t CountOccurrences(absl::string_view text, absl::string_view needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != absl::string_view::npos;
       at = text.find(needle, at + needle.size())) {
    ++count;
  }
  return count;
}

}  // namespace

std::optional<TextTemplate> TextTemplate::Cut(
    absl::string_view rendered, absl::Span<const Placeholder> placeholders) {
  for (const Placeholder& placeholder : placeholders) {
    // The bare string too: a placeholder that also occurred inside some
    // other string would make the cut ambiguous.
    if (CountOccurrences(rendered, placeholder.text) != placeholder.count ||
        CountOccurrences(rendered, absl::StrCat("\"", placeholder.text,
                                                "\"")) != placeholder.count) {
      return std::nullopt;
    }
  }
  TextTemplate cut;
  absl::string_view rest = rendered;
  while (true) {
    // The earliest placeholder left.
    size_t at = absl::string_view::npos;
    size_t hole = 0;
    for (size_t i = 0; i < placeholders.size(); ++i) {
      const size_t found = rest.find(placeholders[i].text);
      if (found < at) {
        at = found;
        hole = i;
      }
    }
    if (at == absl::string_view::npos) break;
    cut.literals_.emplace_back(rest.substr(0, at));
    cut.holes_.push_back(hole);
    rest.remove_prefix(at + placeholders[hole].text.size());
  }
  cut.literals_.emplace_back(rest);
  return cut;
}

void TextTemplate::AppendTo(absl::Span<const absl::string_view> values,
                            std::string* out) const {
  size_t bytes = size();
  for (size_t hole : holes_) bytes += values[hole].size();
  out->reserve(out->size() + bytes);
  for (size_t i = 0; i < holes_.size(); ++i) {
    out->append(literals_[i]);
    const absl::string_view value = values[holes_[i]];
    out->append(value.data(), value.size());
  }
  out->append(literals_.back());
}

size_t TextTemplate::size() const {
  size_t bytes = 0;
  for (const std::string& literal : literals_) bytes += literal.size();
  return bytes;
}

}  // namespace geo
