// The certificate set a TLS listener serves with, reloaded when its files
// change: the new chain, key and client CA bundle are read and checked with
// no lock held, and swapped in only when all of them are good; otherwise the
// set in force stays, with a log line and a failure count. Connections pick
// up the current set when they are accepted, so existing ones finish on the
// set they started with.
#ifndef GEO_TLS_CERTIFICATE_RELOADER_H_
#define GEO_TLS_CERTIFICATE_RELOADER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "geo/common/clock.h"
#include "geo/common/polling_watcher.h"
#include "geo/tls/certificate.h"
#include "geo/tls/tls_metrics.h"
#include "geo/tls/tls_options.h"

namespace geo::tls {

// One verified certificate set and the OpenSSL context built from it.
// Immutable.
struct TlsSnapshot {
  std::shared_ptr<const KeyPair> pair;
  // Null when client certificates are off.
  std::shared_ptr<const CertificateBundle> client_ca;
  std::shared_ptr<SSL_CTX> context;
};

// Thread-safe.
class CertificateReloader {
 public:
  // Called with each newly verified set before it is swapped in (on the
  // reloading thread, reloads serialised); an error refuses the set. gRPC's
  // certificate stage is one.
  using BeforeSwap = std::function<absl::Status(const TlsSnapshot&)>;

  struct Options {
    TlsOptions tls;
    // Not owned; Clock::Real() when null.
    Clock* clock = nullptr;
    // Not owned; may be null.
    TlsMetrics* metrics = nullptr;
    BeforeSwap before_swap;
  };

  // Loads the set once: a bad set at start is an error (the listener would
  // have nothing to serve with). `options.tls` must be enabled and valid
  // (TlsOptions::Validate): each binary validates its settings once, TLS on
  // or off, before it creates a reloader.
  static absl::StatusOr<std::unique_ptr<CertificateReloader>> Create(
      Options options);
  // Stops the watchers.
  ~CertificateReloader();

  CertificateReloader(const CertificateReloader&) = delete;
  CertificateReloader& operator=(const CertificateReloader&) = delete;

  // Reads and checks the files; swaps when they differ from the set in
  // force and are good. OK when unchanged (the certificate, key and CA
  // watchers all fire for one Kubernetes ..data swap).
  absl::Status Reload() ABSL_LOCKS_EXCLUDED(reload_mu_, current_mu_);

  // The set new connections use. Never null after Create.
  std::shared_ptr<const TlsSnapshot> Current() const
      ABSL_LOCKS_EXCLUDED(current_mu_);

  // Starts polling watchers on the certificate, key and CA files (a
  // PollingWatcher each), which call Reload on a change.
  void StartWatching(const PollingWatcherOptions& watch)
      ABSL_LOCKS_EXCLUDED(reload_mu_);
  // Stops and joins the watchers. Idempotent.
  void StopWatching();

  const TlsOptions& tls_options() const { return options_.tls; }

 private:
  explicit CertificateReloader(Options options);
  // The files' contents, read once per reload.
  struct Files {
    std::string chain;
    std::string key;
    std::string client_ca;
    ~Files();
  };
  absl::StatusOr<Files> ReadFiles() const;
  absl::StatusOr<std::shared_ptr<const TlsSnapshot>> Build(
      Files files, absl::Time now) const;

  const Options options_;
  Clock* const clock_;

  // Serialises reloads (three watchers may fire together).
  absl::Mutex reload_mu_ ABSL_ACQUIRED_BEFORE(current_mu_);
  // The last refused contents (a hash) and why, so the other watchers
  // firing for the same swap do not log and count it again.
  size_t refused_hash_ ABSL_GUARDED_BY(reload_mu_) = 0;
  absl::Status refused_status_ ABSL_GUARDED_BY(reload_mu_);
  mutable absl::Mutex current_mu_;
  std::shared_ptr<const TlsSnapshot> current_ ABSL_GUARDED_BY(current_mu_);

  std::vector<std::unique_ptr<PollingWatcher>> watchers_;
};

}  // namespace geo::tls

#endif  // GEO_TLS_CERTIFICATE_RELOADER_H_
