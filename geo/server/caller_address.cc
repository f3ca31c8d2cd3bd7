#include "geo/server/caller_address.h"

#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace geo {
namespace {

// Splits `text` at `separator` outside quoted-strings (RFC 9110 §5.6.4).
std::vector<absl::string_view> SplitOutsideQuotes(absl::string_view text,
                                                  char separator) {
  std::vector<absl::string_view> parts;
  bool quoted = false;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted && c == '\\') {
      ++i;  // The escaped character, whatever it is.
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == separator && !quoted) {
      parts.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  parts.push_back(text.substr(start));
  return parts;
}

// A quoted-string's content, escapes removed; other text as it is.
std::string Unquote(absl::string_view text) {
  if (text.size() < 2 || text.front() != '"' || text.back() != '"') {
    return std::string(text);
  }
  std::string value;
  for (size_t i = 1; i + 1 < text.size(); ++i) {
    if (text[i] == '\\' && i + 2 < text.size()) ++i;
    value.push_back(text[i]);
  }
  return value;
}

// The address in header `name` when it occurs exactly once. A hop that
// sets such a header overwrites what the client sent, leaving one line; two
// lines mean some hop appended to the client's own, and neither can be told
// from the other, so the header counts for nothing. `values` is scratch
// space, reused across calls. On the forward-auth path most of these headers
// are absent, so an absence builds no error.
std::optional<IpAddress> SingleAddress(const ForwardingHeaders& headers,
                                       absl::string_view name,
                                       std::vector<absl::string_view>* values) {
  values->clear();
  headers.Get(name, values);
  if (values->size() != 1) return std::nullopt;
  absl::StatusOr<IpAddress> address =
      ParsePeerAddress(absl::StripAsciiWhitespace(values->front()));
  if (!address.ok()) return std::nullopt;
  return *std::move(address);
}

}  // namespace

void ForwardedForValues(absl::string_view field_value,
                        std::vector<std::string>* hops) {
  for (absl::string_view element : SplitOutsideQuotes(field_value, ',')) {
    for (absl::string_view pair : SplitOutsideQuotes(element, ';')) {
      pair = absl::StripAsciiWhitespace(pair);
      const size_t equals = pair.find('=');
      if (equals == absl::string_view::npos) continue;
      if (!absl::EqualsIgnoreCase(
              absl::StripAsciiWhitespace(pair.substr(0, equals)), "for")) {
        continue;
      }
      hops->push_back(
          Unquote(absl::StripAsciiWhitespace(pair.substr(equals + 1))));
    }
  }
}

absl::StatusOr<CallerResolver> CallerResolver::Create(
    const std::vector<std::string>& trusted_proxies,
    const std::vector<std::string>& client_ip_headers) {
  std::vector<IpNetwork> trusted;
  for (const std::string& text : trusted_proxies) {
    absl::StatusOr<IpNetwork> network = IpNetwork::Parse(text);
    if (!network.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "trusted proxy \"", text, "\": ", network.status().message()));
    }
    trusted.push_back(*std::move(network));
  }
  std::vector<std::string> headers;
  for (const std::string& name : client_ip_headers) {
    if (name.empty() || name.find_first_of(" \t\r\n:") != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("client IP header \"", name, "\" is not a field name"));
    }
    headers.push_back(absl::AsciiStrToLower(name));
  }
  return CallerResolver(std::move(trusted), std::move(headers));
}

bool CallerResolver::Trusted(const IpAddress& address) const {
  for (const IpNetwork& network : trusted_) {
    if (network.Contains(address)) return true;
  }
  return false;
}

IpAddress CallerResolver::Walk(IpAddress caller,
                               const std::vector<std::string>& hops) const {
  for (auto hop = hops.rbegin(); hop != hops.rend(); ++hop) {
    absl::StatusOr<IpAddress> address = ParsePeerAddress(*hop);
    if (!address.ok()) {
      // A garbled entry: nothing left of it can be trusted either, so the
      // last address we could vouch for is the caller.
      return caller;
    }
    caller = *std::move(address);
    if (!Trusted(caller)) return caller;
  }
  return caller;
}

absl::StatusOr<IpAddress> CallerResolver::Resolve(
    absl::string_view peer, const ForwardingHeaders* headers) const {
  absl::StatusOr<IpAddress> caller = ParsePeerAddress(peer);
  if (!caller.ok() || headers == nullptr || !Trusted(*caller)) return caller;
  // The peer is a trusted proxy: what does it say about the client?
  std::vector<absl::string_view> values;
  for (const std::string& name : client_ip_headers_) {
    if (std::optional<IpAddress> address =
            SingleAddress(*headers, name, &values)) {
      return *std::move(address);
    }
  }
  std::vector<std::string> hops;
  values.clear();
  headers->Get("x-forwarded-for", &values);
  for (absl::string_view value : values) {
    for (absl::string_view hop : absl::StrSplit(value, ',')) {
      hop = absl::StripAsciiWhitespace(hop);
      if (!hop.empty()) hops.emplace_back(hop);
    }
  }
  if (!hops.empty()) return Walk(*std::move(caller), hops);
  values.clear();
  headers->Get("forwarded", &values);
  for (absl::string_view value : values) ForwardedForValues(value, &hops);
  if (!hops.empty()) return Walk(*std::move(caller), hops);
  if (std::optional<IpAddress> real_ip =
          SingleAddress(*headers, "x-real-ip", &values)) {
    return *std::move(real_ip);
  }
  return caller;
}

namespace {

absl::Status NotAnAddress(absl::string_view peer) {
  // The text may be attacker-sized (a header): quote a bounded prefix.
  constexpr size_t kQuoted = 64;
  return absl::InvalidArgumentError(absl::StrCat(
      "cannot tell the caller's address from \"", peer.substr(0, kQuoted),
      peer.size() > kQuoted ? "...\"" : "\""));
}

}  // namespace

absl::StatusOr<IpAddress> ParsePeerAddress(absl::string_view peer) {
  absl::string_view text = peer;
  if (absl::ConsumePrefix(&text, "ipv4:")) {
    text = text.substr(0, text.rfind(':'));
  } else if (absl::ConsumePrefix(&text, "ipv6:")) {
    text = absl::StripPrefix(text, "[");
    text = text.substr(0, text.rfind(']'));
  } else if (absl::ConsumePrefix(&text, "[")) {
    // "[v6]" or "[v6]:port", nothing else: an unclosed bracket or junk after
    // it is not an address.
    const size_t close = text.find(']');
    if (close == absl::string_view::npos) return NotAnAddress(peer);
    absl::string_view after = text.substr(close + 1);
    if (!after.empty() &&
        (!absl::ConsumePrefix(&after, ":") || after.empty() ||
         after.find_first_not_of("0123456789") != absl::string_view::npos)) {
      return NotAnAddress(peer);
    }
    text = text.substr(0, close);
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
  if (!address.ok()) return NotAnAddress(peer);
  return address;
}

}  // namespace geo
