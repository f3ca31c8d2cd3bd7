// A private mirror: a plain HTTP(S) URL per edition (for example an S3 bucket
// or an internal web server) that serves either MaxMind's tar.gz or a bare
// .mmdb. Uses conditional GET (If-None-Match / If-Modified-Since) so an
// unchanged file is not downloaded again, and optionally checks a SHA-256 of
// the payload, given inline or as a URL of a checksum file (`sha256sum`
// output for one or several files, such as a shared SHA256SUMS).
#ifndef UPDATER_MIRROR_SOURCE_H_
#define UPDATER_MIRROR_SOURCE_H_

#include <string>

#include "absl/status/statusor.h"
#include "updater/source.h"

namespace geo::updater {

struct MirrorOptions {
  // `{edition}` is replaced by the edition ID. A URL ending in .tar.gz or
  // .tgz is an archive; anything else is a bare .mmdb.
  std::string url_template;
  // Expected SHA-256 (hex) of the payload; only sensible with one edition.
  std::string sha256;
  // URL (with `{edition}`) of a checksum file: `sha256sum` output (one
  // "HASH  NAME" or "HASH *NAME" line per file, or BSD-style
  // "SHA256 (NAME) = HASH"), of which the line naming the downloaded file is
  // used, or a single bare hash.
  std::string sha256_url_template;
};

// The SHA-256 (lower-case hex) that `checksums` gives `file_name`, the last
// path segment of the download URL; a name in the file matches when it or its
// last path component equals `file_name`. A file holding only a bare hash
// gives that hash. NOT_FOUND when no line names the file.
absl::StatusOr<std::string> FindSha256ForFile(absl::string_view checksums,
                                              absl::string_view file_name);

// Replaces every `{edition}` in `text`.
std::string ExpandEdition(absl::string_view text, absl::string_view edition);

// Thread-compatible.
class MirrorSource final : public DatabaseSource {
 public:
  MirrorSource(SourceContext context, MirrorOptions options);

  absl::StatusOr<FetchResult> Fetch(const FetchRequest& request,
                                    TempFile* payload) override;

 private:
  absl::StatusOr<std::string> FetchSha256(const std::string& edition,
                                          absl::string_view file_name);

  SourceContext context_;
  MirrorOptions options_;
};

}  // namespace geo::updater

#endif  // UPDATER_MIRROR_SOURCE_H_
