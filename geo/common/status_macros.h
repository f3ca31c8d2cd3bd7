// Status plumbing for the whole tree: early return on error, and a message
// prefix that keeps the code.
//
//   GEO_RETURN_IF_ERROR(installer.Commit(temp));
//   GEO_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path));
//   return Annotate(status, "GeoIP.conf");   // "GeoIP.conf: <message>"
//
// abseil 20220623 has neither macro; these follow the shape gRPC and
// TensorFlow use. errno becomes a Status through absl::ErrnoToStatus.
#ifndef GEO_COMMON_STATUS_MACROS_H_
#define GEO_COMMON_STATUS_MACROS_H_

#include <utility>

#include "absl/base/optimization.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace geo {

// `status` with its message prefixed by `prefix: `, the same code and the same
// payloads. An OK status stays OK (and has no message to prefix).
absl::Status Annotate(const absl::Status& status, absl::string_view prefix);

}  // namespace geo

// Evaluates `expr` (an absl::Status) once; if it is not OK, returns it from
// the enclosing function, which returns absl::Status or absl::StatusOr<T>.
#define GEO_RETURN_IF_ERROR(expr)                             \
  do {                                                        \
    absl::Status geo_status_macros_status = (expr);           \
    if (ABSL_PREDICT_FALSE(!geo_status_macros_status.ok())) { \
      return geo_status_macros_status;                        \
    }                                                         \
  } while (false)

// Evaluates `rexpr` (an absl::StatusOr<T>) once; if it is not OK, returns its
// status from the enclosing function, otherwise moves the value into `lhs`,
// which is either a declaration (`auto x`, `std::string x`) or an existing
// variable. Expands to several statements: use it where a statement may go,
// not as the body of an unbraced `if`. `lhs` must not contain an unbracketed
// comma (use an alias for `std::pair<A, B>`), and at most one use per line
// (the temporary is named after __LINE__).
#define GEO_ASSIGN_OR_RETURN(lhs, rexpr)                                  \
  GEO_STATUS_MACROS_ASSIGN_OR_RETURN_IMPL_(                               \
      GEO_STATUS_MACROS_CONCAT_(geo_status_macros_value_, __LINE__), lhs, \
      rexpr)

#define GEO_STATUS_MACROS_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                             \
  if (ABSL_PREDICT_FALSE(!statusor.ok())) {                            \
    return std::move(statusor).status();                               \
  }                                                                    \
  lhs = *std::move(statusor)

#define GEO_STATUS_MACROS_CONCAT_(a, b) GEO_STATUS_MACROS_CONCAT_INNER_(a, b)
#define GEO_STATUS_MACROS_CONCAT_INNER_(a, b) a##b

#endif  // GEO_COMMON_STATUS_MACROS_H_
