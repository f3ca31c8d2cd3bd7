// Writes a database back into the tar.gz layout MaxMind's download endpoint
// returns (`<edition>_<YYYYMMDD>/<edition>.mmdb`), so that a MaxMind client
// pointed at the updater's serve mode unpacks it exactly as it unpacks
// MaxMind's own archives.
#ifndef UPDATER_ARCHIVE_WRITER_H_
#define UPDATER_ARCHIVE_WRITER_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace geo::updater {

// A gzip-compressed ustar archive holding the `size` bytes of the open file
// `fd` (read with pread from offset 0, so the caller's file offset is
// untouched) as `<edition>_<date>/<edition>.mmdb`, with `modified_at` as the
// member's mtime. `date` is YYYYMMDD. INTERNAL when the file is shorter than
// `size` or libarchive fails.
absl::StatusOr<std::string> MakeMaxMindTarGz(absl::string_view edition,
                                             absl::string_view date, int fd,
                                             int64_t size,
                                             absl::Time modified_at);

}  // namespace geo::updater

#endif  // UPDATER_ARCHIVE_WRITER_H_
