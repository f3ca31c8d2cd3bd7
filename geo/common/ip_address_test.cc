#include "geo/common/ip_address.h"

#include <arpa/inet.h>

#include <array>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace geo {
namespace {

using ::testing::HasSubstr;

IpAddress Ip(const std::string& text) {
  absl::StatusOr<IpAddress> address = IpAddress::Parse(text);
  EXPECT_TRUE(address.ok()) << address.status();
  return address.ok() ? *address : IpAddress();
}

IpNetwork Net(const std::string& text) {
  absl::StatusOr<IpNetwork> network = IpNetwork::Parse(text);
  EXPECT_TRUE(network.ok()) << network.status();
  return *network;
}

TEST(IpAddressTest, ParsesAndCanonicalises) {
  EXPECT_TRUE(Ip("192.0.2.1").is_v4());
  EXPECT_EQ(Ip("192.0.2.1").ToString(), "192.0.2.1");
  EXPECT_TRUE(Ip("2001:DB8:0:0:0:0:0:1").is_v6());
  EXPECT_EQ(Ip("2001:DB8:0:0:0:0:0:1").ToString(), "2001:db8::1");
  EXPECT_EQ(Ip("::FFFF:1.2.3.4").ToString(), "::ffff:1.2.3.4");
  EXPECT_TRUE(Ip("::ffff:1.2.3.4").is_v4_mapped());
  EXPECT_FALSE(Ip("::1.2.3.4").is_v4_mapped());
  EXPECT_EQ(Ip("::ffff:1.2.3.4").Unmapped(), Ip("1.2.3.4"));
  EXPECT_EQ(Ip("1.2.3.4").MappedToV6(), Ip("::ffff:1.2.3.4"));
  EXPECT_EQ(Ip("2001:db8::1").Unmapped(), Ip("2001:db8::1"));
  EXPECT_NE(Ip("1.2.3.4"), Ip("::ffff:1.2.3.4"));
}

TEST(IpAddressTest, RejectsNonAddressesNamingTheText) {
  for (const std::string& text : std::vector<std::string>{
           "", "1.2.3", "1.2.3.4.5", "256.1.1.1", " 1.2.3.4", "1.2.3.4 ",
           "example.com", "localhost", "[::1]", "fe80::1%eth0", "1.2.3.4/8",
           "0x7f.0.0.1", "2001:db8:::1", std::string("1.2.3.4\0junk", 12)}) {
    absl::StatusOr<IpAddress> address = IpAddress::Parse(text);
    EXPECT_EQ(address.status().code(), absl::StatusCode::kInvalidArgument)
        << "accepted \"" << text << "\"";
    if (!text.empty() && text.find('\0') == std::string::npos) {
      EXPECT_THAT(address.status().message(), HasSubstr(text));
    }
  }
}

TEST(IpAddressTest, SockaddrMatchesFamily) {
  const IpAddress v4 = Ip("10.1.2.3");
  EXPECT_EQ(v4.as_sockaddr()->sa_family, AF_INET);
  const IpAddress v6 = Ip("2001:db8::5");
  EXPECT_EQ(v6.as_sockaddr()->sa_family, AF_INET6);
  EXPECT_EQ(v6.bytes()[15], 5);
}

TEST(IpAddressTest, PrivateAndReserved) {
  for (const char* text : {"10.0.0.1",
                           "172.16.0.1",
                           "172.31.255.255",
                           "192.168.1.1",
                           "127.0.0.1",
                           "169.254.1.1",
                           "100.64.0.1",
                           "100.127.255.255",
                           "0.0.0.0",
                           "255.255.255.255",
                           "224.0.0.1",
                           "240.0.0.1",
                           "192.0.2.1",
                           "198.51.100.7",
                           "203.0.113.9",
                           "198.18.0.1",
                           "::",
                           "::1",
                           "fe80::1",
                           "fc00::1",
                           "fd12:3456::1",
                           "ff02::1",
                           "2001:db8::1",
                           "::ffff:10.0.0.1",
                           "::ffff:127.0.0.1"}) {
    EXPECT_TRUE(Ip(text).IsPrivateOrReserved()) << text;
  }
  for (const char* text :
       {"8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "81.2.69.160",
        "2001:4860:4860::8888", "2a02:ff00::1", "::ffff:8.8.8.8",
        "64:ff9b::808:808"}) {
    EXPECT_FALSE(Ip(text).IsPrivateOrReserved()) << text;
  }
}

TEST(IpNetworkTest, ParsesAndContains) {
  const IpNetwork net = Net("10.0.0.0/8");
  EXPECT_EQ(net.prefix_length(), 8);
  EXPECT_EQ(net.ToString(), "10.0.0.0/8");
  EXPECT_TRUE(net.Contains(Ip("10.255.0.1")));
  EXPECT_FALSE(net.Contains(Ip("11.0.0.1")));
  // IPv4 networks match IPv4-mapped IPv6 addresses.
  EXPECT_TRUE(net.Contains(Ip("::ffff:10.1.2.3")));
  EXPECT_FALSE(net.Contains(Ip("::10.1.2.3")));
  EXPECT_FALSE(net.Contains(Ip("2001:db8::1")));

  const IpNetwork v6 = Net("2001:db8::/32");
  EXPECT_TRUE(v6.Contains(Ip("2001:db8:ffff::1")));
  EXPECT_FALSE(v6.Contains(Ip("2001:db9::1")));
  EXPECT_FALSE(v6.Contains(Ip("10.0.0.1")));
  EXPECT_TRUE(Net("::ffff:0:0/96").Contains(Ip("1.2.3.4")));

  EXPECT_EQ(Net("192.0.2.7").prefix_length(), 32);
  EXPECT_EQ(Net("2001:db8::7").prefix_length(), 128);
  EXPECT_TRUE(Net("0.0.0.0/0").Contains(Ip("8.8.8.8")));
  EXPECT_TRUE(Net("10.1.2.3/32").Contains(Ip("10.1.2.3")));
  EXPECT_FALSE(Net("10.1.2.3/32").Contains(Ip("10.1.2.4")));
  EXPECT_TRUE(Net("10.1.2.0/23").Contains(Ip("10.1.3.255")));
  EXPECT_FALSE(Net("10.1.2.0/23").Contains(Ip("10.1.4.0")));
}

TEST(IpNetworkTest, RejectsBadNetworks) {
  for (const char* text :
       {"10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/ 8",
        "::/129", "x/8", "10.0.0.0/8/8"}) {
    EXPECT_EQ(IpNetwork::Parse(text).status().code(),
              absl::StatusCode::kInvalidArgument)
        << text;
  }
  absl::StatusOr<IpNetwork> host_bits = IpNetwork::Parse("10.1.2.3/8");
  EXPECT_THAT(host_bits.status().message(), HasSubstr("10.0.0.0/8"));
}

TEST(IpNetworkTest, FromAddressMasks) {
  absl::StatusOr<IpNetwork> net = IpNetwork::FromAddress(Ip("10.1.2.3"), 12);
  ASSERT_TRUE(net.ok());
  EXPECT_EQ(net->ToString(), "10.0.0.0/12");
  net = IpNetwork::FromAddress(Ip("::4ad1:1800"), 116);
  ASSERT_TRUE(net.ok());
  EXPECT_EQ(net->address(), Ip("::4ad1:1000"));
  EXPECT_EQ(net->prefix_length(), 116);
  EXPECT_FALSE(IpNetwork::FromAddress(Ip("10.1.2.3"), 33).ok());
}

// ToString writes addresses itself (inet_ntop's sprintf was most of a cached
// lookup); it must write exactly what inet_ntop does.
std::string InetNtop(int family, const void* bytes) {
  char buffer[INET6_ADDRSTRLEN];
  EXPECT_NE(inet_ntop(family, bytes, buffer, sizeof(buffer)), nullptr);
  return buffer;
}

TEST(IpAddressTest, ToStringIsInetNtopForEveryPatternOfZeroGroups) {
  std::mt19937 random(5952);
  size_t compared = 0;
  // Every subset of the eight groups zero, the others random (sometimes
  // small, sometimes 0xffff, to reach the IPv4-mapped and -compatible forms).
  for (unsigned zeros = 0; zeros < 256; ++zeros) {
    for (int trial = 0; trial < 40; ++trial) {
      std::array<uint8_t, 16> bytes{};
      for (int group = 0; group < 8; ++group) {
        if (zeros & (1u << group)) continue;
        unsigned value = random() & 0xffff;
        if (trial % 4 == 1) value &= 0xf;
        if (trial % 4 == 2) value = 0xffff;
        if (value == 0) value = 1;
        bytes[2 * group] = static_cast<uint8_t>(value >> 8);
        bytes[2 * group + 1] = static_cast<uint8_t>(value);
      }
      const IpAddress address = IpAddress::FromV6Bytes(bytes);
      ASSERT_EQ(address.ToString(), InetNtop(AF_INET6, bytes.data()))
          << "zero groups " << zeros;
      ++compared;
    }
  }
  for (int trial = 0; trial < 20000; ++trial) {
    const uint32_t bits = random();
    std::array<uint8_t, 4> bytes = {
        static_cast<uint8_t>(bits >> 24), static_cast<uint8_t>(bits >> 16),
        static_cast<uint8_t>(bits >> 8), static_cast<uint8_t>(bits)};
    if (trial % 3 == 0) bytes[trial % 4] = static_cast<uint8_t>(trial % 10);
    ASSERT_EQ(IpAddress::FromV4Bytes(bytes).ToString(),
              InetNtop(AF_INET, bytes.data()));
    ++compared;
  }
  EXPECT_EQ(compared, 256u * 40 + 20000);
  EXPECT_EQ(Ip("::ffff:1.2.3.4").ToString(), "::ffff:1.2.3.4");
  EXPECT_EQ(Ip("::").ToString(), "::");
}

TEST(IpNetworkTest, FromAddressMasksEveryPrefixLength) {
  const IpAddress v6 = Ip("fedc:ba98:7654:3210:fedc:ba98:7654:3210");
  const IpAddress v4 = Ip("255.254.253.252");
  for (const IpAddress& address : {v4, v6}) {
    for (int prefix = 0; prefix <= address.bit_length(); ++prefix) {
      absl::StatusOr<IpNetwork> network =
          IpNetwork::FromAddress(address, prefix);
      ASSERT_TRUE(network.ok());
      // Bit by bit: the prefix as in the address, every other bit zero.
      for (int bit = 0; bit < address.bit_length(); ++bit) {
        const bool in =
            (network->address().bytes()[bit / 8] >> (7 - bit % 8)) & 1;
        const bool original = (address.bytes()[bit / 8] >> (7 - bit % 8)) & 1;
        ASSERT_EQ(in, bit < prefix && original) << prefix << " bit " << bit;
      }
      EXPECT_EQ(network->ToString(),
                absl::StrCat(network->address().ToString(), "/", prefix));
    }
  }
}

}  // namespace
}  // namespace geo
