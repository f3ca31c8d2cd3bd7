#include "geo/server/lookup_service_harness.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "prometheus/text_serializer.h"
#include "tests/support/test_files.h"

namespace geo {

absl::StatusOr<std::unique_ptr<LookupServiceHarness>>
LookupServiceHarness::Create(const std::string& database,
                             const std::string& policy_yaml,
                             LookupService::Options options,
                             HarnessCallerTrust caller_trust) {
  std::unique_ptr<LookupServiceHarness> harness(new LookupServiceHarness());
  harness->registry_ = std::make_shared<prometheus::Registry>();
  harness->metrics_ =
      std::make_unique<ServerMetrics>(harness->registry_, &harness->clock_);
  GeoStoreOptions store_options;
  store_options.paths = {database};
  store_options.log_reloads = false;
  harness->store_ = std::make_unique<GeoStore>(store_options);
  harness->store_->Reload(database).IgnoreError();  // Missing: no database.
  ServerMetrics* metrics = harness->metrics_.get();
  harness->policies_ =
      std::make_unique<policy::PolicyStore>([metrics](absl::string_view name) {
        return metrics->DecisionCounterFor(name);
      });
  const std::string path = absl::StrCat(testing::NewTempDir(), "/p.yaml");
  if (!testing::WriteFile(path, policy_yaml)) {
    return absl::InternalError(absl::StrCat("cannot write ", path));
  }
  absl::Status loaded = harness->policies_->Reload(path);
  if (!loaded.ok()) return loaded;
  absl::StatusOr<CallerResolver> callers = CallerResolver::Create(
      caller_trust.trusted_proxies, caller_trust.client_ip_headers);
  if (!callers.ok()) return callers.status();
  harness->callers_ = std::make_unique<CallerResolver>(*std::move(callers));
  harness->service_ = std::make_unique<LookupService>(
      harness->store_.get(), harness->policies_.get(), harness->callers_.get(),
      harness->metrics_.get(), &harness->clock_, std::move(options));
  return harness;
}

absl::StatusOr<CityTestAddresses> LoadCityTestAddresses() {
  absl::StatusOr<std::vector<testing::SourceRecord>> records =
      testing::LoadSourceRecords(absl::StrCat(
          testing::MaxmindTestDataDir(), "/source-data/GeoIP2-City-Test.json"));
  if (!records.ok()) return records.status();
  const testing::SourceRecord* located = FindLocatedIpv4(*records);
  if (located == nullptr) {
    return absl::NotFoundError("no IPv4 record with a country");
  }
  CityTestAddresses addresses{located->address, CountryOf(*located), ""};
  const testing::SourceRecord* elsewhere =
      FindLocatedIpv4(*records, /*other_than_country=*/addresses.country);
  if (elsewhere == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        "no IPv4 record with a country other than ", addresses.country));
  }
  addresses.elsewhere = elsewhere->address;
  return addresses;
}

const testing::SourceRecord* FindLocatedIpv4(
    const std::vector<testing::SourceRecord>& records,
    absl::string_view other_than_country) {
  return testing::FindIpv4(
      records, [other_than_country](const testing::SourceRecord& record) {
        const std::string country = CountryOf(record);
        return !country.empty() && country != other_than_country;
      });
}

std::string CountryOf(const testing::SourceRecord& record) {
  return testing::StringAt(record.record, "country.iso_code");
}

std::string LookupServiceHarness::MetricsText() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace geo
