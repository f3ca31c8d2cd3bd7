#include "updater/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"

namespace geo::updater {
namespace {

constexpr size_t kMaxErrorBody = 2048;

struct CurlDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// State shared with curl's callbacks for one transfer.
struct Transfer {
  const BodySink* sink = nullptr;
  absl::Notification* cancel = nullptr;
  int64_t max_body_bytes = 0;
  HttpResponse response;
  absl::Status sink_status;
  bool too_large = false;
};

bool IsSuccess(int status) { return status >= 200 && status < 300; }

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  absl::string_view line(data, size * count);
  if (absl::StartsWith(line, "HTTP/")) {
    // A new response (after a redirect or 100-continue): forget the last one.
    HttpResponse fresh;
    std::vector<absl::string_view> parts = absl::StrSplit(line, ' ');
    if (parts.size() >= 2) {
      int status = 0;
      if (absl::SimpleAtoi(parts[1], &status)) fresh.status = status;
    }
    transfer->response = fresh;
    return size * count;
  }
  size_t colon = line.find(':');
  if (colon == absl::string_view::npos) return size * count;
  std::string name = absl::AsciiStrToLower(line.substr(0, colon));
  std::string value(absl::StripAsciiWhitespace(line.substr(colon + 1)));
  if (name == "etag") transfer->response.etag = value;
  if (name == "last-modified") transfer->response.last_modified = value;
  if (name == "retry-after") transfer->response.retry_after = value;
  return size * count;
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t bytes = size * count;
  absl::string_view chunk(data, bytes);
  if (!IsSuccess(transfer->response.status)) {
    std::string& body = transfer->response.error_body;
    absl::string_view kept =
        chunk.substr(0, kMaxErrorBody - std::min(kMaxErrorBody, body.size()));
    body.append(kept.data(), kept.size());
    return bytes;
  }
  transfer->response.body_bytes += static_cast<int64_t>(bytes);
  if (transfer->response.body_bytes > transfer->max_body_bytes) {
    transfer->too_large = true;
    return CURL_WRITEFUNC_ERROR;
  }
  absl::Status status = (*transfer->sink)(chunk);
  if (!status.ok()) {
    transfer->sink_status = status;
    return CURL_WRITEFUNC_ERROR;
  }
  return bytes;
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* transfer = static_cast<Transfer*>(user);
  return transfer->cancel != nullptr && transfer->cancel->HasBeenNotified() ? 1
                                                                            : 0;
}

long Millis(absl::Duration duration) {
  return static_cast<long>(
      std::max<int64_t>(absl::ToInt64Milliseconds(duration), 1));
}

std::unique_ptr<curl_slist, SlistDeleter> HeaderList(
    const std::vector<std::pair<std::string, std::string>>& fields) {
  std::unique_ptr<curl_slist, SlistDeleter> headers;
  for (const auto& [name, value] : fields) {
    std::string line = absl::StrCat(name, ": ", value);
    headers.reset(curl_slist_append(headers.release(), line.c_str()));
  }
  return headers;
}

// What every request of the client shares: protocols and redirects, TLS
// verification, the proxy, timeouts and limits, the user agent.
void SetClientOptions(CURL* handle, const HttpClientOptions& options) {
  curl_easy_setopt(handle, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(handle, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(handle, CURLOPT_UNRESTRICTED_AUTH, 0L);
  curl_easy_setopt(handle, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(handle, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options.ca_bundle.empty()) {
    curl_easy_setopt(handle, CURLOPT_CAINFO, options.ca_bundle.c_str());
  }
  if (!options.proxy.empty()) {
    // curl copies string options, so the temporary may go.
    const std::string proxy = NormalizeProxy(options.proxy);
    curl_easy_setopt(handle, CURLOPT_PROXY, proxy.c_str());
  }
  if (!options.proxy_user_password.empty()) {
    curl_easy_setopt(handle, CURLOPT_PROXYUSERPWD,
                     options.proxy_user_password.c_str());
  }
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS,
                   Millis(options.connect_timeout));
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, Millis(options.total_timeout));
  curl_easy_setopt(handle, CURLOPT_LOW_SPEED_LIMIT,
                   static_cast<long>(options.low_speed_bytes_per_second));
  curl_easy_setopt(handle, CURLOPT_LOW_SPEED_TIME,
                   static_cast<long>(std::max<int64_t>(
                       absl::ToInt64Seconds(options.low_speed_time), 1)));
  curl_easy_setopt(handle, CURLOPT_MAXFILESIZE_LARGE,
                   static_cast<curl_off_t>(options.max_body_bytes));
  curl_easy_setopt(handle, CURLOPT_USERAGENT, options.user_agent.c_str());
}

// The URL, basic auth and header fields of one request. `headers` (may be
// null) must outlive the transfer.
void SetRequestOptions(CURL* handle, const HttpRequest& request,
                       curl_slist* headers) {
  curl_easy_setopt(handle, CURLOPT_URL, request.url.c_str());
  if (!request.username.empty() || !request.password.empty()) {
    curl_easy_setopt(handle, CURLOPT_HTTPAUTH,
                     static_cast<long>(CURLAUTH_BASIC));
    curl_easy_setopt(handle, CURLOPT_USERNAME, request.username.c_str());
    curl_easy_setopt(handle, CURLOPT_PASSWORD, request.password.c_str());
  }
  if (headers != nullptr) {
    curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers);
  }
}

// Headers, body and progress into `transfer`; curl's error text into
// `error_buffer` (CURL_ERROR_SIZE bytes). Both must outlive the transfer.
void SetTransferCallbacks(CURL* handle, Transfer* transfer,
                          char* error_buffer) {
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(handle, CURLOPT_HEADERDATA, transfer);
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, transfer);
  curl_easy_setopt(handle, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, &OnProgress);
  curl_easy_setopt(handle, CURLOPT_XFERINFODATA, transfer);
}

// curl's error text for `code`, with no URL but the redacted one and no
// password, the request's or the proxy's.
std::string RedactedDetail(CURLcode code, const char* error_buffer,
                           const HttpRequest& request,
                           const HttpClientOptions& options) {
  std::string detail = error_buffer[0] != '\0' ? std::string(error_buffer)
                                               : curl_easy_strerror(code);
  // curl's messages may quote the URL; keep only the redacted form, and make
  // sure the password cannot leak whatever curl says.
  detail = absl::StrReplaceAll(detail, {{request.url, RedactUrl(request.url)}});
  if (!request.password.empty()) {
    detail = absl::StrReplaceAll(detail, {{request.password, "[redacted]"}});
  }
  if (!options.proxy_user_password.empty()) {
    detail = absl::StrReplaceAll(detail,
                                 {{options.proxy_user_password, "[redacted]"}});
  }
  return detail;
}

// The status of a failed transfer: its cause (the sink, the size limit,
// cancellation, a timeout, TLS verification, a bad URL) as its code.
absl::Status TransferError(CURLcode code, const Transfer& transfer,
                           const HttpRequest& request,
                           const HttpClientOptions& options,
                           absl::string_view detail) {
  const std::string where = absl::StrCat("GET ", RedactUrl(request.url));
  if (code == CURLE_WRITE_ERROR && !transfer.sink_status.ok()) {
    return transfer.sink_status;
  }
  if (code == CURLE_FILESIZE_EXCEEDED || transfer.too_large) {
    return absl::OutOfRangeError(
        absl::StrCat(where, ": body larger than the maximum download size of ",
                     options.max_body_bytes, " bytes"));
  }
  if (code == CURLE_ABORTED_BY_CALLBACK) {
    return absl::CancelledError(absl::StrCat(where, ": cancelled"));
  }
  if (code == CURLE_OPERATION_TIMEDOUT) {
    return absl::DeadlineExceededError(absl::StrCat(where, ": ", detail));
  }
  if (code == CURLE_PEER_FAILED_VERIFICATION ||
      code == CURLE_SSL_CACERT_BADFILE || code == CURLE_SSL_CERTPROBLEM) {
    // Not transient: retrying will not fix a certificate.
    return absl::FailedPreconditionError(
        absl::StrCat(where, ": TLS verification failed: ", detail));
  }
  if (code == CURLE_UNSUPPORTED_PROTOCOL || code == CURLE_URL_MALFORMAT) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": ", detail));
  }
  return absl::UnavailableError(absl::StrCat(where, ": ", detail));
}

}  // namespace

std::string RedactUrl(absl::string_view url) {
  url = url.substr(0, std::min(url.find('?'), url.find('#')));
  size_t scheme = url.find("://");
  size_t authority = scheme == absl::string_view::npos ? 0 : scheme + 3;
  size_t at = url.find('@', authority);
  size_t slash = url.find('/', authority);
  if (at != absl::string_view::npos && at < slash) {
    return absl::StrCat(url.substr(0, authority), url.substr(at + 1));
  }
  return std::string(url);
}

std::string NormalizeProxy(absl::string_view proxy) {
  std::string url(absl::StripAsciiWhitespace(proxy));
  if (url.empty()) return url;
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) url = absl::StrCat("http://", url);
  const size_t authority = url.find("://") + 3;
  const size_t end = std::min(url.find('/', authority), url.size());
  absl::string_view host_port =
      absl::string_view(url).substr(authority, end - authority);
  const size_t at = host_port.rfind('@');
  if (at != absl::string_view::npos) host_port.remove_prefix(at + 1);
  // A port follows the last ':' unless that ':' is inside an IPv6 literal.
  const size_t colon = host_port.rfind(':');
  const bool has_port = colon != absl::string_view::npos &&
                        host_port.find(']', colon) == absl::string_view::npos;
  if (!has_port) url.insert(end, ":1080");
  return url;
}

HttpClient::HttpClient(HttpClientOptions options, absl::Notification* cancel)
    : options_(std::move(options)), cancel_(cancel) {
  GlobalInit();
}

absl::StatusOr<HttpResponse> HttpClient::Get(const HttpRequest& request,
                                             const BodySink& sink) {
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (curl == nullptr) return absl::InternalError("curl_easy_init failed");
  CURL* handle = curl.get();
  Transfer transfer;
  transfer.sink = &sink;
  transfer.cancel = cancel_;
  transfer.max_body_bytes = options_.max_body_bytes;
  char error_buffer[CURL_ERROR_SIZE] = {0};
  const std::unique_ptr<curl_slist, SlistDeleter> headers =
      HeaderList(request.headers);

  SetClientOptions(handle, options_);
  SetRequestOptions(handle, request, headers.get());
  SetTransferCallbacks(handle, &transfer, error_buffer);
  const CURLcode code = curl_easy_perform(handle);
  if (code == CURLE_OK) return transfer.response;
  return TransferError(code, transfer, request, options_,
                       RedactedDetail(code, error_buffer, request, options_));
}

}  // namespace geo::updater
