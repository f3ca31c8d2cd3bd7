// LookupService over real parts, for the geo/server tests that drive it or a
// front end over it: ServerMetrics on a registry of their own, a GeoStore, a
// PolicyStore read from a policy file's text, a CallerResolver (by default
// trusting 10.0.0.0/8 and CF-Connecting-IP), and a FakeClock.
#ifndef GEO_SERVER_LOOKUP_SERVICE_HARNESS_H_
#define GEO_SERVER_LOOKUP_SERVICE_HARNESS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "geo/common/fake_clock.h"
#include "geo/data/geo_store.h"
#include "geo/policy/policy_store.h"
#include "geo/server/caller_address.h"
#include "geo/server/lookup_service.h"
#include "geo/server/server_metrics.h"
#include "prometheus/registry.h"
#include "tests/e2e/source_data.h"

namespace geo {

// Whom the harness's CallerResolver believes about the caller's address.
struct HarnessCallerTrust {
  std::vector<std::string> trusted_proxies = {"10.0.0.0/8"};
  std::vector<std::string> client_ip_headers = {"CF-Connecting-IP"};
};

class LookupServiceHarness {
 public:
  // Loads `database` (a missing file leaves the store without a database)
  // and the policy file `policy_yaml`, which must be valid.
  static absl::StatusOr<std::unique_ptr<LookupServiceHarness>> Create(
      const std::string& database, const std::string& policy_yaml,
      LookupService::Options options = LookupService::Options(),
      HarnessCallerTrust caller_trust = HarnessCallerTrust());

  LookupService* service() { return service_.get(); }
  ServerMetrics* metrics() { return metrics_.get(); }
  FakeClock& clock() { return clock_; }
  // The registry's samples in Prometheus text.
  std::string MetricsText() const;

 private:
  LookupServiceHarness() = default;

  FakeClock clock_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<ServerMetrics> metrics_;
  std::unique_ptr<GeoStore> store_;
  std::unique_ptr<policy::PolicyStore> policies_;
  std::unique_ptr<CallerResolver> callers_;
  std::unique_ptr<LookupService> service_;
};

// Two IPv4 addresses of the City test database whose countries are named and
// differ: what a test looks up, allows or denies by country.
struct CityTestAddresses {
  std::string located;
  // located's country ISO code.
  std::string country;
  // An address in a country other than `country`.
  std::string elsewhere;
};

// Reads the City test database's source data; an error unless it holds two
// such records.
absl::StatusOr<CityTestAddresses> LoadCityTestAddresses();

// The first IPv4 record in `records` whose country is named and is not
// `other_than_country`; null when there is none.
const testing::SourceRecord* FindLocatedIpv4(
    const std::vector<testing::SourceRecord>& records,
    absl::string_view other_than_country = "");

// The record's country ISO code ("" when it names none).
std::string CountryOf(const testing::SourceRecord& record);

}  // namespace geo

#endif  // GEO_SERVER_LOOKUP_SERVICE_HARNESS_H_
