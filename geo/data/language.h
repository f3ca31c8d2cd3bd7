// The `language` of a lookup request: validated at the API edge, and mapped
// to a language the database actually has before it keys anything.
#ifndef GEO_DATA_LANGUAGE_H_
#define GEO_DATA_LANGUAGE_H_

#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace geo {

// Longest accepted language tag, in bytes: room for a language, script,
// region and a variant ("zh-Hant-TW", "de-CH-1996"), far below anything that
// could make a request expensive to carry around.
inline constexpr size_t kMaxLanguageBytes = 35;

// The one error message for a refused language. It never echoes the value,
// so a huge tag is not copied into every error (a batch has one per address).
inline constexpr absl::string_view kInvalidLanguageMessage =
    "language must be a BCP 47 tag such as de or pt-BR";

// OK for the empty string (the default: English names) and for a tag of at
// most kMaxLanguageBytes bytes of the form [A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*,
// the shape of BCP 47 tags (MaxMind's are "en", "de", "pt-BR", "zh-CN"...).
// INVALID_ARGUMENT with kInvalidLanguageMessage otherwise. Tags are not
// case-folded: a database's names are found by exact key, as before.
absl::Status ValidateLanguage(absl::string_view language);

}  // namespace geo

#endif  // GEO_DATA_LANGUAGE_H_
