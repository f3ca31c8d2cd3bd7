// What a TLS listener is configured with: its certificate files, whether
// clients must present certificates, the lowest TLS version it accepts.
#ifndef GEO_TLS_TLS_OPTIONS_H_
#define GEO_TLS_TLS_OPTIONS_H_

#include <string>

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

// The settings-table value types of the two enums, for every binary that
// serves TLS (one description and parser each).
template <typename Options>
settings::ValueType<Options> ClientCertificatesValue(
    ClientCertificates Options::*field) {
  return settings::Parsed<Options, ClientCertificates>(
      field, "off, request or require", ParseClientCertificates);
}
template <typename Options>
settings::ValueType<Options> TlsVersionValue(TlsVersion Options::*field) {
  return settings::Parsed<Options, TlsVersion>(field, "1.2 or 1.3",
                                               ParseTlsVersion);
}
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

}  // namespace geo::tls

#endif  // GEO_TLS_TLS_OPTIONS_H_
