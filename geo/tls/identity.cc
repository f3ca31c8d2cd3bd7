#include "geo/tls/identity.h"

#include <openssl/asn1.h>
#include <openssl/x509v3.h>

#include <memory>

#include "absl/strings/str_cat.h"

namespace geo::tls {
namespace {

std::string Ia5Text(const ASN1_IA5STRING* text) {
  if (text == nullptr || text->data == nullptr || text->length <= 0) return "";
  return std::string(reinterpret_cast<const char*>(text->data),
                     static_cast<size_t>(text->length));
}

struct GeneralNamesFree {
  void operator()(GENERAL_NAMES* names) const { GENERAL_NAMES_free(names); }
};

}  // namespace

PeerIdentity IdentityOf(X509* certificate) {
  PeerIdentity identity;
  if (certificate == nullptr) return identity;
  std::unique_ptr<GENERAL_NAMES, GeneralNamesFree> names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(
          certificate, NID_subject_alt_name, nullptr, nullptr)));
  if (names != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
      if (name->type == GEN_URI) {
        std::string uri = Ia5Text(name->d.uniformResourceIdentifier);
        if (!uri.empty()) identity.uris.push_back(std::move(uri));
      } else if (name->type == GEN_DNS) {
        std::string dns = Ia5Text(name->d.dNSName);
        if (!dns.empty()) identity.dns_names.push_back(std::move(dns));
      }
    }
  }
  const X509_NAME* subject = X509_get_subject_name(certificate);
  const int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (index >= 0) {
    const ASN1_STRING* data =
        X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
    unsigned char* utf8 = nullptr;
    const int length = ASN1_STRING_to_UTF8(&utf8, data);
    if (length > 0) {
      identity.common_name.assign(reinterpret_cast<char*>(utf8),
                                  static_cast<size_t>(length));
    }
    OPENSSL_free(utf8);
  }
  return identity;
}

absl::StatusOr<ClientIdentityAllowList> ClientIdentityAllowList::Create(
    const std::vector<std::string>& identities) {
  ClientIdentityAllowList list;
  for (const std::string& identity : identities) {
    if (identity.empty()) {
      return absl::InvalidArgumentError("empty client identity");
    }
    if (!IsClientIdentityName(identity)) {
      return absl::InvalidArgumentError(
          absl::StrCat("client identity \"", identity,
                       "\" contains a space or control character"));
    }
    list.allowed_.insert(identity);
  }
  return list;
}

bool ClientIdentityAllowList::Allows(const PeerIdentity& identity) const {
  if (allowed_.empty()) return true;
  for (const std::string& uri : identity.uris) {
    if (allowed_.contains(uri)) return true;
  }
  for (const std::string& dns : identity.dns_names) {
    if (allowed_.contains(dns)) return true;
  }
  return !identity.common_name.empty() &&
         allowed_.contains(identity.common_name);
}

bool ClientIdentityAllowList::AllowsAnyOf(
    const std::vector<absl::string_view>& names) const {
  if (allowed_.empty()) return true;
  for (absl::string_view name : names) {
    if (allowed_.contains(name)) return true;
  }
  return false;
}

}  // namespace geo::tls
