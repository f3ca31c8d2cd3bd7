#include "geo/tls/tls_options.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "geo/common/enum_names.h"

namespace geo::tls {

namespace {

// Each mode with its name in settings.
constexpr EnumName<ClientCertificates> kClientCertificatesModes[] = {
    {ClientCertificates::kOff, "off"},
    {ClientCertificates::kRequest, "request"},
    {ClientCertificates::kRequire, "require"},
};

}  // namespace

absl::StatusOr<ClientCertificates> ParseClientCertificates(
    absl::string_view text) {
  if (const std::optional<ClientCertificates> mode =
          ValueNamed(kClientCertificatesModes, text)) {
    return *mode;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "client certificates must be off, request or require, not \"", text,
      "\""));
}

absl::string_view ClientCertificatesName(ClientCertificates mode) {
  return NameOf(kClientCertificatesModes, mode, "off");
}

absl::StatusOr<TlsVersion> ParseTlsVersion(absl::string_view text) {
  if (text == "1.2") return TlsVersion::kTls12;
  if (text == "1.3") return TlsVersion::kTls13;
  return absl::InvalidArgumentError(
      absl::StrCat("TLS version must be 1.2 or 1.3, not \"", text, "\""));
}

absl::string_view TlsVersionName(TlsVersion version) {
  return version == TlsVersion::kTls13 ? "1.3" : "1.2";
}

absl::Status TlsOptions::Validate() const {
  if (certificate_path.empty() != private_key_path.empty()) {
    return absl::InvalidArgumentError(
        "a TLS certificate file and its private key file go together");
  }
  if (!enabled()) {
    if (!client_ca_path.empty() ||
        client_certificates != ClientCertificates::kOff) {
      return absl::InvalidArgumentError(
          "client certificates need TLS: set the certificate and key files");
    }
    return absl::OkStatus();
  }
  if (client_certificates != ClientCertificates::kOff &&
      client_ca_path.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "client certificates \"", ClientCertificatesName(client_certificates),
        "\" need a client CA bundle file"));
  }
  return absl::OkStatus();
}

}  // namespace geo::tls
