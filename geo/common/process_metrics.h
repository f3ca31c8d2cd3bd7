// The standard process metrics of the Prometheus client libraries
// (process_cpu_seconds_total, process_open_fds, process_max_fds,
// process_resident_memory_bytes, process_virtual_memory_bytes,
// process_start_time_seconds), which prometheus-cpp does not provide. Read
// from /proc at scrape time, so dashboards and alerts written for any other
// service (open descriptors against the limit, say) work unchanged.
#ifndef GEO_COMMON_PROCESS_METRICS_H_
#define GEO_COMMON_PROCESS_METRICS_H_

#include <string>
#include <utility>
#include <vector>

#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace geo {

// Where the figures are read from; tests point these at fake files.
struct ProcessMetricsSources {
  // The process's /proc directory: `stat`, `limits` and `fd/` are read.
  std::string process_dir = "/proc/self";
  // The system's /proc/stat, for the boot time (`btime`).
  std::string system_stat = "/proc/stat";
  // sysconf(_SC_CLK_TCK) and sysconf(_SC_PAGESIZE) when 0.
  long clock_ticks_per_second = 0;
  long page_size = 0;
};

// The families that could be read; a source that cannot be read (or an
// unlimited descriptor limit) leaves its families out rather than failing
// the scrape.
std::vector<prometheus::MetricFamily> CollectProcessMetrics(
    const ProcessMetricsSources& sources = ProcessMetricsSources());

// CollectProcessMetrics as a Collectable, for a serializer's input.
class ProcessCollector final : public prometheus::Collectable {
 public:
  explicit ProcessCollector(ProcessMetricsSources sources = {})
      : sources_(std::move(sources)) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    return CollectProcessMetrics(sources_);
  }

 private:
  const ProcessMetricsSources sources_;
};

}  // namespace geo

#endif  // GEO_COMMON_PROCESS_METRICS_H_
