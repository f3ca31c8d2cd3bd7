// Message digests (MD5 for MaxMind's metadata, SHA-256 for mirrors) over
// OpenSSL's EVP interface, as lowercase hex.
#ifndef UPDATER_DIGEST_H_
#define UPDATER_DIGEST_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

struct evp_md_ctx_st;

namespace geo::updater {

enum class DigestAlgorithm { kMd5, kSha256 };

// Incremental digest. Not thread-safe.
class Hasher {
 public:
  explicit Hasher(DigestAlgorithm algorithm);
  ~Hasher();
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  void Update(absl::string_view data);
  // Lowercase hex of the digest; the hasher cannot be updated afterwards.
  std::string FinishHex();

 private:
  struct ContextDeleter {
    void operator()(evp_md_ctx_st* context) const;
  };
  std::unique_ptr<evp_md_ctx_st, ContextDeleter> context_;
};

// Digest of a whole file. NotFoundError when it does not exist.
absl::StatusOr<std::string> FileDigestHex(const std::string& path,
                                          DigestAlgorithm algorithm);

// Compares hex digests case-insensitively (MaxMind and sha256sum both print
// lowercase, hand-written values may not).
bool DigestsEqual(absl::string_view a, absl::string_view b);

}  // namespace geo::updater

#endif  // UPDATER_DIGEST_H_
