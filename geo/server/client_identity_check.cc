#include "geo/server/client_identity_check.h"

#include "absl/strings/string_view.h"
#include "geo/common/logging.h"
#include "grpc/grpc_security_constants.h"

namespace geo {
namespace {

absl::string_view View(const grpc::string_ref& text) {
  return absl::string_view(text.data(), text.size());
}

}  // namespace

bool GrpcPeerAllowed(const tls::ClientIdentityAllowList& allowed,
                     const grpc::AuthContext& context) {
  if (allowed.empty()) return true;
  if (!context.IsPeerAuthenticated()) return false;
  for (grpc::AuthPropertyIterator it = context.begin(); it != context.end();
       ++it) {
    const absl::string_view name = View((*it).first);
    if (name != GRPC_PEER_URI_PROPERTY_NAME &&
        name != GRPC_PEER_DNS_PROPERTY_NAME &&
        name != GRPC_X509_CN_PROPERTY_NAME) {
      continue;
    }
    if (allowed.AllowsAnyOf({View((*it).second)})) return true;
  }
  return false;
}

tls::PeerIdentity GrpcClientIdentity(const grpc::AuthContext& context) {
  tls::PeerIdentity identity;
  if (!context.IsPeerAuthenticated()) return identity;
  for (const grpc::string_ref& uri :
       context.FindPropertyValues(GRPC_PEER_URI_PROPERTY_NAME)) {
    identity.uris.emplace_back(View(uri));
  }
  for (const grpc::string_ref& dns :
       context.FindPropertyValues(GRPC_PEER_DNS_PROPERTY_NAME)) {
    identity.dns_names.emplace_back(View(dns));
  }
  const std::vector<grpc::string_ref> common_names =
      context.FindPropertyValues(GRPC_X509_CN_PROPERTY_NAME);
  if (!common_names.empty()) {
    identity.common_name = std::string(View(common_names.front()));
  }
  return identity;
}

grpc::Status GrpcClientIdentityCheck::Process(
    const InputMetadata& auth_metadata, grpc::AuthContext* context,
    OutputMetadata* consumed_auth_metadata, OutputMetadata* response_metadata) {
  (void)auth_metadata;
  (void)consumed_auth_metadata;
  (void)response_metadata;
  if (context != nullptr && GrpcPeerAllowed(allowed_, *context)) {
    return grpc::Status::OK;
  }
  if (metrics_ != nullptr) metrics_->RecordClientDenied(tls::Listener::kGrpc);
  // Debug: one line per refused call would let a client flood the log; the
  // metric counts them.
  if (MinLogLevel() <= LogLevel::kDebug) {
    Log(LogLevel::kDebug, "Client identity not allowed",
        {{"listener", "grpc"},
         {"client_identity",
          context != nullptr ? GrpcClientIdentity(*context).primary() : ""}});
  }
  return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                      "client identity not allowed on this listener");
}

}  // namespace geo
