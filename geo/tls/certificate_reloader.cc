#include "geo/tls/certificate_reloader.h"

#include <utility>

#include "geo/common/logging.h"
#include "geo/tls/server_context.h"

namespace geo::tls {
namespace {

bool SameFiles(const TlsSnapshot& a, const TlsSnapshot& b) {
  if (a.pair->chain_pem() != b.pair->chain_pem() ||
      a.pair->key_pem() != b.pair->key_pem()) {
    return false;
  }
  if ((a.client_ca == nullptr) != (b.client_ca == nullptr)) return false;
  return a.client_ca == nullptr || a.client_ca->pem() == b.client_ca->pem();
}

std::string TimeText(absl::Time time) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", time, absl::UTCTimeZone());
}

}  // namespace

CertificateReloader::CertificateReloader(Options options)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : Clock::Real()) {}

CertificateReloader::~CertificateReloader() { StopWatching(); }

absl::StatusOr<std::unique_ptr<CertificateReloader>>
CertificateReloader::Create(Options options) {
  absl::Status valid = options.tls.Validate();
  if (!valid.ok()) return valid;
  if (!options.tls.enabled()) {
    return absl::InvalidArgumentError("TLS is not configured");
  }
  std::unique_ptr<CertificateReloader> reloader(
      new CertificateReloader(std::move(options)));
  absl::Status loaded = reloader->Reload();
  if (!loaded.ok()) return loaded;
  return reloader;
}

absl::StatusOr<std::shared_ptr<const TlsSnapshot>> CertificateReloader::Build(
    absl::Time now) const {
  auto snapshot = std::make_shared<TlsSnapshot>();
  absl::StatusOr<std::shared_ptr<const KeyPair>> pair = KeyPair::FromFiles(
      options_.tls.certificate_path, options_.tls.private_key_path, now);
  if (!pair.ok()) return pair.status();
  snapshot->pair = *std::move(pair);
  if (options_.tls.client_certificates != ClientCertificates::kOff) {
    absl::StatusOr<std::shared_ptr<const CertificateBundle>> client_ca =
        CertificateBundle::FromFile(options_.tls.client_ca_path);
    if (!client_ca.ok()) return client_ca.status();
    snapshot->client_ca = *std::move(client_ca);
  }
  absl::StatusOr<std::shared_ptr<SSL_CTX>> context = BuildServerSslContext(
      *snapshot->pair, snapshot->client_ca.get(),
      options_.tls.client_certificates, options_.tls.min_version);
  if (!context.ok()) return context.status();
  snapshot->context = *std::move(context);
  return std::shared_ptr<const TlsSnapshot>(std::move(snapshot));
}

absl::Status CertificateReloader::Reload() {
  absl::MutexLock reload_lock(&reload_mu_);
  absl::StatusOr<std::shared_ptr<const TlsSnapshot>> built =
      Build(clock_->Now());
  std::shared_ptr<const TlsSnapshot> in_force = Current();
  if (built.ok() && in_force != nullptr && SameFiles(**built, *in_force)) {
    return absl::OkStatus();
  }
  absl::Status status = built.status();
  if (status.ok() && options_.before_swap) {
    status = options_.before_swap(**built);
  }
  if (!status.ok()) {
    if (options_.metrics != nullptr) options_.metrics->RecordReload(false);
    if (in_force != nullptr) {
      Log(LogLevel::kError, "TLS certificate refused; keeping the one in force",
          {{"certificate", options_.tls.certificate_path},
           {"serial", in_force->pair->leaf_summary().serial},
           {"error", status}});
    }
    return status;
  }
  {
    absl::MutexLock lock(&current_mu_);
    current_ = *built;
  }
  const TlsSnapshot& loaded = **built;
  const CertificateSummary& leaf = loaded.pair->leaf_summary();
  const absl::Time client_ca_expiry =
      loaded.client_ca != nullptr ? loaded.client_ca->earliest_not_after()
                                  : absl::InfiniteFuture();
  if (options_.metrics != nullptr) {
    options_.metrics->RecordReload(true);
    options_.metrics->SetExpiry(leaf.not_after, client_ca_expiry);
  }
  Log(LogLevel::kInfo,
      in_force == nullptr ? "TLS certificate loaded"
                          : "TLS certificate reloaded",
      {{"certificate", options_.tls.certificate_path},
       {"subject", leaf.subject},
       {"serial", leaf.serial},
       {"not_after", TimeText(leaf.not_after)},
       {"client_certificates",
        ClientCertificatesName(options_.tls.client_certificates)},
       {"client_ca_certificates",
        loaded.client_ca != nullptr
            ? static_cast<int>(loaded.client_ca->certificates().size())
            : 0}});
  return absl::OkStatus();
}

std::shared_ptr<const TlsSnapshot> CertificateReloader::Current() const {
  absl::ReaderMutexLock lock(&current_mu_);
  return current_;
}

void CertificateReloader::StartWatching(const PollingWatcherOptions& watch) {
  std::vector<std::string> paths = {options_.tls.certificate_path,
                                    options_.tls.private_key_path};
  if (options_.tls.client_certificates != ClientCertificates::kOff) {
    paths.push_back(options_.tls.client_ca_path);
  }
  PollingWatcherOptions quiet = watch;
  quiet.reloaded_message = "";  // Reload logs what it loaded.
  for (const std::string& path : paths) {
    auto watcher = std::make_unique<PollingWatcher>(
        path, [this](const std::string&) { return Reload(); }, quiet);
    // The set is loaded already (Create): this records each file's identity
    // so only a change triggers a reload.
    watcher->LoadNow().IgnoreError();
    watcher->Start();
    watchers_.push_back(std::move(watcher));
  }
}

void CertificateReloader::StopWatching() {
  for (auto& watcher : watchers_) watcher->Stop();
}

}  // namespace geo::tls
