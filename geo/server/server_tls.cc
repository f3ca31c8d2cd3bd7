#include "geo/server/server_tls.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "geo/common/logging.h"
#include "geo/server/client_identity_check.h"

namespace geo {

absl::StatusOr<std::unique_ptr<ServerTls>> ServerTls::Create(
    const ServerTlsSettings& settings, prometheus::Registry& registry,
    Clock* clock) {
  // The one check of the TLS options, made whether or not TLS is on: a key,
  // a CA bundle or a client-certificate mode without a certificate would
  // otherwise leave the listeners in plaintext without a word. The
  // certificate reloader relies on it.
  absl::Status valid = settings.tls.Validate();
  if (!valid.ok()) return valid;
  const bool any_allow_list = !settings.grpc_client_identities.empty() ||
                              !settings.http_client_identities.empty();
  if (!settings.tls.enabled()) {
    if (any_allow_list || settings.metrics_tls) {
      return absl::InvalidArgumentError(
          "client identity allow-lists and metrics TLS need TLS: set the "
          "certificate and key files");
    }
    return std::unique_ptr<ServerTls>();
  }
  if (any_allow_list &&
      settings.tls.client_certificates == tls::ClientCertificates::kOff) {
    return absl::InvalidArgumentError(
        "client identity allow-lists need client certificates (request or "
        "require)");
  }
  std::unique_ptr<ServerTls> server_tls(new ServerTls(settings, registry));
  absl::StatusOr<tls::ClientIdentityAllowList> grpc_allowed =
      tls::ClientIdentityAllowList::Create(settings.grpc_client_identities);
  if (!grpc_allowed.ok()) return grpc_allowed.status();
  server_tls->grpc_allowed_ = *std::move(grpc_allowed);
  absl::StatusOr<tls::ClientIdentityAllowList> http_allowed =
      tls::ClientIdentityAllowList::Create(settings.http_client_identities);
  if (!http_allowed.ok()) return http_allowed.status();
  server_tls->http_allowed_ = *std::move(http_allowed);

  absl::StatusOr<std::unique_ptr<tls::GrpcCertificateStage>> stage =
      tls::GrpcCertificateStage::Create(/*parent=*/"", clock);
  if (!stage.ok()) return stage.status();
  server_tls->stage_ = *std::move(stage);
  tls::GrpcCertificateStage* raw_stage = server_tls->stage_.get();
  tls::CertificateReloader::Options options;
  options.tls = settings.tls;
  options.clock = clock;
  options.metrics = &server_tls->metrics_;
  options.before_swap = [raw_stage](const tls::TlsSnapshot& snapshot) {
    return raw_stage->Write(snapshot);
  };
  absl::StatusOr<std::unique_ptr<tls::CertificateReloader>> reloader =
      tls::CertificateReloader::Create(std::move(options));
  if (!reloader.ok()) return reloader.status();
  server_tls->reloader_ = *std::move(reloader);
  if (settings.tls.min_version == tls::TlsVersion::kTls13) {
    Log(LogLevel::kWarn,
        "TLS minimum version 1.3 applies to the HTTP listeners; the gRPC "
        "listener also accepts TLS 1.2 (gRPC 1.51 cannot raise its minimum)");
  }
  return server_tls;
}

ServerTls::~ServerTls() { StopWatching(); }

std::shared_ptr<grpc::ServerCredentials> ServerTls::GrpcCredentials() {
  std::shared_ptr<grpc::ServerCredentials> credentials =
      stage_->ServerCredentials(settings_.tls, settings_.grpc_refresh_seconds);
  if (!grpc_allowed_.empty()) {
    credentials->SetAuthMetadataProcessor(
        std::make_shared<GrpcClientIdentityCheck>(grpc_allowed_, &metrics_));
  }
  return credentials;
}

void ServerTls::StartWatching(absl::Duration poll_interval, Clock* clock) {
  PollingWatcherOptions watch;
  watch.interval = poll_interval;
  watch.clock = clock;
  reloader_->StartWatching(watch);
}

void ServerTls::StopWatching() {
  if (reloader_ != nullptr) reloader_->StopWatching();
}

}  // namespace geo
