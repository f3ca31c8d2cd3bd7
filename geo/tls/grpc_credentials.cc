#include "geo/tls/grpc_credentials.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <filesystem>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "geo/common/file_descriptor.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_certificate_verifier.h"
#include "grpcpp/security/tls_credentials_options.h"

namespace geo::tls {
namespace {

constexpr char kCurrent[] = "current";
constexpr char kKeyFile[] = "key.pem";
constexpr char kChainFile[] = "chain.pem";
constexpr char kClientCaFile[] = "client_ca.pem";

// The status of the system call that just failed, naming what it did to
// `path` (absl::ErrnoToStatus appends strerror).
absl::Status ErrnoError(absl::string_view what, const std::string& path) {
  return absl::ErrnoToStatus(errno, absl::StrCat(what, " ", path));
}

// Writes `content` to a new file at `path` whose modification time is
// `modified_seconds` (Unix time), then fsyncs it.
absl::Status WriteFile(const std::string& path, const std::string& content,
                       int64_t modified_seconds) {
  FileDescriptor file(
      open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!file.valid()) return ErrnoError("cannot create", path);
  size_t written = 0;
  while (written < content.size()) {
    const ssize_t n =
        write(file.get(), content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("cannot write", path);
    written += static_cast<size_t>(n);
  }
  const timespec times[2] = {{0, UTIME_OMIT},
                             {static_cast<time_t>(modified_seconds), 0}};
  if (futimens(file.get(), times) != 0) {
    return ErrnoError("cannot set the modification time of", path);
  }
  if (fsync(file.get()) != 0) return ErrnoError("cannot fsync", path);
  if (file.Reset() != 0) return ErrnoError("cannot close", path);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<GrpcCertificateStage>>
GrpcCertificateStage::Create(const std::string& parent, Clock* clock) {
  std::string base = parent;
  if (base.empty()) {
    const char* tmpdir = getenv("TMPDIR");
    base = tmpdir != nullptr && tmpdir[0] != '\0' ? tmpdir : "/tmp";
  }
  std::string pattern = absl::StrCat(base, "/geo-grpc-tls-XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) {
    return ErrnoError("cannot create the gRPC certificate stage in", base);
  }
  return std::unique_ptr<GrpcCertificateStage>(new GrpcCertificateStage(
      std::move(pattern), clock != nullptr ? clock : Clock::Real()));
}

GrpcCertificateStage::~GrpcCertificateStage() {
  std::error_code ignored;
  std::filesystem::remove_all(directory_, ignored);
}

absl::Status GrpcCertificateStage::Write(const TlsSnapshot& snapshot) {
  absl::MutexLock lock(&mu_);
  const int generation = generation_ + 1;
  const std::string name = absl::StrCat("generation-", generation);
  const std::string path = absl::StrCat(directory_, "/", name);
  if (mkdir(path.c_str(), 0700) != 0) return ErrnoError("cannot create", path);
  const int64_t modified_seconds =
      std::max(absl::ToUnixSeconds(clock_->Now()), last_modified_seconds_ + 1);
  absl::Status status = WriteFile(absl::StrCat(path, "/", kKeyFile),
                                  snapshot.pair->key_pem(), modified_seconds);
  if (status.ok()) {
    status = WriteFile(absl::StrCat(path, "/", kChainFile),
                       snapshot.pair->chain_pem(), modified_seconds);
  }
  if (status.ok() && snapshot.client_ca != nullptr) {
    status = WriteFile(absl::StrCat(path, "/", kClientCaFile),
                       snapshot.client_ca->pem(), modified_seconds);
  }
  const std::string link = absl::StrCat(directory_, "/", kCurrent);
  const std::string next_link = absl::StrCat(link, ".next");
  if (status.ok()) {
    unlink(next_link.c_str());
    if (symlink(name.c_str(), next_link.c_str()) != 0) {
      status = ErrnoError("cannot create", next_link);
    } else if (rename(next_link.c_str(), link.c_str()) != 0) {
      status = ErrnoError("cannot rename", next_link);
    }
  }
  std::error_code ignored;
  if (!status.ok()) {
    std::filesystem::remove_all(path, ignored);
    return status;
  }
  if (generation_ > 0) {
    std::filesystem::remove_all(
        absl::StrCat(directory_, "/generation-", generation_), ignored);
  }
  generation_ = generation;
  last_modified_seconds_ = modified_seconds;
  return absl::OkStatus();
}

std::shared_ptr<grpc::ServerCredentials>
GrpcCertificateStage::ServerCredentials(const TlsOptions& options,
                                        unsigned refresh_seconds) const {
  const std::string current = absl::StrCat(directory_, "/", kCurrent, "/");
  const bool client_certificates =
      options.client_certificates != ClientCertificates::kOff;
  auto provider =
      std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
          current + kKeyFile, current + kChainFile,
          client_certificates ? current + kClientCaFile : "", refresh_seconds);
  grpc::experimental::TlsServerCredentialsOptions tls(provider);
  tls.watch_identity_key_cert_pairs();
  switch (options.client_certificates) {
    case ClientCertificates::kOff:
      tls.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
      break;
    case ClientCertificates::kRequest:
      tls.watch_root_certs();
      tls.set_cert_request_type(GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
      break;
    case ClientCertificates::kRequire:
      tls.watch_root_certs();
      tls.set_cert_request_type(
          GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
      break;
  }
  return grpc::experimental::TlsServerCredentials(tls);
}

}  // namespace geo::tls
