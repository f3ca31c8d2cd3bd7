// The ingress configurations of docs/edge.md, as the edge tests run them: a
// fenced block right after a `<!-- edge-test config=NAME -->` marker, with its
// capitalised placeholders (GEO_ADDRESS, UPSTREAM_ADDRESS, ...) replaced. A
// doc edit that breaks a configuration therefore fails the tests that run it.
#ifndef TESTS_EDGE_DOC_CONFIG_H_
#define TESTS_EDGE_DOC_CONFIG_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace geo::testing {

// The block marked `config=name` in `markdown`, each placeholder (a whole
// word) replaced by its value. Errors: no such marker, no fenced block right
// after it, a placeholder the block does not use, or a word left in the
// result that looks like a placeholder (upper case with an underscore).
absl::StatusOr<std::string> DocConfig(
    absl::string_view markdown, absl::string_view name,
    const std::map<std::string, std::string>& placeholders);

}  // namespace geo::testing

#endif  // TESTS_EDGE_DOC_CONFIG_H_
