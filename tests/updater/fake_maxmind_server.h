// A stand-in for MaxMind's update service (and for a mirror) on 127.0.0.1,
// for tests: plain sockets, one thread per connection, HTTP/1.1 with
// Connection: close. Serves the metadata and download endpoints with basic
// auth, static mirror files with ETag/Last-Modified, and scripted responses
// (errors, Retry-After, slow or truncated bodies) queued per path prefix.
#ifndef TESTS_UPDATER_FAKE_MAXMIND_SERVER_H_
#define TESTS_UPDATER_FAKE_MAXMIND_SERVER_H_

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tests/support/loopback_listener.h"

namespace geo::updater::testing {

struct FakeResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Sent as Content-Length when non-negative (larger than the body: the
  // connection closes early, a truncated transfer).
  int64_t content_length = -1;
  // Pause after the headers and between 1 KiB chunks of the body.
  absl::Duration delay_before_body = absl::ZeroDuration();
  absl::Duration delay_per_chunk = absl::ZeroDuration();
};

struct RecordedRequest {
  std::string target;
  std::map<std::string, std::string> headers;  // Lowercase names.
};

// Thread-safe.
class FakeMaxMindServer {
 public:
  // http://127.0.0.1:PORT
  std::string url() const;

  void SetCredentials(std::string account_id, std::string license_key)
      ABSL_LOCKS_EXCLUDED(mu_);
  // MaxMindUpdaterEnvironment for this server and the account it accepts
  // now (SetCredentials).
  std::map<std::string, std::string> UpdaterEnvironment(
      const std::string& edition, const std::string& data_dir) const
      ABSL_LOCKS_EXCLUDED(mu_);
  // Publishes `archive` (a tar.gz) as `edition` with `mmdb_md5` in metadata.
  void SetDatabase(const std::string& edition, std::string archive,
                   std::string mmdb_md5, std::string date = "2024-05-07")
      ABSL_LOCKS_EXCLUDED(mu_);
  // A mirror file at /files/<name>, with a strong ETag from its content.
  void SetFile(const std::string& name, std::string body,
               absl::Time last_modified) ABSL_LOCKS_EXCLUDED(mu_);
  // The next request whose target starts with `prefix` gets `response`
  // (queued responses are used in order, one per request).
  void Enqueue(const std::string& prefix, FakeResponse response)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Every response to targets starting with `prefix` gets these delays.
  void SetDelays(const std::string& prefix, absl::Duration before_body,
                 absl::Duration per_chunk) ABSL_LOCKS_EXCLUDED(mu_);

  std::vector<RecordedRequest> requests() const ABSL_LOCKS_EXCLUDED(mu_);
  int CountRequests(absl::string_view prefix) const ABSL_LOCKS_EXCLUDED(mu_);
  // Blocks (real time) until `count` requests with `prefix` have arrived.
  bool AwaitRequests(absl::string_view prefix, int count,
                     absl::Duration timeout) const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Database {
    std::string archive;
    std::string md5;
    std::string date;
  };
  struct File {
    std::string body;
    std::string etag;
    absl::Time last_modified;
  };
  struct Delays {
    absl::Duration before_body;
    absl::Duration per_chunk;
  };

  void Serve(int fd);
  FakeResponse Respond(const RecordedRequest& request) ABSL_LOCKS_EXCLUDED(mu_);
  void Send(int fd, const FakeResponse& response);

  mutable absl::Mutex mu_;
  std::string account_id_ ABSL_GUARDED_BY(mu_);
  std::string license_key_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Database> databases_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, File> files_ ABSL_GUARDED_BY(mu_);
  std::vector<std::pair<std::string, std::deque<FakeResponse>>> queued_
      ABSL_GUARDED_BY(mu_);
  std::vector<std::pair<std::string, Delays>> delays_ ABSL_GUARDED_BY(mu_);
  std::vector<RecordedRequest> requests_ ABSL_GUARDED_BY(mu_);
  // Last: its destructor joins the connections, which use every member above.
  ::geo::testing::LoopbackListener listener_{[this](int fd) { Serve(fd); }};
};

// The environment of an updater that downloads `edition` into `data_dir`
// from `host` (a URL speaking MaxMind's protocol, such as a
// FakeMaxMindServer's) with this account, plus the test's sanitizer
// settings.
std::map<std::string, std::string> MaxMindUpdaterEnvironment(
    const std::string& host, const std::string& account_id,
    const std::string& license_key, const std::string& edition,
    const std::string& data_dir);

}  // namespace geo::updater::testing

#endif  // TESTS_UPDATER_FAKE_MAXMIND_SERVER_H_
