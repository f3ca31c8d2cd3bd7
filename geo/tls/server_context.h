// The OpenSSL server context (SSL_CTX) for one verified certificate set: the
// chain and key, the client CA bundle and verification mode, the minimum
// version, session resumption. Never changed once built: a rotation builds
// a new one, and connections keep the context they were accepted with.
#ifndef GEO_TLS_SERVER_CONTEXT_H_
#define GEO_TLS_SERVER_CONTEXT_H_

#include <memory>

#include "absl/status/statusor.h"
#include "geo/tls/certificate.h"
#include "geo/tls/tls_options.h"

namespace geo::tls {

// `client_ca` may be null when `client_certificates` is kOff. Session
// resumption is on: a server-side session cache and TLS 1.3 tickets, under
// one session ID context so resumed sessions keep their client
// verification.
absl::StatusOr<std::shared_ptr<SSL_CTX>> BuildServerSslContext(
    const KeyPair& pair, const CertificateBundle* client_ca,
    ClientCertificates client_certificates, TlsVersion min_version);

}  // namespace geo::tls

#endif  // GEO_TLS_SERVER_CONTEXT_H_
