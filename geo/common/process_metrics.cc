#include "geo/common/process_metrics.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace geo {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

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

// The fields of /proc/<pid>/stat after the command name, which is in
// parentheses and may itself hold spaces and parentheses: field 3 (state)
// is element 0.
std::vector<absl::string_view> StatFieldsAfterName(absl::string_view stat) {
  const size_t name_end = stat.rfind(')');
  if (name_end == absl::string_view::npos) return {};
  return absl::StrSplit(stat.substr(name_end + 1), ' ', absl::SkipEmpty());
}

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

}  // namespace

std::vector<prometheus::MetricFamily> CollectProcessMetrics(
    const ProcessMetricsSources& sources) {
  const double ticks = sources.clock_ticks_per_second > 0
                           ? sources.clock_ticks_per_second
                           : sysconf(_SC_CLK_TCK);
  const double page_size =
      sources.page_size > 0 ? sources.page_size : sysconf(_SC_PAGESIZE);
  std::vector<prometheus::MetricFamily> families;

  // /proc/<pid>/stat (proc(5)): utime 14, stime 15, starttime 22, vsize 23,
  // rss 24, counted from 1; element 0 here is field 3.
  const std::string stat = ReadAll(sources.process_dir + "/stat");
  const std::vector<absl::string_view> fields = StatFieldsAfterName(stat);
  auto field = [&](int number, double* value) {
    const size_t index = static_cast<size_t>(number - 3);
    return index < fields.size() && absl::SimpleAtod(fields[index], value);
  };
  double utime = 0, stime = 0, start = 0, vsize = 0, rss = 0;
  if (field(14, &utime) && field(15, &stime) && ticks > 0) {
    Add(&families, "process_cpu_seconds_total",
        "Total user and system CPU time spent in seconds.",
        prometheus::MetricType::Counter, (utime + stime) / ticks);
  }
  if (field(23, &vsize)) {
    Add(&families, "process_virtual_memory_bytes",
        "Virtual memory size in bytes.", prometheus::MetricType::Gauge, vsize);
  }
  if (field(24, &rss) && page_size > 0) {
    Add(&families, "process_resident_memory_bytes",
        "Resident memory size in bytes.", prometheus::MetricType::Gauge,
        rss * page_size);
  }
  if (field(22, &start) && ticks > 0) {
    for (absl::string_view line :
         absl::StrSplit(ReadAll(sources.system_stat), '\n')) {
      double boot_time = 0;
      if (absl::ConsumePrefix(&line, "btime ") &&
          absl::SimpleAtod(line, &boot_time)) {
        Add(&families, "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
            prometheus::MetricType::Gauge, boot_time + start / ticks);
        break;
      }
    }
  }

  const int64_t open_fds = CountEntries(sources.process_dir + "/fd");
  if (open_fds >= 0) {
    Add(&families, "process_open_fds", "Number of open file descriptors.",
        prometheus::MetricType::Gauge, static_cast<double>(open_fds));
  }
  // "Max open files  <soft>  <hard>  files" in /proc/<pid>/limits.
  for (absl::string_view line :
       absl::StrSplit(ReadAll(sources.process_dir + "/limits"), '\n')) {
    if (!absl::ConsumePrefix(&line, "Max open files")) continue;
    const std::vector<absl::string_view> values =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    double soft = 0;
    if (!values.empty() && absl::SimpleAtod(values[0], &soft)) {
      Add(&families, "process_max_fds",
          "Maximum number of open file descriptors.",
          prometheus::MetricType::Gauge, soft);
    }
    break;
  }
  return families;
}

}  // namespace geo
