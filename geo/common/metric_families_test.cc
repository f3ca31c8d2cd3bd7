#include "geo/common/metric_families.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "prometheus/metric_family.h"

namespace geo {
namespace {

TEST(MetricFamiliesTest, EachFamilyIsRegisteredWithItsNameHelpAndType) {
  prometheus::Registry registry;
  CounterFamily(registry, "test_events_total", "Events seen").Add({});
  GaugeFamily(registry, "test_level", "Current level").Add({});
  HistogramFamily(registry, "test_duration_seconds", "How long")
      .Add({}, prometheus::Histogram::BucketBoundaries{1.0});

  const std::vector<prometheus::MetricFamily> families = registry.Collect();
  ASSERT_EQ(families.size(), 3u);
  EXPECT_EQ(families[0].name, "test_events_total");
  EXPECT_EQ(families[0].help, "Events seen");
  EXPECT_EQ(families[0].type, prometheus::MetricType::Counter);
  EXPECT_EQ(families[1].name, "test_level");
  EXPECT_EQ(families[1].help, "Current level");
  EXPECT_EQ(families[1].type, prometheus::MetricType::Gauge);
  EXPECT_EQ(families[2].name, "test_duration_seconds");
  EXPECT_EQ(families[2].help, "How long");
  EXPECT_EQ(families[2].type, prometheus::MetricType::Histogram);
}

}  // namespace
}  // namespace geo
