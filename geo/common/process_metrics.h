// The standard process metrics of the Prometheus client libraries
// (process_cpu_seconds_total, process_open_fds, process_max_fds,
// process_resident_memory_bytes, process_virtual_memory_bytes,
// process_start_time_seconds), which prometheus-cpp does not provide. Read
// from /proc at scrape time, so dashboards and alerts written for any other
// service (open descriptors against the limit, say) work unchanged.
#ifndef GEO_COMMON_PROCESS_METRICS_H_
#define GEO_COMMON_PROCESS_METRICS_H_

#include <optional>
#include <string>
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

// Thread-safe: Collect only reads files. A source that cannot
// be read (or an unlimited descriptor limit) leaves its families out rather
// than failing the scrape.
class ProcessCollector final : public prometheus::Collectable {
 public:
  // Reads the start time once: it never changes, and /proc/stat, which holds
  // the boot time, is kilobytes of counters per CPU and interrupt.
  explicit ProcessCollector(ProcessMetricsSources sources = {});

  std::vector<prometheus::MetricFamily> Collect() const override;
  // The same families, appended to what a registry collected.
  void AppendTo(std::vector<prometheus::MetricFamily>* families) const;

 private:
  const ProcessMetricsSources sources_;
  const double clock_ticks_per_second_;
  const double page_size_;
  // process_start_time_seconds; nullopt when it could not be read.
  const std::optional<double> start_time_seconds_;
};

}  // namespace geo

#endif  // GEO_COMMON_PROCESS_METRICS_H_
