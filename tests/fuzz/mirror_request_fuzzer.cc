// Requests to the updater's serve mode (MirrorHandler::Answer): the first
// line is the request target, each further line a "Name: value" header. The
// catalogue is empty and credentials are required, so the oracle is exact:
// probes answer without credentials, every database endpoint answers 401
// unless the Authorization header carries exactly the configured pair, and
// nothing is ever 200 but a probe or the (empty) SHA256SUMS index, since
// there is nothing to serve.
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "geo/http/http_message.h"
#include "tests/fuzz/fuzz_check.h"
#include "updater/installed_databases.h"
#include "updater/mirror_server.h"

namespace {

using geo::updater::MirrorEndpoint;

const geo::updater::MirrorHandler& Handler() {
  static const auto* databases = new geo::updater::InstalledDatabases(
      "/nonexistent", {"GeoLite2-City"},
      [](const std::string&, const std::string&) { return absl::OkStatus(); });
  static const auto* handler = [] {
    geo::updater::MirrorServerOptions options;
    options.account_id = "42";
    options.license_key = "key";
    return new geo::updater::MirrorHandler(options, databases, nullptr, nullptr,
                                           nullptr);
  }();
  return *handler;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<absl::string_view> lines = absl::StrSplit(input, '\n');
  const std::string target(lines[0]);
  std::vector<std::pair<std::string, std::string>> fields;
  bool authorized = false;
  for (size_t i = 1; i < lines.size(); ++i) {
    const size_t colon = lines[i].find(':');
    if (colon == absl::string_view::npos) continue;
    fields.emplace_back(std::string(lines[i].substr(0, colon)),
                        std::string(lines[i].substr(colon + 1)));
  }
  geo::http::HttpHeaderList headers(fields);
  geo::http::HttpRequest request("GET", target, &headers, "", "127.0.0.1");
  // "NDI6a2V5" is base64 of "42:key": no header without it can be let in.
  if (auto value = request.Header("Authorization")) {
    authorized = absl::StrContains(*value, "NDI6a2V5");
  }
  geo::http::HttpResponse response;
  const MirrorEndpoint endpoint = Handler().Answer(request, &response);
  const int status = response.status();
  const bool probe = endpoint == MirrorEndpoint::kHealth ||
                     endpoint == MirrorEndpoint::kMetrics;
  FUZZ_CHECK(status == 200 || status == 304 || status == 400 || status == 401 ||
                 status == 404 || status == 503,
             absl::StrCat(status, " for ", target));
  if (endpoint == MirrorEndpoint::kOther) {
    FUZZ_CHECK(status == 404, absl::StrCat(status, " for ", target));
  } else if (!probe) {
    if (!authorized)
      FUZZ_CHECK(status == 401, absl::StrCat(status, " for ", target));
    FUZZ_CHECK(
        status != 200 || absl::string_view(request.path()) == "/SHA256SUMS",
        absl::StrCat(status, " for ", target));
  }
  return 0;
}
