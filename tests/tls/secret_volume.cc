#include "tests/tls/secret_volume.h"

#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"

namespace geo::tls::testing {

SecretVolume::SecretVolume(std::string directory)
    : directory_(std::move(directory)) {
  std::filesystem::create_directories(directory_);
}

absl::Status SecretVolume::Publish(const CertificateFiles& pair,
                                   const std::string& ca) {
  const std::string version = absl::StrCat("..2026_version_", ++versions_);
  const std::string path = absl::StrCat(directory_, "/", version);
  std::error_code error;
  std::filesystem::create_directories(path, error);
  if (error) return absl::InternalError(error.message());
  const std::pair<std::string, std::string> files[] = {
      {pair.certificate, "tls.crt"}, {pair.key, "tls.key"}, {ca, "ca.crt"}};
  for (const auto& [source, name] : files) {
    std::filesystem::copy_file(source, absl::StrCat(path, "/", name), error);
    if (error) return absl::InternalError(error.message());
  }
  const std::string next = absl::StrCat(directory_, "/..data_tmp");
  unlink(next.c_str());
  if (symlink(version.c_str(), next.c_str()) != 0 ||
      rename(next.c_str(), absl::StrCat(directory_, "/..data").c_str()) != 0) {
    return absl::InternalError(std::strerror(errno));
  }
  for (const auto& [source, name] : files) {
    const std::string link = absl::StrCat(directory_, "/", name);
    if (access(link.c_str(), F_OK) != 0 &&
        symlink(absl::StrCat("..data/", name).c_str(), link.c_str()) != 0) {
      return absl::InternalError(std::strerror(errno));
    }
  }
  // The kubelet removes the previous version after the swap.
  if (versions_ > 1) {
    std::filesystem::remove_all(
        absl::StrCat(directory_, "/..2026_version_", versions_ - 1), error);
  }
  return absl::OkStatus();
}

}  // namespace geo::tls::testing
