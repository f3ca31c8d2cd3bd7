#include "geo/server/caller_address.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace geo {
namespace {

std::string Caller(const CallerResolver& resolver, absl::string_view peer,
                   std::vector<absl::string_view> forwarded_for) {
  absl::StatusOr<IpAddress> caller = resolver.Resolve(peer, forwarded_for);
  if (!caller.ok()) return std::string(caller.status().message());
  return caller->ToString();
}

TEST(CallerResolverTest, WithoutTrustedProxiesThePeerIsTheCaller) {
  absl::StatusOr<CallerResolver> resolver = CallerResolver::Create({});
  ASSERT_TRUE(resolver.ok());
  EXPECT_EQ(Caller(*resolver, "ipv4:203.0.113.9:4000", {"8.8.8.8"}),
            "203.0.113.9");
  EXPECT_EQ(Caller(*resolver, "ipv6:[2001:db8::1]:4000", {}), "2001:db8::1");
}

TEST(CallerResolverTest, RightMostUntrustedHopBehindTrustedProxies) {
  absl::StatusOr<CallerResolver> resolver =
      CallerResolver::Create({"10.0.0.0/8", "192.0.2.7"});
  ASSERT_TRUE(resolver.ok()) << resolver.status();
  // Client-supplied junk on the left is ignored: 198.51.100.4 is the first
  // address no trusted proxy vouches for.
  EXPECT_EQ(
      Caller(*resolver, "10.1.2.3:443", {"1.1.1.1, 198.51.100.4", "192.0.2.7"}),
      "198.51.100.4");
  // An untrusted peer's header counts for nothing.
  EXPECT_EQ(Caller(*resolver, "203.0.113.50:443", {"1.1.1.1"}), "203.0.113.50");
  // All hops trusted: the left-most one is the best we know.
  EXPECT_EQ(Caller(*resolver, "10.0.0.1:1", {"10.0.0.2, 10.0.0.3"}),
            "10.0.0.2");
  // A garbled hop stops the walk at the last address vouched for.
  EXPECT_EQ(Caller(*resolver, "10.0.0.1:1", {"8.8.8.8, garbage"}), "10.0.0.1");
}

TEST(CallerResolverTest, RejectsBadProxyConfiguration) {
  EXPECT_THAT(CallerResolver::Create({"10.0.0.0/33"}).status().message(),
              ::testing::HasSubstr("10.0.0.0/33"));
  EXPECT_FALSE(CallerResolver::Create({"proxy.local"}).ok());
}

TEST(ParsePeerAddressTest, UnderstandsGrpcAndHostPortForms) {
  EXPECT_EQ(ParsePeerAddress("ipv4:127.0.0.1:5555")->ToString(), "127.0.0.1");
  EXPECT_EQ(ParsePeerAddress("ipv6:[::1]:5555")->ToString(), "::1");
  EXPECT_EQ(ParsePeerAddress("[2001:db8::2]:80")->ToString(), "2001:db8::2");
  EXPECT_EQ(ParsePeerAddress("198.51.100.1:80")->ToString(), "198.51.100.1");
  EXPECT_EQ(ParsePeerAddress("2001:db8::3")->ToString(), "2001:db8::3");
  EXPECT_FALSE(ParsePeerAddress("unix:/tmp/socket").ok());
}

}  // namespace
}  // namespace geo
