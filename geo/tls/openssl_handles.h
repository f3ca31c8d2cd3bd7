// Owning handles for the OpenSSL objects geo/tls passes around: each frees
// (or drops its reference) exactly once.
#ifndef GEO_TLS_OPENSSL_HANDLES_H_
#define GEO_TLS_OPENSSL_HANDLES_H_

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

namespace geo::tls {

struct X509Free {
  void operator()(X509* certificate) const { X509_free(certificate); }
};
struct EvpPkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct SslCtxFree {
  void operator()(SSL_CTX* context) const { SSL_CTX_free(context); }
};
struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};

using X509Ptr = std::unique_ptr<X509, X509Free>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyFree>;
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;

// The reasons queued on this thread's OpenSSL error stack, joined, and the
// stack cleared (so a later failure does not report this one's reasons).
std::string TakeOpenSslErrors();

}  // namespace geo::tls

#endif  // GEO_TLS_OPENSSL_HANDLES_H_
