// Who is calling: the address "me" means, given the proxies in front of us.
#ifndef GEO_SERVER_CALLER_ADDRESS_H_
#define GEO_SERVER_CALLER_ADDRESS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "geo/data/ip_address.h"

namespace geo {

// Resolves the caller from the connection's peer and X-Forwarded-For.
//
// X-Forwarded-For is only as trustworthy as the proxy that appended to it: a
// client can send any list it likes. So the peer must be a trusted proxy for
// the header to count at all, and then the list is walked from the right (the
// entry the nearest proxy added) past every trusted proxy; the first untrusted
// address is the caller. With no trusted proxies configured the peer is the
// caller. Immutable and thread-safe.
class CallerResolver {
 public:
  // `trusted_proxies`: CIDRs (a bare address means /32 or /128).
  static absl::StatusOr<CallerResolver> Create(
      const std::vector<std::string>& trusted_proxies);

  // `peer`: the transport peer (an address, or gRPC's "ipv4:1.2.3.4:5678" /
  // "ipv6:[::1]:5678" form). `forwarded_for`: every X-Forwarded-For header or
  // metadata value, in the order received (each may hold a comma list).
  absl::StatusOr<IpAddress> Resolve(
      absl::string_view peer,
      const std::vector<absl::string_view>& forwarded_for) const;

 private:
  explicit CallerResolver(std::vector<IpNetwork> trusted)
      : trusted_(std::move(trusted)) {}
  bool Trusted(const IpAddress& address) const;

  std::vector<IpNetwork> trusted_;
};

// The address part of a gRPC peer string or "host:port" / "[v6]:port".
absl::StatusOr<IpAddress> ParsePeerAddress(absl::string_view peer);

}  // namespace geo

#endif  // GEO_SERVER_CALLER_ADDRESS_H_
