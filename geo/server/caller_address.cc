#include "geo/server/caller_address.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace geo {

absl::StatusOr<CallerResolver> CallerResolver::Create(
    const std::vector<std::string>& trusted_proxies) {
  std::vector<IpNetwork> trusted;
  for (const std::string& text : trusted_proxies) {
    absl::StatusOr<IpNetwork> network = IpNetwork::Parse(text);
    if (!network.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "trusted proxy \"", text, "\": ", network.status().message()));
    }
    trusted.push_back(*std::move(network));
  }
  return CallerResolver(std::move(trusted));
}

bool CallerResolver::Trusted(const IpAddress& address) const {
  for (const IpNetwork& network : trusted_) {
    if (network.Contains(address)) return true;
  }
  return false;
}

absl::StatusOr<IpAddress> CallerResolver::Resolve(
    absl::string_view peer,
    const std::vector<absl::string_view>& forwarded_for) const {
  absl::StatusOr<IpAddress> caller = ParsePeerAddress(peer);
  if (!caller.ok() || !Trusted(*caller)) return caller;
  // The peer is a trusted proxy: walk the hops it reports, nearest first.
  std::vector<absl::string_view> hops;
  for (absl::string_view header : forwarded_for) {
    for (absl::string_view hop : absl::StrSplit(header, ',')) {
      hop = absl::StripAsciiWhitespace(hop);
      if (!hop.empty()) hops.push_back(hop);
    }
  }
  for (auto hop = hops.rbegin(); hop != hops.rend(); ++hop) {
    absl::StatusOr<IpAddress> address = ParsePeerAddress(*hop);
    if (!address.ok()) {
      // A garbled entry: nothing left of it can be trusted either, so the
      // last address we could vouch for is the caller.
      return caller;
    }
    caller = *std::move(address);
    if (!Trusted(*caller)) return caller;
  }
  return caller;
}

absl::StatusOr<IpAddress> ParsePeerAddress(absl::string_view peer) {
  absl::string_view text = peer;
  if (absl::ConsumePrefix(&text, "ipv4:")) {
    text = text.substr(0, text.rfind(':'));
  } else if (absl::ConsumePrefix(&text, "ipv6:")) {
    text = absl::StripPrefix(text, "[");
    text = text.substr(0, text.rfind(']'));
  } else if (absl::ConsumePrefix(&text, "[")) {
    text = text.substr(0, text.find(']'));
  } else if (size_t colon = text.find(':');
             colon != absl::string_view::npos &&
             text.find(':', colon + 1) == absl::string_view::npos) {
    text = text.substr(0, colon);  // "1.2.3.4:5678"
  }
  // "%25" is how gRPC writes a zone index in a peer ("fe80::1%25eth0").
  if (size_t zone = text.find('%'); zone != absl::string_view::npos) {
    text = text.substr(0, zone);
  }
  absl::StatusOr<IpAddress> address = IpAddress::Parse(text);
  if (!address.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot tell the caller's address from \"", peer, "\""));
  }
  return address;
}

}  // namespace geo
