// What a TLS listener is configured with: its certificate files, whether
// clients must present certificates, the lowest TLS version it accepts.
#ifndef GEO_TLS_TLS_OPTIONS_H_
#define GEO_TLS_TLS_OPTIONS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "geo/common/settings.h"

namespace geo::tls {

// Client certificates (mutual TLS).
enum class ClientCertificates {
  // Not asked for.
  kOff,
  // Asked for; a client without one is served, a client whose certificate
  // does not verify against the client CA bundle is refused.
  kRequest,
  // Required and verified: a client without a valid one fails the handshake.
  kRequire,
};

enum class TlsVersion { kTls12, kTls13 };

// "off", "request", "require".
absl::StatusOr<ClientCertificates> ParseClientCertificates(
    absl::string_view text);
absl::string_view ClientCertificatesName(ClientCertificates mode);
// "1.2", "1.3".
absl::StatusOr<TlsVersion> ParseTlsVersion(absl::string_view text);

absl::string_view TlsVersionName(TlsVersion version);

struct TlsOptions {
  // PEM certificate chain, leaf first, then intermediates (what cert-manager
  // writes as tls.crt). Empty: TLS off.
  std::string certificate_path;
  // PEM private key of the leaf (tls.key).
  std::string private_key_path;
  // PEM CA bundle that client certificates must chain to (ca.crt); required
  // when client_certificates is not kOff.
  std::string client_ca_path;
  ClientCertificates client_certificates = ClientCertificates::kOff;
  TlsVersion min_version = TlsVersion::kTls12;

  bool enabled() const { return !certificate_path.empty(); }
  // INVALID_ARGUMENT when a certificate comes without its key (or the
  // reverse), or client certificates are asked for without a CA bundle.
  absl::Status Validate() const;
};

// How one binary names and explains its TLS settings. The five rows are the
// flags <flag_prefix>cert_file, key_file, client_ca_file, client_auth and
// min_version, each read from the variable <env_prefix> plus the same suffix
// in capitals (tls_cert_file and GEO_TLS_CERT_FILE for the server's
// listeners, status_tls_cert_file and GEO_UPDATER_STATUS_TLS_CERT_FILE for
// the updater's status port); the help says what each is for there.
struct TlsSettingNames {
  std::string flag_prefix;
  std::string env_prefix;
  std::string certificate_help;
  std::string private_key_help;
  std::string client_ca_help;
  std::string client_certificates_help;
  std::string min_version_help;
};

// The five rows of `names` (certificate, private key, client CA bundle,
// client certificates with default "off", minimum version with default
// "1.2"), in the order --help lists them.
std::vector<settings::Setting<TlsOptions>> TlsSettingRows(
    const TlsSettingNames& names);

// The same rows bound to the TlsOptions `tls` nested in a binary's options:
// one entry of its settings table's list (settings::SettingRows).
template <typename Options>
std::vector<settings::Setting<Options>> TlsSettings(
    TlsOptions Options::*tls, const TlsSettingNames& names) {
  std::vector<settings::Setting<Options>> rows;
  for (const settings::Setting<TlsOptions>& row : TlsSettingRows(names)) {
    rows.push_back(settings::InGroup(tls, row));
  }
  return rows;
}

}  // namespace geo::tls

#endif  // GEO_TLS_TLS_OPTIONS_H_
