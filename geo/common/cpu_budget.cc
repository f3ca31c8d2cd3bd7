#include "geo/common/cpu_budget.h"

#include <sched.h>

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "geo/common/small_file.h"

namespace geo {
namespace {

// The directory `path` inside the hierarchy and each ancestor up to the
// hierarchy's root, innermost first. "/" gives just the root.
std::vector<std::string> SelfAndAncestors(const std::string& root,
                                          absl::string_view path) {
  std::vector<std::string> directories;
  std::string current(absl::StripSuffix(path, "/"));
  while (!current.empty()) {
    directories.push_back(absl::StrCat(root, current));
    current = current.substr(0, current.rfind('/'));
  }
  directories.push_back(root);
  return directories;
}

// CPUs a quota allows, rounded up; nullopt for "no limit" or nonsense.
std::optional<int> QuotaCpus(int64_t quota, int64_t period) {
  if (quota <= 0 || period <= 0) return std::nullopt;
  return static_cast<int>(
      std::ceil(static_cast<double>(quota) / static_cast<double>(period)));
}

struct Limit {
  int cpus;
  std::string source;
};

void Tighten(std::optional<Limit>* best, int cpus, std::string source) {
  if (!best->has_value() || cpus < (*best)->cpus) {
    *best = Limit{cpus, std::move(source)};
  }
}

// cgroup v2: "0::/kubepods/pod1/ctr" and cpu.max "max 100000" or
// "150000 100000".
void ReadCgroupV2(const std::string& root, absl::string_view path,
                  std::optional<Limit>* best) {
  for (const std::string& directory : SelfAndAncestors(root, path)) {
    const std::optional<std::string> content =
        ReadSmallFile(directory + "/cpu.max");
    if (!content) continue;
    const std::vector<absl::string_view> fields = absl::StrSplit(
        absl::StripAsciiWhitespace(*content), ' ', absl::SkipEmpty());
    int64_t quota = 0;
    int64_t period = 0;
    if (fields.size() != 2 || !absl::SimpleAtoi(fields[0], &quota) ||
        !absl::SimpleAtoi(fields[1], &period)) {
      continue;  // "max": no limit here.
    }
    if (const std::optional<int> cpus = QuotaCpus(quota, period)) {
      Tighten(best, *cpus, absl::StrCat("cgroup v2 cpu.max (", directory, ")"));
    }
  }
}

// cgroup v1: "4:cpu,cpuacct:/docker/abc", quota -1 for no limit.
void ReadCgroupV1(const std::string& root, absl::string_view controllers,
                  absl::string_view path, std::optional<Limit>* best) {
  for (const std::string& mount :
       {absl::StrCat(root, "/", controllers), absl::StrCat(root, "/cpu")}) {
    for (const std::string& directory : SelfAndAncestors(mount, path)) {
      const std::optional<std::string> quota_text =
          ReadSmallFile(directory + "/cpu.cfs_quota_us");
      const std::optional<std::string> period_text =
          ReadSmallFile(directory + "/cpu.cfs_period_us");
      int64_t quota = 0;
      int64_t period = 0;
      if (!quota_text || !period_text ||
          !absl::SimpleAtoi(absl::StripAsciiWhitespace(*quota_text), &quota) ||
          !absl::SimpleAtoi(absl::StripAsciiWhitespace(*period_text),
                            &period)) {
        continue;
      }
      if (const std::optional<int> cpus = QuotaCpus(quota, period)) {
        Tighten(best, *cpus,
                absl::StrCat("cgroup v1 cfs quota (", directory, ")"));
      }
    }
  }
}

}  // namespace

CpuBudget ComputeCpuBudget(const CpuBudgetSources& sources) {
  CpuBudget budget;
  const int affinity = sources.affinity_cpus ? sources.affinity_cpus() : 0;
  if (affinity > 0) {
    budget.cpus = affinity;
    budget.source = "affinity";
  } else {
    budget.cpus = static_cast<int>(std::thread::hardware_concurrency());
    budget.source = "hardware";
  }
  std::optional<Limit> quota;
  if (const std::optional<std::string> membership =
          ReadSmallFile(sources.proc_self_cgroup)) {
    for (absl::string_view line : absl::StrSplit(*membership, '\n')) {
      // hierarchy-ID:controller-list:path
      const std::vector<absl::string_view> parts =
          absl::StrSplit(line, absl::MaxSplits(':', 2));
      if (parts.size() != 3) continue;
      if (parts[0] == "0" && parts[1].empty()) {
        ReadCgroupV2(sources.cgroup_root, parts[2], &quota);
        continue;
      }
      for (absl::string_view controller : absl::StrSplit(parts[1], ',')) {
        if (controller == "cpu") {
          ReadCgroupV1(sources.cgroup_root, parts[1], parts[2], &quota);
          break;
        }
      }
    }
  }
  if (quota.has_value() && quota->cpus < budget.cpus) {
    budget.cpus = quota->cpus;
    budget.source = quota->source;
  }
  if (budget.cpus < 1) budget.cpus = 1;
  return budget;
}

CpuBudgetSources ProcessCpuBudgetSources() {
  CpuBudgetSources sources;
  sources.affinity_cpus = [] {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) != 0) return 0;
    return CPU_COUNT(&set);
  };
  return sources;
}

}  // namespace geo
