// IP addresses and CIDR networks, parsed once with inet_pton (never through a
// resolver) and kept in the sockaddr form libmaxminddb looks up.
#ifndef GEO_COMMON_IP_ADDRESS_H_
#define GEO_COMMON_IP_ADDRESS_H_

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace geo {

// An IPv4 or IPv6 address. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) keep
// their IPv6 form, so ToString() gives back what the caller meant, and
// Unmapped() yields the IPv4 address for lookups and IPv4 rules. Copyable value
// type; thread-compatible.
class IpAddress {
 public:
  // Accepts dotted-quad IPv4 ("192.0.2.1", four decimal parts only) and any
  // RFC 4291 IPv6 text form. Rejects zone IDs ("fe80::1%eth0"), brackets, CIDR
  // suffixes, surrounding spaces and host names with InvalidArgument naming
  // the text.
  static absl::StatusOr<IpAddress> Parse(absl::string_view text);

  // From network-order bytes.
  static IpAddress FromV4Bytes(const std::array<uint8_t, 4>& bytes);
  static IpAddress FromV6Bytes(const std::array<uint8_t, 16>& bytes);

  // The unspecified IPv4 address 0.0.0.0 (so the type is default-constructible
  // for containers and protos; prefer Parse).
  IpAddress();

  bool is_v4() const { return storage_.ss_family == AF_INET; }
  bool is_v6() const { return storage_.ss_family == AF_INET6; }
  // ::ffff:a.b.c.d.
  bool is_v4_mapped() const;

  // The IPv4 address for an IPv4-mapped IPv6 address, else a copy of this.
  IpAddress Unmapped() const;
  // The IPv4-mapped IPv6 form of an IPv4 address, else a copy of this.
  IpAddress MappedToV6() const;

  // Canonical text: dotted quad, or RFC 5952 IPv6 (inet_ntop).
  std::string ToString() const;

  // Network-order bytes: 4 for IPv4, 16 for IPv6.
  const uint8_t* bytes() const;
  int byte_length() const { return is_v4() ? 4 : 16; }
  int bit_length() const { return is_v4() ? 32 : 128; }

  // For MMDB_lookup_sockaddr and friends.
  const sockaddr* as_sockaddr() const {
    return reinterpret_cast<const sockaddr*>(&storage_);
  }
  const sockaddr_storage& storage() const { return storage_; }

  // Loopback, private (RFC 1918, ULA fc00::/7), link-local, CGNAT
  // (100.64.0.0/10), multicast, unspecified, broadcast, documentation and
  // benchmarking ranges, "this network" 0.0.0.0/8, reserved 240.0.0.0/4,
  // site-local fec0::/10, discard-only 100::/64 and local-use NAT64
  // 64:ff9b:1::/48. IPv4-mapped addresses are judged by their IPv4 address.
  // Addresses here never have a meaningful geo-IP answer.
  bool IsPrivateOrReserved() const;

  friend bool operator==(const IpAddress& a, const IpAddress& b);
  friend bool operator!=(const IpAddress& a, const IpAddress& b) {
    return !(a == b);
  }

 private:
  sockaddr_storage storage_;
};

// A CIDR network such as 10.0.0.0/8 or 2001:db8::/32. Copyable value type.
class IpNetwork {
 public:
  // "address/prefix", or a bare address meaning a single host (/32 or /128).
  // Host bits beyond the prefix are an error (InvalidArgument saying which
  // network was probably meant): in a policy file "10.1.2.3/8" is a typo more
  // often than an intent.
  static absl::StatusOr<IpNetwork> Parse(absl::string_view cidr);

  // The network of `prefix_length` bits that contains `address` (host bits
  // cleared). InvalidArgument when the prefix exceeds the address length.
  static absl::StatusOr<IpNetwork> FromAddress(const IpAddress& address,
                                               int prefix_length);

  // IPv4 networks contain both IPv4 addresses and their IPv4-mapped IPv6
  // forms; IPv6 networks (e.g. ::ffff:0:0/96) contain IPv4 addresses through
  // the mapped form too.
  bool Contains(const IpAddress& address) const;

  const IpAddress& address() const { return address_; }
  int prefix_length() const { return prefix_length_; }
  std::string ToString() const;

  friend bool operator==(const IpNetwork& a, const IpNetwork& b) {
    return a.address_ == b.address_ && a.prefix_length_ == b.prefix_length_;
  }

 private:
  IpNetwork(const IpAddress& address, int prefix_length)
      : address_(address), prefix_length_(prefix_length) {}

  IpAddress address_;
  int prefix_length_;
};

// An address in IPv6 form (IPv4 as ::ffff:a.b.c.d) as two 64-bit halves,
// most significant first: a cheap key for hash maps of networks.
using AddressHalves = std::pair<uint64_t, uint64_t>;
AddressHalves HalvesOf(const IpAddress& address);

// `halves` with every bit after the first `prefix_length` (of 128) cleared.
AddressHalves MaskHalves(AddressHalves halves, int prefix_length);

}  // namespace geo

#endif  // GEO_COMMON_IP_ADDRESS_H_
