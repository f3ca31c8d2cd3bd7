#include "geo/tls/certificate_reloader.h"

#include <openssl/crypto.h>

#include <utility>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "geo/common/logging.h"
#include "geo/tls/server_context.h"

namespace geo::tls {
namespace {

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
  if (!options.tls.enabled()) {
    return absl::InvalidArgumentError("TLS is not configured");
  }
  std::unique_ptr<CertificateReloader> reloader(
      new CertificateReloader(std::move(options)));
  absl::Status loaded = reloader->Reload();
  if (!loaded.ok()) return loaded;
  return reloader;
}

CertificateReloader::Files::~Files() {
  OPENSSL_cleanse(key.data(), key.size());
}

absl::StatusOr<CertificateReloader::Files> CertificateReloader::ReadFiles()
    const {
  Files files;
  absl::StatusOr<std::string> chain =
      ReadPemFile(options_.tls.certificate_path);
  if (!chain.ok()) return chain.status();
  files.chain = *std::move(chain);
  absl::StatusOr<std::string> key = ReadPemFile(options_.tls.private_key_path);
  if (!key.ok()) return key.status();
  files.key = *std::move(key);
  if (options_.tls.client_certificates != ClientCertificates::kOff) {
    absl::StatusOr<std::string> client_ca =
        ReadPemFile(options_.tls.client_ca_path);
    if (!client_ca.ok()) return client_ca.status();
    files.client_ca = *std::move(client_ca);
  }
  return files;
}

absl::StatusOr<std::shared_ptr<const TlsSnapshot>> CertificateReloader::Build(
    Files files, absl::Time now) const {
  auto snapshot = std::make_shared<TlsSnapshot>();
  absl::StatusOr<std::shared_ptr<const KeyPair>> pair =
      KeyPair::FromPem(std::move(files.chain), std::move(files.key), now);
  if (!pair.ok()) {
    return absl::Status(pair.status().code(),
                        absl::StrCat(options_.tls.certificate_path, " + ",
                                     options_.tls.private_key_path, ": ",
                                     pair.status().message()));
  }
  snapshot->pair = *std::move(pair);
  if (options_.tls.client_certificates != ClientCertificates::kOff) {
    absl::StatusOr<std::shared_ptr<const CertificateBundle>> client_ca =
        CertificateBundle::FromPem(std::move(files.client_ca));
    if (!client_ca.ok()) {
      return absl::Status(client_ca.status().code(),
                          absl::StrCat(options_.tls.client_ca_path, ": ",
                                       client_ca.status().message()));
    }
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
  std::shared_ptr<const TlsSnapshot> in_force = Current();
  absl::StatusOr<Files> files = ReadFiles();
  std::shared_ptr<const TlsSnapshot> built;
  absl::Status status = files.status();
  size_t hash = 0;
  if (files.ok()) {
    if (in_force != nullptr && files->chain == in_force->pair->chain_pem() &&
        files->key == in_force->pair->key_pem() &&
        (in_force->client_ca == nullptr
             ? files->client_ca.empty()
             : files->client_ca == in_force->client_ca->pem())) {
      return absl::OkStatus();
    }
    hash = absl::HashOf(files->chain, files->key, files->client_ca);
    if (!refused_status_.ok() && hash == refused_hash_) return refused_status_;
    absl::StatusOr<std::shared_ptr<const TlsSnapshot>> snapshot =
        Build(*std::move(files), clock_->Now());
    status = snapshot.status();
    if (status.ok()) built = *std::move(snapshot);
  }
  if (status.ok() && options_.before_swap) {
    status = options_.before_swap(*built);
  }
  if (!status.ok()) {
    // A file that cannot be read is retried as it is; a refused content
    // only once.
    refused_hash_ = hash;
    refused_status_ = hash != 0 ? status : absl::OkStatus();
    if (options_.metrics != nullptr) options_.metrics->RecordReload(false);
    if (in_force != nullptr) {
      Log(LogLevel::kError, "TLS certificate refused; keeping the one in force",
          {{"certificate", options_.tls.certificate_path},
           {"serial", in_force->pair->leaf_summary().serial},
           {"error", status}});
    }
    return status;
  }
  refused_status_ = absl::OkStatus();
  {
    absl::MutexLock lock(&current_mu_);
    current_ = built;
  }
  const TlsSnapshot& loaded = *built;
  const CertificateSummary& leaf = loaded.pair->leaf_summary();
  const absl::Time client_ca_expiry =
      loaded.client_ca != nullptr ? loaded.client_ca->earliest_not_after()
                                  : absl::InfiniteFuture();
  if (options_.metrics != nullptr) {
    options_.metrics->RecordReload(true);
    options_.metrics->SetValidity(leaf.not_before, leaf.not_after,
                                  client_ca_expiry);
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
