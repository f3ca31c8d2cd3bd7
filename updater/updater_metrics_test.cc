#include "updater/updater_metrics.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace geo::updater {
namespace {

using ::testing::HasSubstr;

TEST(UpdaterMetricsTest, RecordsByEditionAndResult) {
  UpdaterMetrics metrics(std::make_shared<prometheus::Registry>(),
                         {"GeoLite2-City"});
  metrics.RecordCheck("GeoLite2-City", CheckResult::kUpdated);
  metrics.RecordDownload("GeoLite2-City", true, 1234);
  metrics.RecordFailure("GeoLite2-City", "auth");
  metrics.RecordFailure("GeoLite2-City", "made-up");
  metrics.RecordSuccess(absl::FromUnixSeconds(1715083200));
  metrics.RecordCheck("unknown-edition", CheckResult::kFailed);  // Ignored.
  std::string text = metrics.Serialize();
  for (
      const char* sample :
      {R"(geo_updater_checks_total{edition="GeoLite2-City",result="updated"} 1)",
       R"(geo_updater_downloads_total{edition="GeoLite2-City",result="ok"} 1)",
       R"(geo_updater_downloaded_bytes_total{edition="GeoLite2-City"} 1234)",
       R"(geo_updater_failures_total{edition="GeoLite2-City",reason="auth"} 1)",
       R"(geo_updater_failures_total{edition="GeoLite2-City",reason="other"} 1)",
       "geo_updater_last_success_timestamp_seconds 1715083200"}) {
    EXPECT_THAT(text, HasSubstr(sample));
  }
}

}  // namespace
}  // namespace geo::updater
