#include "geo/server/server_metrics.h"

#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "geo/common/fake_clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/text_serializer.h"
#include "tests/support/metrics_text.h"

namespace geo {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class ServerMetricsTest : public ::testing::Test {
 protected:
  std::string Scrape() {
    std::ostringstream out;
    prometheus::TextSerializer().Serialize(out,
                                           metrics_.ScrapeTarget()->Collect());
    return out.str();
  }

  // The value of the sample `series` (name{labels}); a failure when absent.
  double Sample(const std::string& series) {
    const std::string exposition = Scrape();
    const double value = testing::MetricSample(exposition, series);
    if (value == -1) {
      ADD_FAILURE() << "no sample " << series << " in\n" << exposition;
    }
    return value;
  }

  FakeClock clock_;
  ServerMetrics metrics_{std::make_shared<prometheus::Registry>(), &clock_};
};

TEST_F(ServerMetricsTest, CallsCountByProtocolStatusAndResult) {
  const std::string found =
      "geofence_lookups_total{protocol=\"http\",result=\"found\",status="
      "\"OK\"}";
  const std::string invalid =
      "geofence_lookups_total{protocol=\"grpc\",result=\"error\",status="
      "\"INVALID_ARGUMENT\"}";
  const double found_before = Sample(found);
  const double invalid_before = Sample(invalid);
  metrics_.RecordCall(Protocol::kHttp, Method::kLookup, absl::StatusCode::kOk,
                      Result::kFound, absl::Microseconds(30));
  metrics_.RecordCall(Protocol::kHttp, Method::kLookup, absl::StatusCode::kOk,
                      Result::kFound, absl::Microseconds(30));
  metrics_.RecordCall(Protocol::kGrpc, Method::kCheck,
                      absl::StatusCode::kInvalidArgument, Result::kAllowed,
                      absl::Microseconds(5));
  EXPECT_EQ(Sample(found) - found_before, 2);
  EXPECT_EQ(Sample(invalid) - invalid_before, 1);
}

TEST_F(ServerMetricsTest, LatencyHistogramHasSubMillisecondBuckets) {
  metrics_.RecordCall(Protocol::kGrpc, Method::kLookup, absl::StatusCode::kOk,
                      Result::kFound, absl::Microseconds(20));
  const std::string prefix =
      "geofence_lookup_duration_seconds_bucket{method=\"Lookup\",protocol="
      "\"grpc\",";
  EXPECT_EQ(Sample(prefix + "le=\"1e-05\"}"), 0);
  EXPECT_EQ(Sample(prefix + "le=\"2.5e-05\"}"), 1);
  EXPECT_EQ(Sample(prefix + "le=\"1\"}"), 1);
}

// The labels dashboards and alerts select on.
TEST_F(ServerMetricsTest, EachMethodAndResultHasItsLabel) {
  const struct {
    Method method;
    const char* label;
  } kMethods[] = {{Method::kLookup, "Lookup"},
                  {Method::kBatchLookup, "BatchLookup"},
                  {Method::kCheck, "Check"},
                  {Method::kListDatabases, "ListDatabases"},
                  {Method::kAuthorize, "Authorize"}};
  for (const auto& [method, label] : kMethods) {
    SCOPED_TRACE(label);
    metrics_.RecordCall(Protocol::kHttp, method, absl::StatusCode::kOk,
                        Result::kNone, absl::Microseconds(1));
    EXPECT_EQ(Sample(absl::StrCat("geofence_lookup_duration_seconds_count{"
                                  "method=\"",
                                  label, "\",protocol=\"http\"}")),
              1);
  }
  const struct {
    Result result;
    absl::StatusCode status;
    const char* label;
  } kResults[] = {{Result::kFound, absl::StatusCode::kOk, "found"},
                  {Result::kNotFound, absl::StatusCode::kOk, "not_found"},
                  {Result::kAllowed, absl::StatusCode::kOk, "allowed"},
                  {Result::kDenied, absl::StatusCode::kOk, "denied"},
                  {Result::kNone, absl::StatusCode::kOk, "none"},
                  {Result::kError, absl::StatusCode::kInternal, "error"}};
  for (const auto& [result, status, label] : kResults) {
    SCOPED_TRACE(label);
    const std::string series = absl::StrCat(
        "geofence_lookups_total{protocol=\"grpc\",result=\"", label,
        "\",status=\"", status == absl::StatusCode::kOk ? "OK" : "INTERNAL",
        "\"}");
    const double before = Sample(series);
    metrics_.RecordCall(Protocol::kGrpc, Method::kLookup, status, result,
                        absl::Microseconds(1));
    EXPECT_EQ(Sample(series) - before, 1);
  }
}

TEST_F(ServerMetricsTest, CountriesAreBoundedToIsoCodesAndUnknown) {
  metrics_.RecordCountry("us");
  metrics_.RecordCountry("US");
  metrics_.RecordCountry("");
  metrics_.RecordCountry("not-a-code");
  metrics_.RecordCountry("Z9");
  EXPECT_EQ(Sample("geofence_lookups_by_country_total{country=\"US\"}"), 2);
  EXPECT_EQ(Sample("geofence_lookups_by_country_total{country=\"unknown\"}"),
            3);
  EXPECT_THAT(Scrape(), Not(HasSubstr("not-a-code")));
}

TEST_F(ServerMetricsTest, InFlightGaugeFollowsScopes) {
  const std::string series = "geofence_requests_in_flight{protocol=\"grpc\"}";
  {
    ServerMetrics::InFlight first(&metrics_, Protocol::kGrpc);
    ServerMetrics::InFlight second(&metrics_, Protocol::kGrpc);
    EXPECT_EQ(Sample(series), 2);
  }
  EXPECT_EQ(Sample(series), 0);
}

TEST_F(ServerMetricsTest, DatabaseAgeIsComputedAtScrapeTime) {
  const absl::Time built = clock_.Now() - absl::Hours(24);
  metrics_.RecordDatabaseReload("GeoLite2-City", built, true);
  metrics_.RecordDatabaseReload("GeoLite2-City", built, false);
  EXPECT_EQ(Sample("geofence_database_build_timestamp_seconds{type="
                   "\"GeoLite2-City\"}"),
            absl::ToUnixSeconds(built));
  EXPECT_EQ(Sample("geofence_database_age_seconds{type=\"GeoLite2-City\"}"),
            86400);
  clock_.Advance(absl::Hours(1));
  EXPECT_EQ(Sample("geofence_database_age_seconds{type=\"GeoLite2-City\"}"),
            90000);
  EXPECT_EQ(Sample("geofence_database_reloads_total{result=\"success\"}"), 1);
  EXPECT_EQ(Sample("geofence_database_reloads_total{result=\"failure\"}"), 1);
}

TEST_F(ServerMetricsTest, WatcherAndPolicyCounters) {
  metrics_.RecordWatcherError("stat");
  metrics_.RecordWatcherError("rejected");
  metrics_.RecordWatcherError("rejected");
  metrics_.RecordPolicyReload(false);
  EXPECT_EQ(Sample("geofence_watcher_errors_total{reason=\"stat\"}"), 1);
  EXPECT_EQ(Sample("geofence_watcher_errors_total{reason=\"rejected\"}"), 2);
  EXPECT_EQ(Sample("geofence_policy_reloads_total{result=\"failure\"}"), 1);
  EXPECT_EQ(Sample("geofence_policy_reloads_total{result=\"success\"}"), 0);
}

}  // namespace
}  // namespace geo
