#include "geo/tls/tls_options.h"

#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
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

std::vector<settings::Setting<TlsOptions>> TlsSettingRows(
    const TlsSettingNames& names) {
  using settings::Setting;
  using O = TlsOptions;
  // Each row's flag is the prefix and the suffix, its variable the prefix
  // and the suffix in capitals.
  auto row = [&names](absl::string_view suffix,
                      settings::ValueType<O> type) -> Setting<O> {
    Setting<O> setting(absl::StrCat(names.flag_prefix, suffix),
                       std::move(type));
    setting.Env({settings::EnvironmentVariable(
        absl::StrCat(names.env_prefix, absl::AsciiStrToUpper(suffix)),
        /*translate=*/nullptr)});
    return setting;
  };
  return {
      row("cert_file", settings::Path(&O::certificate_path))
          .Help(names.certificate_help),
      row("key_file", settings::Path(&O::private_key_path))
          .Help(names.private_key_help),
      row("client_ca_file", settings::Path(&O::client_ca_path))
          .Help(names.client_ca_help),
      row("client_auth", settings::Parsed<O, ClientCertificates>(
                             &O::client_certificates, "off, request or require",
                             ParseClientCertificates))
          .Default("off")
          .Help(names.client_certificates_help),
      row("min_version", settings::Parsed<O, TlsVersion>(
                             &O::min_version, "1.2 or 1.3", ParseTlsVersion))
          .Default("1.2")
          .Help(names.min_version_help),
  };
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
