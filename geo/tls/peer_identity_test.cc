#include "geo/tls/peer_identity.h"

#include <string>

#include "gtest/gtest.h"

namespace geo::tls {
namespace {

TEST(PeerIdentityTest, PrimaryIsTheFirstUriThenDnsNameThenCommonName) {
  PeerIdentity identity;
  EXPECT_TRUE(identity.empty());
  EXPECT_EQ(identity.primary(), "");
  identity.common_name = "cn";
  EXPECT_EQ(identity.primary(), "cn");
  identity.dns_names = {"a.internal", "b.internal"};
  EXPECT_EQ(identity.primary(), "a.internal");
  identity.uris = {"spiffe://td/ns/a/sa/x", "spiffe://td/ns/b/sa/y"};
  EXPECT_EQ(identity.primary(), "spiffe://td/ns/a/sa/x");
  EXPECT_FALSE(identity.empty());
}

TEST(IsClientIdentityNameTest, RefusesWhatNoCertificateNameHolds) {
  EXPECT_TRUE(IsClientIdentityName("spiffe://cluster.local/ns/a/sa/b"));
  EXPECT_TRUE(IsClientIdentityName("reporting.internal"));
  EXPECT_TRUE(IsClientIdentityName("caf\xc3\xa9"));  // UTF-8 CN
  EXPECT_FALSE(IsClientIdentityName(""));
  EXPECT_FALSE(IsClientIdentityName("a b"));
  EXPECT_FALSE(IsClientIdentityName("a\tb"));
  EXPECT_FALSE(IsClientIdentityName("a\nb"));
  EXPECT_FALSE(IsClientIdentityName(std::string("a\0b", 3)));
  EXPECT_FALSE(IsClientIdentityName("a\x7f"));
}

}  // namespace
}  // namespace geo::tls
