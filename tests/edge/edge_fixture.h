// What the edge tests share: addresses with known locations picked from
// MaxMind's source data, the policy file they run geo with, a geo_server
// started for forward auth, and a raw HTTP exchange that keeps every byte of
// the answer's header block (curl would hide what a header injection did).
#ifndef TESTS_EDGE_EDGE_FIXTURE_H_
#define TESTS_EDGE_EDGE_FIXTURE_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/e2e/source_data.h"
#include "tests/support/server_process.h"

namespace geo::testing {

struct EdgeAddress {
  std::string ip;
  std::string country;      // ISO 3166-1
  std::string subdivision;  // ISO 3166-2 ("US-WA"), empty when none
  std::string city;         // English name, empty when none
};

// Three IPv4 addresses of GeoIP2-City-Test in three different countries:
// `denied` (its country is on the default policy's deny list), `allowed`
// (with a subdivision and a city) and `accented` (a city name outside ASCII).
struct EdgeAddresses {
  EdgeAddress denied;
  EdgeAddress allowed;
  EdgeAddress accented;
};
absl::StatusOr<EdgeAddresses> PickEdgeAddresses();

// The policy file of the edge tests (YAML), named policies and routes:
//   default       allow, deny [denied.country] (+ [accented.country] when
//                 `deny_accented`, which the reload test toggles)
//   admin         /admin: deny, allow [allowed.country]
//   admin-writes  /admin POST: deny everyone
//   report        *.example.com /report: dry run, deny [allowed.country]
//   shop-report   shop.example.com /report: allow (exact beats wildcard)
//   open          /open: deny, on_error allow
//   strict        /strict: deny, on_error error
std::string EdgePolicyYaml(const EdgeAddresses& addresses,
                           bool deny_accented = false);

// geo_server with GeoIP2-City-Test and GeoLite2-ASN-Test (copies in a temp
// dir; `databases` false leaves both files missing: no database is loaded
// until a test puts them there), `policy_path`,
// and 127.0.0.1/32 as the trusted proxy (the test clients and the ingresses
// all connect from there).
absl::StatusOr<ServerProcess> StartEdgeServer(const std::string& policy_path,
                                              bool databases = true);

// What a suite shares: the addresses, the edge policy written for them (a
// test may replace the file to see a reload) and geo_server running it.
struct EdgeSuite {
  EdgeAddresses addresses;
  std::string policy_path;
  ServerProcess server;
};

// Picks the addresses, writes the policy and starts the server.
absl::StatusOr<std::unique_ptr<EdgeSuite>> StartEdgeSuite();

// A fixture whose tests share one EdgeSuite, started before the suite's
// first test and stopped after its last. `Base` is ::testing::Test or a
// ::testing::TestWithParam.
template <typename Base>
class EdgeSuiteTest : public Base {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<EdgeSuite>> suite = StartEdgeSuite();
    ASSERT_TRUE(suite.ok()) << suite.status();
    suite_ = suite->release();
    addresses_ = &suite_->addresses;
    policy_path_ = &suite_->policy_path;
    server_ = &suite_->server;
  }
  static void TearDownTestSuite() {
    delete suite_;
    suite_ = nullptr;
    server_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(server_, nullptr) << "geo_server did not start";
  }

  static inline EdgeSuite* suite_ = nullptr;
  static inline EdgeAddresses* addresses_ = nullptr;
  static inline std::string* policy_path_ = nullptr;
  static inline ServerProcess* server_ = nullptr;
};

// `text` percent-encoded the way geo writes header values: bytes outside
// printable ASCII, and '%', as %XX (upper-case hex).
std::string PercentEncoded(absl::string_view text);

struct RawResponse {
  int status = 0;
  std::string head;  // status line and header lines, CRLFs included
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // The first value of header `name` (case-insensitive); `missing` if absent.
  std::string Header(absl::string_view name,
                     absl::string_view missing = "<missing>") const;
  int HeaderCount(absl::string_view name) const;
};

// Sends `request` (raw bytes: the test writes `Connection: close`) to
// 127.0.0.1:port from `source` (another loopback address plays an untrusted
// peer) and reads the answer until the server closes.
absl::StatusOr<RawResponse> RawExchange(
    int port, absl::string_view request,
    const std::string& source = "127.0.0.1",
    absl::Duration timeout = absl::Seconds(20));

// Parses an HTTP/1.x response (status line, headers, body).
absl::StatusOr<RawResponse> ParseResponse(absl::string_view bytes);

}  // namespace geo::testing

#endif  // TESTS_EDGE_EDGE_FIXTURE_H_
