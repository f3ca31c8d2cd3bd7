// A streaming pre-scan of a JSON request body: how many elements an array
// member of the top-level object has, found without building anything, so a
// request far over a count limit is refused before a full parse.
#ifndef GEO_HTTP_JSON_ARRAY_LENGTH_H_
#define GEO_HTTP_JSON_ARRAY_LENGTH_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace geo::http {

// INVALID_ARGUMENT ("a batch holds at most <max_items> addresses; got more")
// when the member `field` of the top-level JSON object is an array with more
// than `max_items` elements (counted over every member of that name, since a
// duplicate would add to the same repeated field). OK otherwise, including
// for malformed JSON, which is left to the real parser to report.
//
// Scans `json` once and stops at the first element over the limit; never
// allocates or recurses, whatever the nesting. Member names are compared
// after JSON unescaping ("\u0069ps" is "ips"), as a JSON parser would.
// `field` must be plain ASCII without escapes.
absl::Status CheckJsonArrayLength(absl::string_view json,
                                  absl::string_view field, int max_items);

}  // namespace geo::http

#endif  // GEO_HTTP_JSON_ARRAY_LENGTH_H_
