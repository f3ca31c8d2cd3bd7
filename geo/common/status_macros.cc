#include "geo/common/status_macros.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace geo {

absl::Status Annotate(const absl::Status& status, absl::string_view prefix) {
  if (status.ok()) return status;
  absl::Status annotated(status.code(),
                         status.message().empty()
                             ? std::string(prefix)
                             : absl::StrCat(prefix, ": ", status.message()));
  status.ForEachPayload(
      [&annotated](absl::string_view type_url, const absl::Cord& payload) {
        annotated.SetPayload(type_url, payload);
      });
  return annotated;
}

}  // namespace geo
