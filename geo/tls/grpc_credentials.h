// gRPC server TLS with rotation. gRPC 1.51 rotates certificates only through
// its own FileWatcherCertificateProvider, which reloads whatever the files
// hold (an expired certificate, a half-written key) and reports nothing. So
// gRPC watches a private stage instead: a directory that only ever receives
// sets that CertificateReloader has verified, swapped in whole by renaming
// a symlink (the atomic update that provider documents).
#ifndef GEO_TLS_GRPC_CREDENTIALS_H_
#define GEO_TLS_GRPC_CREDENTIALS_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "geo/common/clock.h"
#include "geo/tls/certificate_reloader.h"
#include "geo/tls/tls_options.h"
#include "grpcpp/security/server_credentials.h"

namespace geo::tls {

// Thread-safe. The stage directory (mode 0700, its files 0600) is removed
// when the object goes.
class GrpcCertificateStage {
 public:
  // Makes a fresh directory under `parent` (TMPDIR, else /tmp, when empty).
  // `clock` (not owned; Clock::Real() when null) dates the generations.
  static absl::StatusOr<std::unique_ptr<GrpcCertificateStage>> Create(
      const std::string& parent = "", Clock* clock = nullptr);
  ~GrpcCertificateStage();

  GrpcCertificateStage(const GrpcCertificateStage&) = delete;
  GrpcCertificateStage& operator=(const GrpcCertificateStage&) = delete;

  // Writes the set into a new generation directory, fsyncs it, and points
  // the `current` symlink at it; the previous generation is removed.
  //
  // Every file of a generation has the same modification time, a whole
  // second later than the previous generation's (now, when that is later).
  // gRPC's provider reads the key and then the chain, each through
  // `current`, and reads again when either file's modification time (in
  // seconds) changed meanwhile: with a second of its own per generation, a
  // read that straddles a swap is always read again, never a key paired
  // with another generation's chain (which gRPC would load, then refuse
  // every new connection until its next refresh).
  absl::Status Write(const TlsSnapshot& snapshot) ABSL_LOCKS_EXCLUDED(mu_);

  // Server credentials reading the stage every `refresh_seconds`: the
  // identity pair, and the client CA bundle when `options` ask for client
  // certificates. Write a set first. gRPC negotiates TLS 1.2 or 1.3: its
  // 1.51 API has no minimum-version setting (TlsOptions::min_version
  // applies to the HTTP listeners).
  std::shared_ptr<grpc::ServerCredentials> ServerCredentials(
      const TlsOptions& options, unsigned refresh_seconds) const;

  const std::string& directory() const { return directory_; }

 private:
  GrpcCertificateStage(std::string directory, Clock* clock)
      : directory_(std::move(directory)), clock_(clock) {}

  const std::string directory_;
  Clock* const clock_;
  absl::Mutex mu_;
  int generation_ ABSL_GUARDED_BY(mu_) = 0;
  // The modification time (Unix seconds) of the latest generation's files.
  int64_t last_modified_seconds_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace geo::tls

#endif  // GEO_TLS_GRPC_CREDENTIALS_H_
