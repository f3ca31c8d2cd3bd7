#include "geo/data/language.h"

#include "absl/strings/ascii.h"

namespace geo {

absl::Status ValidateLanguage(absl::string_view language) {
  if (language.empty()) return absl::OkStatus();
  if (language.size() > kMaxLanguageBytes) {
    return absl::InvalidArgumentError(kInvalidLanguageMessage);
  }
  // The primary subtag: two or three letters.
  size_t i = 0;
  while (i < language.size() && absl::ascii_isalpha(language[i])) ++i;
  if (i < 2 || i > 3)
    return absl::InvalidArgumentError(kInvalidLanguageMessage);
  // Then any number of "-" followed by one to eight letters or digits.
  while (i < language.size()) {
    if (language[i] != '-') {
      return absl::InvalidArgumentError(kInvalidLanguageMessage);
    }
    const size_t start = ++i;
    while (i < language.size() && absl::ascii_isalnum(language[i])) ++i;
    if (i == start || i - start > 8) {
      return absl::InvalidArgumentError(kInvalidLanguageMessage);
    }
  }
  return absl::OkStatus();
}

}  // namespace geo
