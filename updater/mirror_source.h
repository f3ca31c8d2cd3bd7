// A private mirror: a plain HTTP(S) URL per edition (for example an S3 bucket
// or an internal web server) that serves either MaxMind's tar.gz or a bare
// .mmdb. Uses conditional GET (If-None-Match / If-Modified-Since) so an
// unchanged file is not downloaded again, and optionally checks a SHA-256 of
// the payload, given inline or as a URL of a sha256sum-style file.
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
  // URL (with `{edition}`) of a file whose first word is the SHA-256.
  std::string sha256_url_template;
};

// Replaces every `{edition}` in `text`.
std::string ExpandEdition(absl::string_view text, absl::string_view edition);

// Thread-compatible.
class MirrorSource final : public DatabaseSource {
 public:
  MirrorSource(SourceContext context, MirrorOptions options);

  absl::StatusOr<FetchResult> Fetch(const FetchRequest& request,
                                    TempFile* payload) override;

 private:
  absl::StatusOr<std::string> FetchSha256(const std::string& edition);

  SourceContext context_;
  MirrorOptions options_;
};

}  // namespace geo::updater

#endif  // UPDATER_MIRROR_SOURCE_H_
