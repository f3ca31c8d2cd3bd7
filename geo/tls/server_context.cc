#include "geo/tls/server_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "absl/strings/str_cat.h"

namespace geo::tls {
namespace {

constexpr unsigned char kSessionIdContext[] = "geo";

absl::Status OpenSslError(absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", TakeOpenSslErrors()));
}

}  // namespace

absl::StatusOr<std::shared_ptr<SSL_CTX>> BuildServerSslContext(
    const KeyPair& pair, const CertificateBundle* client_ca,
    ClientCertificates client_certificates, TlsVersion min_version) {
  ERR_clear_error();
  SslCtxPtr context(SSL_CTX_new(TLS_server_method()));
  if (context == nullptr) return OpenSslError("SSL_CTX_new");
  SSL_CTX* ctx = context.get();
  const int min_protocol =
      min_version == TlsVersion::kTls13 ? TLS1_3_VERSION : TLS1_2_VERSION;
  if (SSL_CTX_set_min_proto_version(ctx, min_protocol) != 1) {
    return OpenSslError("SSL_CTX_set_min_proto_version");
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE |
                               SSL_OP_NO_COMPRESSION);
  if (SSL_CTX_use_certificate(ctx, pair.leaf()) != 1) {
    return OpenSslError("SSL_CTX_use_certificate");
  }
  for (size_t i = 1; i < pair.chain().size(); ++i) {
    if (SSL_CTX_add1_chain_cert(ctx, pair.chain()[i].get()) != 1) {
      return OpenSslError("SSL_CTX_add1_chain_cert");
    }
  }
  if (SSL_CTX_use_PrivateKey(ctx, pair.key()) != 1) {
    return OpenSslError("SSL_CTX_use_PrivateKey");
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return OpenSslError("SSL_CTX_check_private_key");
  }
  if (SSL_CTX_set_session_id_context(ctx, kSessionIdContext,
                                     sizeof(kSessionIdContext) - 1) != 1) {
    return OpenSslError("SSL_CTX_set_session_id_context");
  }
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);

  if (client_certificates != ClientCertificates::kOff) {
    if (client_ca == nullptr) {
      return absl::InvalidArgumentError(
          "client certificates need a client CA bundle");
    }
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
    if (names == nullptr) return OpenSslError("sk_X509_NAME_new_null");
    for (const X509Ptr& certificate : client_ca->certificates()) {
      if (X509_STORE_add_cert(store, certificate.get()) != 1) {
        sk_X509_NAME_pop_free(names, X509_NAME_free);
        return OpenSslError("X509_STORE_add_cert");
      }
      X509_NAME* name = X509_NAME_dup(X509_get_subject_name(certificate.get()));
      if (name == nullptr || sk_X509_NAME_push(names, name) <= 0) {
        X509_NAME_free(name);
        sk_X509_NAME_pop_free(names, X509_NAME_free);
        return OpenSslError("sk_X509_NAME_push");
      }
    }
    // Tells clients which CAs to pick a certificate for; takes ownership.
    SSL_CTX_set_client_CA_list(ctx, names);
    int mode = SSL_VERIFY_PEER;
    if (client_certificates == ClientCertificates::kRequire) {
      mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    }
    SSL_CTX_set_verify(ctx, mode, nullptr);
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  return std::shared_ptr<SSL_CTX>(context.release(), SslCtxFree());
}

}  // namespace geo::tls
