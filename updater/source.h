// Where databases come from: the interface shared by MaxMind's update service
// and a private mirror, and the mapping of HTTP statuses to errors that both
// use (which decides what is retried).
#ifndef UPDATER_SOURCE_H_
#define UPDATER_SOURCE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "geo/common/clock.h"
#include "updater/http_client.h"
#include "updater/retry.h"
#include "updater/temp_file.h"

namespace geo::updater {

// What the updater knows about the installed copy of an edition.
struct FetchRequest {
  std::string edition;
  std::string local_md5;  // Empty when nothing is installed.
  std::optional<absl::Time> local_modified_at;
  std::string local_etag;  // From the previous download, if kept.
};

enum class PayloadFormat { kTarGz, kMmdb };

struct FetchResult {
  // The installed copy is current; nothing was downloaded.
  bool up_to_date = false;
  PayloadFormat format = PayloadFormat::kTarGz;
  // MD5 of the .mmdb, from MaxMind's metadata; empty when unknown.
  std::string expected_mmdb_md5;
  // SHA-256 of the downloaded payload (mirror); empty when not configured.
  std::string expected_payload_sha256;
  std::optional<absl::Time> modified_at;
  std::string etag;
  int64_t bytes = 0;
};

// What a source needs to talk to its server.
struct SourceContext {
  HttpClient* http = nullptr;
  const Backoff* backoff = nullptr;
  Clock* clock = nullptr;
  absl::Notification* cancel = nullptr;
  // A 429 asking to wait longer than this is treated as a download limit:
  // fail now rather than block (or loop into the limit).
  absl::Duration max_retry_after = absl::Minutes(10);
};

class DatabaseSource {
 public:
  virtual ~DatabaseSource() = default;
  // Checks for a newer copy of `request.edition` and, when there is one,
  // writes the payload into `payload` (emptied before each attempt).
  virtual absl::StatusOr<FetchResult> Fetch(const FetchRequest& request,
                                            TempFile* payload) = 0;
};

// Short machine-readable failure reasons, used as the `reason` label of the
// failure metric: auth, rate_limited, not_found, http, network, timeout,
// too_large, checksum, invalid_database, disk, lock, cancelled, config, other.
absl::Status WithFailureReason(absl::Status status, absl::string_view reason);
std::string FailureReasonOf(const absl::Status& status);

// Maps a non-2xx response to an error: 401/403 bad credentials (never
// retried), 404 unknown edition or URL, 408 and 5xx transient, 429 transient
// with its Retry-After unless that exceeds `max_retry_after` (or is absent):
// then a download-limit error that is not retried. `what` names the request.
absl::Status StatusForHttpResponse(const HttpResponse& response,
                                   absl::string_view what, absl::Time now,
                                   absl::Duration max_retry_after);

// GETs a small text body (metadata, a checksum file) with the context's
// retries; OutOfRange once it exceeds `max_bytes`. `what` names the request in
// errors and in retry log lines.
absl::StatusOr<std::string> FetchSmallBody(const SourceContext& context,
                                           const HttpRequest& request,
                                           size_t max_bytes,
                                           absl::string_view what);

// GETs `request` into `payload` (emptied before each attempt) with the
// context's retries and returns the last response. Non-2xx answers are
// errors as StatusForHttpResponse says, except a 304 when
// `not_modified_is_success` (the request asked for a copy newer than the
// local one). Retry log lines name the request "<kind> <edition>", errors
// "<kind> of <edition>".
absl::StatusOr<HttpResponse> DownloadPayload(const SourceContext& context,
                                             const HttpRequest& request,
                                             absl::string_view kind,
                                             absl::string_view edition,
                                             bool not_modified_is_success,
                                             TempFile* payload);

}  // namespace geo::updater

#endif  // UPDATER_SOURCE_H_
