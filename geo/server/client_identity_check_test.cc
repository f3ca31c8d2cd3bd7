#include "geo/server/client_identity_check.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "prometheus/registry.h"

namespace geo {
namespace {

// An empty property walk (the constructor is protected).
class EmptyIterator : public grpc::AuthPropertyIterator {
 public:
  EmptyIterator() : grpc::AuthPropertyIterator() {}
};

// What gRPC's TLS stack records for a verified peer, without the stack.
class FakeAuthContext final : public grpc::AuthContext {
 public:
  explicit FakeAuthContext(
      std::vector<std::pair<std::string, std::string>> properties,
      bool authenticated = true)
      : properties_(std::move(properties)), authenticated_(authenticated) {}

  bool IsPeerAuthenticated() const override { return authenticated_; }
  std::vector<grpc::string_ref> GetPeerIdentity() const override { return {}; }
  std::string GetPeerIdentityPropertyName() const override { return ""; }
  std::vector<grpc::string_ref> FindPropertyValues(
      const std::string& name) const override {
    std::vector<grpc::string_ref> values;
    for (const auto& [key, value] : properties_) {
      if (key == name) values.emplace_back(value);
    }
    return values;
  }
  // The iterator walks a grpc_auth_context, which a fake does not have;
  // GrpcPeerAllowed is exercised over real TLS in tests/tls.
  grpc::AuthPropertyIterator begin() const override { return EmptyIterator(); }
  grpc::AuthPropertyIterator end() const override { return EmptyIterator(); }
  void AddProperty(const std::string&, const grpc::string_ref&) override {}
  bool SetPeerIdentityPropertyName(const std::string&) override {
    return false;
  }

 private:
  std::vector<std::pair<std::string, std::string>> properties_;
  bool authenticated_;
};

TEST(GrpcClientIdentityTest, EveryNameOfAnAuthenticatedPeer) {
  const tls::PeerIdentity identity =
      GrpcClientIdentity(FakeAuthContext({{"x509_common_name", "cn"},
                                          {"peer_dns", "a.example"},
                                          {"peer_dns", "b.example"},
                                          {"peer_uri", "spiffe://x/y"},
                                          {"transport_security_type", "ssl"}}));
  EXPECT_EQ(identity.uris, std::vector<std::string>{"spiffe://x/y"});
  EXPECT_EQ(identity.dns_names,
            (std::vector<std::string>{"a.example", "b.example"}));
  EXPECT_EQ(identity.common_name, "cn");
}

TEST(GrpcClientIdentityTest, EmptyForAnUnauthenticatedPeer) {
  EXPECT_TRUE(GrpcClientIdentity(FakeAuthContext({{"peer_uri", "spiffe://x/y"},
                                                  {"x509_common_name", "cn"}},
                                                 /*authenticated=*/false))
                  .empty());
}

TEST(GrpcClientIdentityTest, PrimaryPrefersUriThenDnsThenCommonName) {
  EXPECT_EQ(GrpcClientIdentity(FakeAuthContext({{"x509_common_name", "cn"},
                                                {"peer_dns", "a.example"},
                                                {"peer_uri", "spiffe://x/y"}}))
                .primary(),
            "spiffe://x/y");
  EXPECT_EQ(GrpcClientIdentity(FakeAuthContext({{"x509_common_name", "cn"},
                                                {"peer_dns", "a.example"}}))
                .primary(),
            "a.example");
  EXPECT_EQ(GrpcClientIdentity(FakeAuthContext({{"x509_common_name", "cn"}}))
                .primary(),
            "cn");
  EXPECT_EQ(GrpcClientIdentity(FakeAuthContext({})).primary(), "");
}

TEST(GrpcClientIdentityCheckTest,
     AnEmptyListAllowsAndAnUnauthenticatedPeerIsDenied) {
  EXPECT_TRUE(GrpcPeerAllowed(tls::ClientIdentityAllowList(),
                              FakeAuthContext({}, false)));
  absl::StatusOr<tls::ClientIdentityAllowList> list =
      tls::ClientIdentityAllowList::Create({"spiffe://x/y"});
  ASSERT_TRUE(list.ok());
  EXPECT_FALSE(GrpcPeerAllowed(
      *list, FakeAuthContext({{"peer_uri", "spiffe://x/y"}}, false)));

  prometheus::Registry registry;
  tls::TlsMetrics metrics(registry, tls::kServerTlsMetricNames);
  GrpcClientIdentityCheck check(*list, &metrics);
  EXPECT_FALSE(check.IsBlocking());
  FakeAuthContext anonymous({}, false);
  grpc::AuthMetadataProcessor::OutputMetadata consumed;
  grpc::AuthMetadataProcessor::OutputMetadata response;
  EXPECT_EQ(check.Process({}, &anonymous, &consumed, &response).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(check.Process({}, nullptr, &consumed, &response).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

}  // namespace
}  // namespace geo
