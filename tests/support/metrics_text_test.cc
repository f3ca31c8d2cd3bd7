#include "tests/support/metrics_text.h"

#include "gtest/gtest.h"

namespace geo::testing {
namespace {

constexpr char kExposition[] =
    "# HELP x_total Things.\n"
    "# TYPE x_total counter\n"
    "x_total{result=\"success\"} 3\n"
    "x_total{result=\"failure\"} 2.5\n"
    "x_total_other 100\n"
    "y1 6\n"
    "y 7\n";

TEST(MetricsTextTest, SampleMatchesTheWholeSeries) {
  EXPECT_EQ(MetricSample(kExposition, "x_total{result=\"success\"}"), 3);
  EXPECT_EQ(MetricSample(kExposition, "x_total{result=\"failure\"}"), 2.5);
  EXPECT_EQ(MetricSample(kExposition, "y"), 7) << "not y1, a longer name";
  EXPECT_EQ(MetricSample(kExposition, "x_total"), -1) << "labels differ";
  EXPECT_EQ(MetricSample(kExposition, "z"), -1);
}

TEST(MetricsTextTest, SumAddsEveryLabelSetOfOneMetric) {
  EXPECT_EQ(MetricSum(kExposition, "x_total"), 5.5);
  EXPECT_EQ(MetricSum(kExposition, "y"), 7);
  EXPECT_EQ(MetricSum(kExposition, "z"), 0);
}

}  // namespace
}  // namespace geo::testing
