#include "updater/digest.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "geo/common/file_descriptor.h"

namespace geo::updater {

void Hasher::ContextDeleter::operator()(evp_md_ctx_st* context) const {
  EVP_MD_CTX_free(context);
}

Hasher::Hasher(DigestAlgorithm algorithm) : context_(EVP_MD_CTX_new()) {
  const EVP_MD* md =
      algorithm == DigestAlgorithm::kMd5 ? EVP_md5() : EVP_sha256();
  EVP_DigestInit_ex(context_.get(), md, nullptr);
}

Hasher::~Hasher() = default;

void Hasher::Update(absl::string_view data) {
  EVP_DigestUpdate(context_.get(), data.data(), data.size());
}

std::string Hasher::FinishHex() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(context_.get(), digest, &length);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), length));
}

absl::StatusOr<std::string> FileDigestHex(const std::string& path,
                                          DigestAlgorithm algorithm) {
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return absl::ErrnoToStatus(errno, absl::StrCat("open ", path));
  }
  Hasher hasher(algorithm);
  char buffer[1 << 16];
  while (true) {
    ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::ErrnoToStatus(errno, absl::StrCat("read ", path));
    if (n == 0) break;
    hasher.Update(absl::string_view(buffer, static_cast<size_t>(n)));
  }
  return hasher.FinishHex();
}

bool DigestsEqual(absl::string_view a, absl::string_view b) {
  return !a.empty() && absl::EqualsIgnoreCase(a, b);
}

}  // namespace geo::updater
