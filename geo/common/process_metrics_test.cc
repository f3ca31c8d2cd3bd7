#include "geo/common/process_metrics.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/test_files.h"

namespace geo {
namespace {

using ::geo::testing::NewTempDir;
using ::geo::testing::WriteFile;
using ::testing::Contains;
using ::testing::Pair;

// name → (type, value) of every family, each with one sample.
std::map<std::string, std::pair<prometheus::MetricType, double>> ByName(
    const std::vector<prometheus::MetricFamily>& families) {
  std::map<std::string, std::pair<prometheus::MetricType, double>> values;
  for (const prometheus::MetricFamily& family : families) {
    EXPECT_EQ(family.metric.size(), 1u) << family.name;
    if (family.metric.empty()) continue;
    const prometheus::ClientMetric& metric = family.metric.front();
    values[family.name] = {family.type,
                           family.type == prometheus::MetricType::Counter
                               ? metric.counter.value
                               : metric.gauge.value};
  }
  return values;
}

TEST(ProcessMetricsTest, ReadsTheFakeProcFiles) {
  const std::string root = NewTempDir();
  const std::string process = root + "/self";
  ASSERT_EQ(mkdir(process.c_str(), 0755), 0);
  ASSERT_EQ(mkdir((process + "/fd").c_str(), 0755), 0);
  for (int fd = 0; fd < 7; ++fd) {
    ASSERT_TRUE(WriteFile(absl::StrCat(process, "/fd/", fd), ""));
  }
  // A command name with a space and a parenthesis, which a split on spaces
  // from the start would get wrong. Fields 14/15 (utime, stime) 250 and 150
  // ticks, 22 (starttime) 1000 ticks, 23 (vsize) 123456789, 24 (rss) 2048.
  std::string stat = "4242 (geo (x) y) S";
  for (int number = 4; number <= 52; ++number) {
    std::string value = "0";
    if (number == 14) value = "250";
    if (number == 15) value = "150";
    if (number == 22) value = "1000";
    if (number == 23) value = "123456789";
    if (number == 24) value = "2048";
    absl::StrAppend(&stat, " ", value);
  }
  ASSERT_TRUE(WriteFile(process + "/stat", stat + "\n"));
  ASSERT_TRUE(WriteFile(process + "/limits",
                        "Limit                     Soft Limit           Hard "
                        "Limit           Units     \n"
                        "Max cpu time              unlimited            "
                        "unlimited            seconds   \n"
                        "Max open files            4096                 "
                        "524288               files     \n"));
  ASSERT_TRUE(WriteFile(root + "/stat",
                        "cpu  1 2 3 4\nintr 5\nbtime 1700000000\n"
                        "processes 9\n"));

  ProcessMetricsSources sources;
  sources.process_dir = process;
  sources.system_stat = root + "/stat";
  sources.clock_ticks_per_second = 100;
  sources.page_size = 4096;
  const auto values = ByName(ProcessCollector(sources).Collect());

  using Type = prometheus::MetricType;
  EXPECT_THAT(values, Contains(Pair("process_cpu_seconds_total",
                                    Pair(Type::Counter, 4.0))));
  EXPECT_THAT(values, Contains(Pair("process_open_fds", Pair(Type::Gauge, 7))));
  EXPECT_THAT(values,
              Contains(Pair("process_max_fds", Pair(Type::Gauge, 4096))));
  EXPECT_THAT(values, Contains(Pair("process_virtual_memory_bytes",
                                    Pair(Type::Gauge, 123456789))));
  EXPECT_THAT(values, Contains(Pair("process_resident_memory_bytes",
                                    Pair(Type::Gauge, 2048.0 * 4096))));
  EXPECT_THAT(values, Contains(Pair("process_start_time_seconds",
                                    Pair(Type::Gauge, 1700000010.0))));
  EXPECT_EQ(values.size(), 6u);
}

TEST(ProcessMetricsTest, UnreadableSourcesLeaveTheirFamiliesOut) {
  ProcessMetricsSources sources;
  sources.process_dir = "/nonexistent/self";
  sources.system_stat = "/nonexistent/stat";
  EXPECT_TRUE(ProcessCollector(sources).Collect().empty());
}

TEST(ProcessMetricsTest, ThisProcessMatchesItsOwnLimitAndDescriptors) {
  rlimit limit{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  const ProcessCollector collector;
  auto values = ByName(collector.Collect());
  ASSERT_EQ(values.count("process_max_fds"), 1u);
  EXPECT_EQ(values["process_max_fds"].second,
            static_cast<double>(limit.rlim_cur));
  // Ten more descriptors show as ten more.
  const double before = values["process_open_fds"].second;
  std::vector<int> pipes;
  for (int i = 0; i < 5; ++i) {
    int ends[2];
    ASSERT_EQ(pipe(ends), 0);
    pipes.insert(pipes.end(), {ends[0], ends[1]});
  }
  values = ByName(collector.Collect());
  for (int fd : pipes) close(fd);
  EXPECT_EQ(values["process_open_fds"].second, before + 10);
  EXPECT_GT(values["process_resident_memory_bytes"].second, 0);
  EXPECT_GT(values["process_start_time_seconds"].second, 1.6e9);
}

}  // namespace
}  // namespace geo
