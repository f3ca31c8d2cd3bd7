// How many CPUs this process may actually use, for sizing thread pools.
//
// std::thread::hardware_concurrency() counts the machine's CPUs: in a
// Kubernetes pod limited to one CPU on a 64-core node, or under `taskset -c 0`,
// it still says 64, and 64 busy threads then contend for one CPU. The budget
// is the affinity mask (sched_getaffinity), capped by the cgroup CPU quota
// (cgroup v2 `cpu.max`, v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`, the
// smallest along the process's cgroup and its ancestors), rounded up, at
// least 1.
#ifndef GEO_COMMON_CPU_BUDGET_H_
#define GEO_COMMON_CPU_BUDGET_H_

#include <functional>
#include <string>

namespace geo {

struct CpuBudget {
  int cpus = 1;
  // What decided: "affinity", "cgroup v2 cpu.max", "cgroup v1 cfs quota"
  // (with the cgroup directory), or "hardware" when the mask is unknown.
  std::string source;
};

// Where the budget is read from; tests point these at fake files.
struct CpuBudgetSources {
  // CPUs in this process's affinity mask; 0 when unknown.
  std::function<int()> affinity_cpus;
  // The mount point of the cgroup filesystem(s).
  std::string cgroup_root = "/sys/fs/cgroup";
  // The process's cgroup membership (the format of /proc/self/cgroup).
  std::string proc_self_cgroup = "/proc/self/cgroup";
};

// Reads the sources; never fails (an unreadable source is skipped).
CpuBudget ComputeCpuBudget(const CpuBudgetSources& sources);

// The real sources of this process.
CpuBudgetSources ProcessCpuBudgetSources();

}  // namespace geo

#endif  // GEO_COMMON_CPU_BUDGET_H_
