#include "geo/common/process_metrics.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "geo/common/small_file.h"

namespace geo {
namespace {

void Add(std::vector<prometheus::MetricFamily>* families, std::string name,
         std::string help, prometheus::MetricType type, double value) {
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  families->push_back(prometheus::MetricFamily{
      std::move(name), std::move(help), type, {std::move(metric)}});
}

// The fields of /proc/<pid>/stat (proc(5)), numbered from 1 as there: the
// command name (field 2) is in parentheses and may itself hold spaces and
// parentheses, so the fields after it are counted from its last ')'.
class StatFields {
 public:
  explicit StatFields(const std::string& process_dir)
      : text_(ReadSmallFile(process_dir + "/stat").value_or("")) {
    const size_t name_end = text_.rfind(')');
    if (name_end != std::string::npos) {
      after_name_ =
          absl::StrSplit(absl::string_view(text_).substr(name_end + 1), ' ',
                         absl::SkipEmpty());
    }
  }

  // Views into text_: neither copied nor moved.
  StatFields(const StatFields&) = delete;
  StatFields& operator=(const StatFields&) = delete;

  // Field `number` (3 or more); false when absent or not a number.
  bool Get(int number, double* value) const {
    const size_t index = static_cast<size_t>(number - 3);
    return index < after_name_.size() &&
           absl::SimpleAtod(after_name_[index], value);
  }

 private:
  const std::string text_;
  std::vector<absl::string_view> after_name_;
};

// Entries of `dir` other than "." and ".."; -1 when it cannot be listed.
int64_t CountEntries(const std::string& dir) {
  std::unique_ptr<DIR, int (*)(DIR*)> listing(opendir(dir.c_str()), &closedir);
  if (listing == nullptr) return -1;
  int64_t count = 0;
  while (const dirent* entry = readdir(listing.get())) {
    const absl::string_view name = entry->d_name;
    if (name != "." && name != "..") ++count;
  }
  return count;
}

// Boot time (`btime` of /proc/stat) plus the process's start (field 22 of
// its stat, in clock ticks after boot).
std::optional<double> StartTimeSeconds(const ProcessMetricsSources& sources,
                                       double clock_ticks_per_second) {
  double start_ticks = 0;
  if (clock_ticks_per_second <= 0 ||
      !StatFields(sources.process_dir).Get(22, &start_ticks)) {
    return std::nullopt;
  }
  const std::string system_stat =
      ReadSmallFile(sources.system_stat).value_or("");
  for (absl::string_view line : absl::StrSplit(system_stat, '\n')) {
    double boot_time = 0;
    if (absl::ConsumePrefix(&line, "btime ") &&
        absl::SimpleAtod(line, &boot_time)) {
      return boot_time + start_ticks / clock_ticks_per_second;
    }
  }
  return std::nullopt;
}

double OrSysconf(long value, int name) {
  return static_cast<double>(value > 0 ? value : sysconf(name));
}

}  // namespace

ProcessCollector::ProcessCollector(ProcessMetricsSources sources)
    : sources_(std::move(sources)),
      clock_ticks_per_second_(
          OrSysconf(sources_.clock_ticks_per_second, _SC_CLK_TCK)),
      page_size_(OrSysconf(sources_.page_size, _SC_PAGESIZE)),
      start_time_seconds_(StartTimeSeconds(sources_, clock_ticks_per_second_)) {
}

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  std::vector<prometheus::MetricFamily> families;
  AppendTo(&families);
  return families;
}

void ProcessCollector::AppendTo(
    std::vector<prometheus::MetricFamily>* families) const {
  // Fields of /proc/<pid>/stat: utime 14, stime 15, vsize 23, rss 24.
  const StatFields stat(sources_.process_dir);
  double utime = 0, stime = 0, vsize = 0, rss = 0;
  if (stat.Get(14, &utime) && stat.Get(15, &stime) &&
      clock_ticks_per_second_ > 0) {
    Add(families, "process_cpu_seconds_total",
        "Total user and system CPU time spent in seconds.",
        prometheus::MetricType::Counter,
        (utime + stime) / clock_ticks_per_second_);
  }
  if (stat.Get(23, &vsize)) {
    Add(families, "process_virtual_memory_bytes",
        "Virtual memory size in bytes.", prometheus::MetricType::Gauge, vsize);
  }
  if (stat.Get(24, &rss) && page_size_ > 0) {
    Add(families, "process_resident_memory_bytes",
        "Resident memory size in bytes.", prometheus::MetricType::Gauge,
        rss * page_size_);
  }
  if (start_time_seconds_.has_value()) {
    Add(families, "process_start_time_seconds",
        "Start time of the process since unix epoch in seconds.",
        prometheus::MetricType::Gauge, *start_time_seconds_);
  }

  const int64_t open_fds = CountEntries(sources_.process_dir + "/fd");
  if (open_fds >= 0) {
    Add(families, "process_open_fds", "Number of open file descriptors.",
        prometheus::MetricType::Gauge, static_cast<double>(open_fds));
  }
  // "Max open files  <soft>  <hard>  files" in /proc/<pid>/limits.
  const std::string limits =
      ReadSmallFile(sources_.process_dir + "/limits").value_or("");
  for (absl::string_view line : absl::StrSplit(limits, '\n')) {
    if (!absl::ConsumePrefix(&line, "Max open files")) continue;
    const std::vector<absl::string_view> values =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    double soft = 0;
    if (!values.empty() && absl::SimpleAtod(values[0], &soft)) {
      Add(families, "process_max_fds",
          "Maximum number of open file descriptors.",
          prometheus::MetricType::Gauge, soft);
    }
    break;
  }
}

}  // namespace geo
