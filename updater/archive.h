// Extraction of the database from a MaxMind-style tar.gz archive with
// libarchive: MaxMind ships `GeoLite2-City_20240101/GeoLite2-City.mmdb` next to
// licence and README files.
#ifndef UPDATER_ARCHIVE_H_
#define UPDATER_ARCHIVE_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace geo::updater {

// Receives the extracted bytes chunk by chunk.
using ExtractSink = std::function<absl::Status(absl::string_view chunk)>;

// What an archive may hold besides its database (licence, README, tar
// headers) in decompressed bytes.
inline constexpr int64_t kArchiveOverheadBytes = int64_t{16} << 20;

// Reads the (gzip-compressed) tar archive at `archive_path` and streams the
// single regular `*.mmdb` entry into `sink`. Fails with DATA_LOSS when the
// archive is unreadable, has no or several `.mmdb` entries, or names any entry
// with an absolute path or a `..` component (such an archive is refused
// whole); OUT_OF_RANGE when the entry is larger than `max_bytes`, or when
// either pass over the archive (the first checks every name, the second
// extracts) would decompress more than `max_bytes` + kArchiveOverheadBytes
// in all: a gzip bomb is refused after that many bytes, not after it has
// been inflated. Returns the entry's path inside the archive.
absl::StatusOr<std::string> ExtractMmdb(const std::string& archive_path,
                                        int64_t max_bytes,
                                        const ExtractSink& sink);

// True when an archive member path could escape the extraction directory.
bool IsUnsafeEntryPath(absl::string_view path);

}  // namespace geo::updater

#endif  // UPDATER_ARCHIVE_H_
