// Who is calling: the address "me" and forward-auth decisions mean, given the
// proxies in front of us.
#ifndef GEO_SERVER_CALLER_ADDRESS_H_
#define GEO_SERVER_CALLER_ADDRESS_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "geo/common/ip_address.h"

namespace geo {

// The header fields (HTTP) or metadata (gRPC) of one call, read on demand:
// most calls never need them.
class ForwardingHeaders {
 public:
  virtual ~ForwardingHeaders() = default;
  // Appends every value of the field `name` (given in lower case; matched
  // case-insensitively), in the order received.
  virtual void Get(absl::string_view name,
                   std::vector<absl::string_view>* values) const = 0;
};

// Resolves the caller from the connection's peer and the forwarding headers.
//
// A forwarding header is only as trustworthy as the proxy that set it: a
// client can send any value it likes. So the peer must be a trusted proxy for
// any header to count, and then the first of these that is present decides:
//   1. the first header named in `client_ip_headers` (a CDN's single-address
//      header such as CF-Connecting-IP), if it holds an address;
//   2. `X-Forwarded-For` (every field line, each a comma list);
//   3. RFC 7239 `Forwarded` (every field line, its `for=` parameters);
//   4. `X-Real-IP`, if it holds an address.
// The single-address headers of 1 and 4 count only when they occur exactly
// once: a proxy that sets one overwrites the client's, and two lines mean a
// hop appended to what the client sent, which is then indistinguishable.
// X-Forwarded-For comes first because every common proxy appends to it,
// while most pass a client's own `Forwarded` or `X-Real-IP` through
// untouched: a header the proxy did not write is the client's to choose, so
// the proxy must remove or overwrite the ones below the one it sets.
// The lists of 2 and 3 are walked from the right (the entry the nearest proxy
// added) past every trusted proxy; the first untrusted address is the caller.
// A garbled or obfuscated entry ("unknown", "_hidden") stops the walk at the
// last address that could be vouched for. With no trusted proxies configured
// the peer is the caller. Immutable and thread-safe.
class CallerResolver {
 public:
  // `trusted_proxies`: CIDRs (a bare address means /32 or /128).
  // `client_ip_headers`: header names, case-insensitive.
  static absl::StatusOr<CallerResolver> Create(
      const std::vector<std::string>& trusted_proxies,
      const std::vector<std::string>& client_ip_headers = {});

  // `peer`: the transport peer (an address, or gRPC's "ipv4:1.2.3.4:5678" /
  // "ipv6:[::1]:5678" form). `headers` may be null (none).
  absl::StatusOr<IpAddress> Resolve(absl::string_view peer,
                                    const ForwardingHeaders* headers) const;

  // Whether `address` is in the trusted proxy list.
  bool Trusted(const IpAddress& address) const;

 private:
  CallerResolver(std::vector<IpNetwork> trusted,
                 std::vector<std::string> client_ip_headers)
      : trusted_(std::move(trusted)),
        client_ip_headers_(std::move(client_ip_headers)) {}

  // The right-most untrusted entry of `hops` (nearest last), starting from
  // `caller` (the trusted peer).
  IpAddress Walk(IpAddress caller, const std::vector<std::string>& hops) const;

  std::vector<IpNetwork> trusted_;
  // Lower case.
  std::vector<std::string> client_ip_headers_;
};

// The address part of a gRPC peer string or "host:port" / "[v6]:port".
absl::StatusOr<IpAddress> ParsePeerAddress(absl::string_view peer);

// The `for=` values of RFC 7239 `Forwarded` field values, in order, unquoted
// ("[2001:db8::1]:443", "192.0.2.1", "unknown"). Appends to `hops`.
void ForwardedForValues(absl::string_view field_value,
                        std::vector<std::string>* hops);

}  // namespace geo

#endif  // GEO_SERVER_CALLER_ADDRESS_H_
