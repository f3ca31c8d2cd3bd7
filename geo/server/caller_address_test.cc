#include "geo/server/caller_address.h"

#include <string>
#include <utility>
#include <vector>

#include "geo/http/http_message.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace geo {
namespace {

// ForwardingHeaders over (name, value) pairs.
class HeaderList final : public ForwardingHeaders {
 public:
  explicit HeaderList(std::vector<std::pair<std::string, std::string>> fields)
      : fields_(std::move(fields)) {}
  void Get(absl::string_view name,
           std::vector<absl::string_view>* values) const override {
    fields_.FindAll(name, values);
  }

 private:
  const http::HttpHeaderList fields_;
};

// The caller when `forwarded_for` are the X-Forwarded-For lines.
std::string Caller(const CallerResolver& resolver, absl::string_view peer,
                   std::vector<std::string> forwarded_for) {
  std::vector<std::pair<std::string, std::string>> fields;
  for (std::string& line : forwarded_for) {
    fields.emplace_back("X-Forwarded-For", std::move(line));
  }
  const HeaderList headers(std::move(fields));
  absl::StatusOr<IpAddress> caller = resolver.Resolve(peer, &headers);
  if (!caller.ok()) return std::string(caller.status().message());
  return caller->ToString();
}

std::string CallerFrom(
    const CallerResolver& resolver, absl::string_view peer,
    std::vector<std::pair<std::string, std::string>> fields) {
  const HeaderList headers(std::move(fields));
  absl::StatusOr<IpAddress> caller = resolver.Resolve(peer, &headers);
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
  EXPECT_EQ(Caller(*resolver, "10.0.0.1:1", {"203.0.113.7, [::1"}), "10.0.0.1");
}

TEST(CallerResolverTest, XForwardedForThenForwardedThenXRealIp) {
  absl::StatusOr<CallerResolver> resolver =
      CallerResolver::Create({"10.0.0.0/8"}, {"True-Client-IP"});
  ASSERT_TRUE(resolver.ok()) << resolver.status();
  // Every common proxy appends X-Forwarded-For; a Forwarded it passed
  // through untouched is the client's own.
  EXPECT_EQ(CallerFrom(*resolver, "10.0.0.1:1",
                       {{"Forwarded", "for=192.0.2.60;proto=http"},
                        {"X-Forwarded-For", "198.51.100.1"},
                        {"X-Real-IP", "198.51.100.2"}}),
            "198.51.100.1");
  EXPECT_EQ(CallerFrom(*resolver, "10.0.0.1:1",
                       {{"Forwarded", "for=192.0.2.60;proto=http"},
                        {"Forwarded",
                         "for=\"[2001:db8:cafe::17]:4711\", "
                         "for=10.0.0.9"},
                        {"X-Real-IP", "198.51.100.2"}}),
            "2001:db8:cafe::17");
  EXPECT_EQ(
      CallerFrom(*resolver, "10.0.0.1:1", {{"X-Real-IP", " 198.51.100.2 "}}),
      "198.51.100.2");
  EXPECT_EQ(CallerFrom(*resolver, "10.0.0.1:1",
                       {{"true-client-ip", "198.51.100.3"},
                        {"X-Forwarded-For", "198.51.100.1"}}),
            "198.51.100.3");
  // An obfuscated or unknown Forwarded hop stops the walk at the proxy.
  EXPECT_EQ(CallerFrom(*resolver, "10.0.0.1:1",
                       {{"Forwarded", "for=192.0.2.1, for=unknown"}}),
            "10.0.0.1");
  EXPECT_EQ(CallerFrom(*resolver, "10.0.0.1:1",
                       {{"Forwarded", "for=_hidden;by=10.0.0.1"}}),
            "10.0.0.1");
  // None of it from an untrusted peer.
  EXPECT_EQ(CallerFrom(*resolver, "203.0.113.1:1",
                       {{"Forwarded", "for=192.0.2.1"},
                        {"True-Client-IP", "192.0.2.2"},
                        {"X-Real-IP", "192.0.2.3"}}),
            "203.0.113.1");
  EXPECT_EQ(resolver->Resolve("10.0.0.1:1", nullptr)->ToString(), "10.0.0.1");
}

TEST(CallerResolverTest, SingleAddressHeadersCountOnlyWhenSentOnce) {
  absl::StatusOr<CallerResolver> resolver =
      CallerResolver::Create({"10.0.0.0/8"}, {"True-Client-IP"});
  ASSERT_TRUE(resolver.ok()) << resolver.status();
  // A hop appended its line after the client's: the client's first line must
  // not choose the caller, and neither line can be told apart, so the next
  // source decides. (Each header sent once counts: see the test above.)
  struct Case {
    std::string header;
    std::string next_source;
    std::string caller;
  };
  for (const Case& c :
       {Case{"True-Client-IP", "X-Forwarded-For", "198.51.100.1"},
        Case{"X-Real-IP", "", "10.0.0.1"}}) {
    SCOPED_TRACE(c.header);
    std::vector<std::pair<std::string, std::string>> fields = {
        {c.header, "192.0.2.66"}, {c.header, "198.51.100.3"}};
    if (!c.next_source.empty()) fields.emplace_back(c.next_source, c.caller);
    EXPECT_EQ(CallerFrom(*resolver, "10.0.0.1:1", std::move(fields)), c.caller);
  }
}

TEST(ForwardedForValuesTest, ParsesRfc7239Elements) {
  std::vector<std::string> hops;
  ForwardedForValues(
      "For=\"[2001:db8::1]:443\";proto=https, for=192.0.2.43;by=x, "
      "by=10.0.0.1, for=\"quoted, with comma\"",
      &hops);
  EXPECT_THAT(hops, ::testing::ElementsAre("[2001:db8::1]:443", "192.0.2.43",
                                           "quoted, with comma"));
  EXPECT_EQ(ParsePeerAddress(hops[0])->ToString(), "2001:db8::1");
}

TEST(CallerResolverTest, RejectsBadProxyConfiguration) {
  EXPECT_THAT(CallerResolver::Create({"10.0.0.0/33"}).status().message(),
              ::testing::HasSubstr("10.0.0.0/33"));
  EXPECT_FALSE(CallerResolver::Create({"proxy.local"}).ok());
  EXPECT_FALSE(CallerResolver::Create({}, {"Bad Header"}).ok());
}

TEST(ParsePeerAddressTest, UnderstandsGrpcAndHostPortForms) {
  EXPECT_EQ(ParsePeerAddress("ipv4:127.0.0.1:5555")->ToString(), "127.0.0.1");
  EXPECT_EQ(ParsePeerAddress("ipv6:[::1]:5555")->ToString(), "::1");
  EXPECT_EQ(ParsePeerAddress("[2001:db8::2]:80")->ToString(), "2001:db8::2");
  EXPECT_EQ(ParsePeerAddress("198.51.100.1:80")->ToString(), "198.51.100.1");
  EXPECT_EQ(ParsePeerAddress("2001:db8::3")->ToString(), "2001:db8::3");
  EXPECT_FALSE(ParsePeerAddress("unix:/tmp/socket").ok());
  // An unclosed bracket or junk after it is not an address.
  EXPECT_FALSE(ParsePeerAddress("[::1").ok());
  EXPECT_FALSE(ParsePeerAddress("[2001:db8::5]junk").ok());
  EXPECT_FALSE(ParsePeerAddress("[2001:db8::5]:").ok());
  EXPECT_FALSE(ParsePeerAddress("[2001:db8::5]:80x").ok());
  EXPECT_EQ(ParsePeerAddress("[2001:db8::5]")->ToString(), "2001:db8::5");
}

}  // namespace
}  // namespace geo
