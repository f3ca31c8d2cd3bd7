#include "geo/common/ip_address.h"

#include <arpa/inet.h>

#include <cstring>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace geo {
namespace {

// inet_pton needs a NUL-terminated string; anything longer than the longest
// IPv6 text form cannot be an address, which also bounds error messages.
constexpr size_t kMaxAddressText = INET6_ADDRSTRLEN;

const in6_addr& V6(const sockaddr_storage& storage) {
  return reinterpret_cast<const sockaddr_in6&>(storage).sin6_addr;
}

const in_addr& V4(const sockaddr_storage& storage) {
  return reinterpret_cast<const sockaddr_in&>(storage).sin_addr;
}

// True when the first `bits` bits of `a` and `b` agree.
bool PrefixEquals(const uint8_t* a, const uint8_t* b, int bits) {
  const int whole = bits / 8;
  if (std::memcmp(a, b, whole) != 0) return false;
  const int rest = bits % 8;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

// inet_ntop's text form without its sprintf, which was most of a cached
// lookup's time. ip_address_test compares both with inet_ntop over
// every pattern of zero groups.
char* WriteV4(const uint8_t* bytes, char* out) {
  for (int i = 0; i < 4; ++i) {
    if (i != 0) *out++ = '.';
    const unsigned value = bytes[i];
    if (value >= 100) *out++ = static_cast<char>('0' + value / 100);
    if (value >= 10) *out++ = static_cast<char>('0' + value / 10 % 10);
    *out++ = static_cast<char>('0' + value % 10);
  }
  return out;
}

char* WriteHexGroup(unsigned group, char* out) {
  static constexpr char kDigits[] = "0123456789abcdef";
  bool leading = true;
  for (int shift = 12; shift >= 0; shift -= 4) {
    const unsigned digit = (group >> shift) & 0xf;
    if (digit == 0 && leading && shift != 0) continue;
    leading = false;
    *out++ = kDigits[digit];
  }
  return out;
}

// RFC 5952 as glibc's inet_ntop writes it: lowercase, no leading zeros, the
// first longest run of two or more zero groups as "::", and a dotted-quad
// tail for IPv4-compatible (::a.b.c.d) and IPv4-mapped (::ffff:a.b.c.d)
// addresses.
char* WriteV6(const uint8_t* bytes, char* out) {
  unsigned groups[8];
  for (int i = 0; i < 8; ++i)
    groups[i] = (bytes[2 * i] << 8) | bytes[2 * i + 1];
  int best_base = -1, best_length = 0;
  for (int i = 0; i < 8;) {
    if (groups[i] != 0) {
      ++i;
      continue;
    }
    int end = i;
    while (end < 8 && groups[end] == 0) ++end;
    if (end - i > best_length) {
      best_base = i;
      best_length = end - i;
    }
    i = end;
  }
  if (best_length < 2) best_base = -1;
  for (int i = 0; i < 8; ++i) {
    if (best_base != -1 && i >= best_base && i < best_base + best_length) {
      if (i == best_base) *out++ = ':';
      continue;
    }
    if (i != 0) *out++ = ':';
    if (i == 6 && best_base == 0 &&
        (best_length == 6 || (best_length == 5 && groups[5] == 0xffff))) {
      return WriteV4(bytes + 12, out);
    }
    out = WriteHexGroup(groups[i], out);
  }
  if (best_base != -1 && best_base + best_length == 8) *out++ = ':';
  return out;
}

std::string Quote(absl::string_view text) {
  if (text.size() > kMaxAddressText + 8) {
    return absl::StrCat("\"", text.substr(0, kMaxAddressText), "...\"");
  }
  return absl::StrCat("\"", text, "\"");
}

struct Range {
  const char* cidr;
};

// IANA special-purpose registries (RFC 6890 and successors), reduced to the
// ranges that cannot carry a geo-IP answer. 64:ff9b::/96 (well-known NAT64)
// and 2002::/16 (6to4) are deliberately absent: they embed public IPv4
// addresses. 192.88.99.0/24 is the deprecated 6to4 relay anycast block.
constexpr Range kReservedV4[] = {
    {"0.0.0.0/8"},      {"10.0.0.0/8"},     {"100.64.0.0/10"},
    {"127.0.0.0/8"},    {"169.254.0.0/16"}, {"172.16.0.0/12"},
    {"192.0.0.0/24"},   {"192.0.2.0/24"},   {"192.88.99.0/24"},
    {"192.168.0.0/16"}, {"198.18.0.0/15"},  {"198.51.100.0/24"},
    {"203.0.113.0/24"}, {"224.0.0.0/4"},    {"240.0.0.0/4"},
};
constexpr Range kReservedV6[] = {
    {"::/128"},      {"::1/128"},       {"64:ff9b:1::/48"}, {"100::/64"},
    {"2001:2::/48"}, {"2001:db8::/32"}, {"3fff::/20"},      {"fc00::/7"},
    {"fe80::/10"},   {"fec0::/10"},     {"ff00::/8"},
};

template <size_t N>
std::vector<IpNetwork> ParseRanges(const Range (&ranges)[N]) {
  std::vector<IpNetwork> networks;
  networks.reserve(N);
  for (const Range& range : ranges) {
    // The tables above are constants checked by the unit tests; a typo would
    // fail every test that touches this function.
    networks.push_back(*IpNetwork::Parse(range.cidr));
  }
  return networks;
}

}  // namespace

IpAddress::IpAddress() {
  std::memset(&storage_, 0, sizeof(storage_));
  storage_.ss_family = AF_INET;
}

absl::StatusOr<IpAddress> IpAddress::Parse(absl::string_view text) {
  if (text.empty()) {
    return absl::InvalidArgumentError("invalid IP address: empty string");
  }
  // A string_view may hold a NUL that inet_pton would stop at, accepting
  // "1.2.3.4\0junk".
  if (text.size() > kMaxAddressText ||
      text.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid IP address ", Quote(text)));
  }
  char buffer[kMaxAddressText + 1];
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';

  IpAddress address;
  std::memset(&address.storage_, 0, sizeof(address.storage_));
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address.storage_);
  if (inet_pton(AF_INET, buffer, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    return address;
  }
  std::memset(&address.storage_, 0, sizeof(address.storage_));
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address.storage_);
  if (inet_pton(AF_INET6, buffer, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    return address;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("invalid IP address ", Quote(text),
                   ": expected IPv4 dotted quad or IPv6 text form"));
}

IpAddress IpAddress::FromV4Bytes(const std::array<uint8_t, 4>& bytes) {
  IpAddress address;
  std::memcpy(&reinterpret_cast<sockaddr_in&>(address.storage_).sin_addr,
              bytes.data(), 4);
  return address;
}

IpAddress IpAddress::FromV6Bytes(const std::array<uint8_t, 16>& bytes) {
  IpAddress address;
  std::memset(&address.storage_, 0, sizeof(address.storage_));
  auto& v6 = reinterpret_cast<sockaddr_in6&>(address.storage_);
  v6.sin6_family = AF_INET6;
  std::memcpy(&v6.sin6_addr, bytes.data(), 16);
  return address;
}

bool IpAddress::is_v4_mapped() const {
  return is_v6() && IN6_IS_ADDR_V4MAPPED(&V6(storage_));
}

IpAddress IpAddress::Unmapped() const {
  if (!is_v4_mapped()) return *this;
  std::array<uint8_t, 4> bytes;
  std::memcpy(bytes.data(), V6(storage_).s6_addr + 12, 4);
  return FromV4Bytes(bytes);
}

IpAddress IpAddress::MappedToV6() const {
  if (!is_v4()) return *this;
  std::array<uint8_t, 16> bytes{};
  bytes[10] = 0xff;
  bytes[11] = 0xff;
  std::memcpy(bytes.data() + 12, &V4(storage_), 4);
  return FromV6Bytes(bytes);
}

const uint8_t* IpAddress::bytes() const {
  if (is_v4()) return reinterpret_cast<const uint8_t*>(&V4(storage_));
  return V6(storage_).s6_addr;
}

std::string IpAddress::ToString() const {
  char buffer[INET6_ADDRSTRLEN];
  const char* end =
      is_v4() ? WriteV4(bytes(), buffer) : WriteV6(bytes(), buffer);
  return std::string(buffer, static_cast<size_t>(end - buffer));
}

bool IpAddress::IsPrivateOrReserved() const {
  static const std::vector<IpNetwork>* const v4 =
      new std::vector<IpNetwork>(ParseRanges(kReservedV4));
  static const std::vector<IpNetwork>* const v6 =
      new std::vector<IpNetwork>(ParseRanges(kReservedV6));
  const IpAddress address = Unmapped();
  if (address.is_v4()) {
    if (address == FromV4Bytes({255, 255, 255, 255})) return true;
    for (const IpNetwork& network : *v4) {
      if (network.Contains(address)) return true;
    }
    return false;
  }
  for (const IpNetwork& network : *v6) {
    if (network.Contains(address)) return true;
  }
  return false;
}

bool operator==(const IpAddress& a, const IpAddress& b) {
  return a.storage_.ss_family == b.storage_.ss_family &&
         std::memcmp(a.bytes(), b.bytes(), a.byte_length()) == 0;
}

absl::StatusOr<IpNetwork> IpNetwork::Parse(absl::string_view cidr) {
  const size_t slash = cidr.find('/');
  absl::StatusOr<IpAddress> address = IpAddress::Parse(cidr.substr(0, slash));
  if (!address.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("invalid CIDR network ",
                                                   Quote(cidr), ": ",
                                                   address.status().message()));
  }
  if (slash == absl::string_view::npos) {
    return IpNetwork(*address, address->bit_length());
  }
  const absl::string_view prefix_text = cidr.substr(slash + 1);
  int prefix = -1;
  // SimpleAtoi accepts "+8" and " 8"; a prefix is plain digits.
  const bool digits =
      !prefix_text.empty() && prefix_text.size() <= 3 &&
      prefix_text.find_first_not_of("0123456789") == absl::string_view::npos;
  if (!digits || !absl::SimpleAtoi(prefix_text, &prefix) || prefix < 0 ||
      prefix > address->bit_length()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid CIDR network ", Quote(cidr),
                     ": prefix length must be 0..", address->bit_length()));
  }
  absl::StatusOr<IpNetwork> network = FromAddress(*address, prefix);
  if (!network.ok()) return network.status();
  if (network->address() != *address) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid CIDR network ", Quote(cidr), ": host bits set (did you mean ",
        network->ToString(), "?)"));
  }
  return network;
}

absl::StatusOr<IpNetwork> IpNetwork::FromAddress(const IpAddress& address,
                                                 int prefix_length) {
  if (prefix_length < 0 || prefix_length > address.bit_length()) {
    return absl::InvalidArgumentError(
        absl::StrCat("prefix length ", prefix_length, " out of range for ",
                     address.ToString()));
  }
  std::array<uint8_t, 16> bytes{};
  // Whole bytes of the prefix, then its partial byte; the rest stays zero.
  std::memcpy(bytes.data(), address.bytes(), prefix_length / 8);
  if (prefix_length % 8 != 0) {
    bytes[prefix_length / 8] =
        address.bytes()[prefix_length / 8] &
        static_cast<uint8_t>(0xff << (8 - prefix_length % 8));
  }
  if (address.is_v4()) {
    return IpNetwork(
        IpAddress::FromV4Bytes({bytes[0], bytes[1], bytes[2], bytes[3]}),
        prefix_length);
  }
  return IpNetwork(IpAddress::FromV6Bytes(bytes), prefix_length);
}

bool IpNetwork::Contains(const IpAddress& candidate) const {
  if (address_.is_v4()) {
    const IpAddress v4 = candidate.Unmapped();
    if (!v4.is_v4()) return false;
    return PrefixEquals(address_.bytes(), v4.bytes(), prefix_length_);
  }
  const IpAddress v6 = candidate.MappedToV6();
  return PrefixEquals(address_.bytes(), v6.bytes(), prefix_length_);
}

std::string IpNetwork::ToString() const {
  char buffer[INET6_ADDRSTRLEN + 4];
  char* end = address_.is_v4() ? WriteV4(address_.bytes(), buffer)
                               : WriteV6(address_.bytes(), buffer);
  *end++ = '/';
  end = absl::numbers_internal::FastIntToBuffer(prefix_length_, end);
  return std::string(buffer, static_cast<size_t>(end - buffer));
}

AddressHalves HalvesOf(const IpAddress& address) {
  const IpAddress v6 = address.MappedToV6();
  const auto half = [](const uint8_t* bytes) {
    uint64_t value = 0;
    for (int i = 0; i < 8; ++i) value = (value << 8) | bytes[i];
    return value;
  };
  return {half(v6.bytes()), half(v6.bytes() + 8)};
}

AddressHalves MaskHalves(AddressHalves halves, int prefix_length) {
  const auto mask = [](int bits) -> uint64_t {
    if (bits <= 0) return 0;
    if (bits >= 64) return ~uint64_t{0};
    return ~uint64_t{0} << (64 - bits);
  };
  return {halves.first & mask(prefix_length),
          halves.second & mask(prefix_length - 64)};
}

}  // namespace geo
