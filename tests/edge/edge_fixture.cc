#include "tests/edge/edge_fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "geo/common/file_descriptor.h"
#include "tests/support/test_files.h"

namespace geo::testing {
namespace {

EdgeAddress AddressOf(const SourceRecord& record) {
  EdgeAddress address;
  address.ip = record.address;
  address.country = StringAt(record.record, "country.iso_code");
  const std::string subdivision =
      StringAt(record.record, "subdivisions.0.iso_code");
  if (!subdivision.empty()) {
    address.subdivision = absl::StrCat(address.country, "-", subdivision);
  }
  address.city = StringAt(record.record, "city.names.en");
  return address;
}

bool HasNonAscii(absl::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return true;
  }
  return false;
}

// True once `bytes` hold a header block and the Content-Length it names.
bool AnswerComplete(absl::string_view bytes) {
  const size_t end = bytes.find("\r\n\r\n");
  if (end == absl::string_view::npos) return false;
  for (absl::string_view line : absl::StrSplit(bytes.substr(0, end), "\r\n")) {
    if (absl::StartsWithIgnoreCase(line, "content-length:")) {
      size_t length = 0;
      if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(line.substr(15)),
                            &length)) {
        return false;
      }
      return bytes.size() >= end + 4 + length;
    }
  }
  return false;
}

}  // namespace

absl::StatusOr<EdgeAddresses> PickEdgeAddresses() {
  absl::StatusOr<std::vector<SourceRecord>> city = LoadSourceRecords(
      absl::StrCat(MaxmindTestDataDir(), "/source-data/GeoIP2-City-Test.json"));
  if (!city.ok()) return city.status();
  const SourceRecord* denied = FindIpv4(*city, [](const SourceRecord& r) {
    return !StringAt(r.record, "country.iso_code").empty();
  });
  if (denied == nullptr) return absl::NotFoundError("no IPv4 record");
  const std::string denied_country =
      StringAt(denied->record, "country.iso_code");
  const SourceRecord* accented = FindIpv4(*city, [&](const SourceRecord& r) {
    const std::string country = StringAt(r.record, "country.iso_code");
    return !country.empty() && country != denied_country &&
           HasNonAscii(StringAt(r.record, "city.names.en"));
  });
  if (accented == nullptr) {
    return absl::NotFoundError("no IPv4 record with a non-ASCII city name");
  }
  const std::string accented_country =
      StringAt(accented->record, "country.iso_code");
  const SourceRecord* allowed = FindIpv4(*city, [&](const SourceRecord& r) {
    const std::string country = StringAt(r.record, "country.iso_code");
    return !country.empty() && country != denied_country &&
           country != accented_country &&
           !StringAt(r.record, "subdivisions.0.iso_code").empty() &&
           !StringAt(r.record, "city.names.en").empty() &&
           !HasNonAscii(StringAt(r.record, "city.names.en"));
  });
  if (allowed == nullptr) {
    return absl::NotFoundError("no IPv4 record with a subdivision and city");
  }
  return EdgeAddresses{AddressOf(*denied), AddressOf(*allowed),
                       AddressOf(*accented)};
}

std::string EdgePolicyYaml(const EdgeAddresses& a, bool deny_accented) {
  const std::string default_deny =
      deny_accented ? absl::StrCat(a.denied.country, ", ", a.accented.country)
                    : a.denied.country;
  return absl::StrCat(
      "policies:\n"
      "  default:\n"
      "    default_action: allow\n"
      "    deny: {countries: [",
      default_deny,
      "]}\n"
      "  admin:\n"
      "    default_action: deny\n"
      "    allow: {countries: [",
      a.allowed.country,
      "]}\n"
      "  admin-writes:\n"
      "    default_action: deny\n"
      "  report:\n"
      "    default_action: allow\n"
      "    deny: {countries: [",
      a.allowed.country,
      "]}\n"
      "    dry_run: true\n"
      "  shop-report:\n"
      "    default_action: allow\n"
      "  open:\n"
      "    default_action: deny\n"
      "    on_error: allow\n"
      "  strict:\n"
      "    default_action: deny\n"
      "    on_error: error\n"
      "routes:\n"
      "  - path_prefix: /admin\n"
      "    policy: admin\n"
      "  - path_prefix: /admin\n"
      "    methods: [POST]\n"
      "    policy: admin-writes\n"
      "  - host: \"*.example.com\"\n"
      "    path_prefix: /report\n"
      "    policy: report\n"
      "  - host: shop.example.com\n"
      "    path_prefix: /report\n"
      "    policy: shop-report\n"
      "  - path_prefix: /open\n"
      "    policy: open\n"
      "  - path_prefix: /strict\n"
      "    policy: strict\n"
      "default_policy: default\n");
}

absl::StatusOr<ServerProcess> StartEdgeServer(const std::string& policy_path,
                                              bool databases) {
  const std::string dir = NewTempDir();
  const std::string city = absl::StrCat(dir, "/GeoIP2-City-Test.mmdb");
  const std::string asn = absl::StrCat(dir, "/GeoLite2-ASN-Test.mmdb");
  for (const std::string& path : {city, asn}) {
    const std::string name = path.substr(dir.size() + 1);
    if (databases && !CopyMaxmindTestDatabase(name, path)) {
      return absl::InternalError(absl::StrCat("cannot copy ", name));
    }
  }
  return ServerProcess::Start(
      GeoServerBinary(),
      {absl::StrCat("--db=", city, ",", asn),
       absl::StrCat("--policy=", policy_path), "--trusted_proxies=127.0.0.1/32",
       "--poll_interval=50ms"});
}

absl::StatusOr<std::unique_ptr<EdgeSuite>> StartEdgeSuite() {
  absl::StatusOr<EdgeAddresses> addresses = PickEdgeAddresses();
  if (!addresses.ok()) return addresses.status();
  const std::string policy_path = NewTempDir() + "/policy.yaml";
  if (!ReplaceFile(policy_path, EdgePolicyYaml(*addresses))) {
    return absl::InternalError(absl::StrCat("cannot write ", policy_path));
  }
  absl::StatusOr<ServerProcess> server = StartEdgeServer(policy_path);
  if (!server.ok()) return server.status();
  return std::unique_ptr<EdgeSuite>(
      new EdgeSuite{*std::move(addresses), policy_path, *std::move(server)});
}

std::string PercentEncoded(absl::string_view text) {
  std::string out;
  for (const unsigned char byte : text) {
    if (byte < 0x20 || byte >= 0x7f || byte == '%') {
      absl::StrAppendFormat(&out, "%%%02X", byte);
    } else {
      out.push_back(static_cast<char>(byte));
    }
  }
  return out;
}

std::string RawResponse::Header(absl::string_view name,
                                absl::string_view missing) const {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) return value;
  }
  return std::string(missing);
}

int RawResponse::HeaderCount(absl::string_view name) const {
  int count = 0;
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) ++count;
  }
  return count;
}

absl::StatusOr<RawResponse> ParseResponse(absl::string_view bytes) {
  const size_t end = bytes.find("\r\n\r\n");
  if (end == absl::string_view::npos) {
    return absl::DataLossError(
        absl::StrCat("no complete header block in: ", bytes.substr(0, 200)));
  }
  RawResponse response;
  response.head = std::string(bytes.substr(0, end + 2));
  response.body = std::string(bytes.substr(end + 4));
  std::vector<absl::string_view> lines =
      absl::StrSplit(bytes.substr(0, end), "\r\n");
  std::vector<absl::string_view> status_line =
      absl::StrSplit(lines[0], absl::MaxSplits(' ', 2));
  if (status_line.size() < 2 || !absl::StartsWith(status_line[0], "HTTP/1.") ||
      !absl::SimpleAtoi(status_line[1], &response.status)) {
    return absl::DataLossError(absl::StrCat("bad status line: ", lines[0]));
  }
  for (size_t i = 1; i < lines.size(); ++i) {
    const size_t colon = lines[i].find(':');
    if (colon == absl::string_view::npos) {
      return absl::DataLossError(absl::StrCat("bad header line: ", lines[i]));
    }
    response.headers.emplace_back(
        std::string(lines[i].substr(0, colon)),
        std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1))));
  }
  return response;
}

absl::StatusOr<RawResponse> RawExchange(int port, absl::string_view request,
                                        const std::string& source,
                                        absl::Duration timeout) {
  FileDescriptor socket_fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!socket_fd.valid()) return absl::InternalError("socket failed");
  const int fd = socket_fd.get();
  sockaddr_in local{};
  local.sin_family = AF_INET;
  if (inet_pton(AF_INET, source.c_str(), &local.sin_addr) != 1 ||
      bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot bind the client to ", source));
  }
  sockaddr_in remote{};
  remote.sin_family = AF_INET;
  remote.sin_port = htons(port);
  remote.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&remote), sizeof(remote)) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot connect to ", port));
  }
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n =
        send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // The server may answer (431) and close early.
    sent += n;
  }
  std::string bytes;
  const absl::Time deadline = absl::Now() + timeout;
  char buffer[16384];
  while (true) {
    const int64_t left = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (left <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) <= 0) break;
    ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) break;  // EOF, or a reset after the answer
    bytes.append(buffer, n);
    if (AnswerComplete(bytes)) break;
  }
  if (bytes.empty()) {
    return absl::UnavailableError("no answer before the connection ended");
  }
  return ParseResponse(bytes);
}

}  // namespace geo::testing
