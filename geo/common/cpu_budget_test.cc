#include "geo/common/cpu_budget.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace geo {
namespace {

using ::testing::HasSubstr;

// A fake /sys/fs/cgroup and /proc/self/cgroup under $TEST_TMPDIR.
class CpuBudgetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::string(std::getenv("TEST_TMPDIR")) + "/" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    ::mkdir(root_.c_str(), 0755);
    sources_.cgroup_root = root_ + "/cgroup";
    sources_.proc_self_cgroup = root_ + "/proc_self_cgroup";
    ::mkdir(sources_.cgroup_root.c_str(), 0755);
    sources_.affinity_cpus = [this] { return affinity_; };
  }

  void Write(const std::string& relative, const std::string& content) {
    std::string path = sources_.cgroup_root;
    size_t start = 1;
    while (true) {
      const size_t slash = relative.find('/', start);
      if (slash == std::string::npos) break;
      ::mkdir((path + relative.substr(0, slash)).c_str(), 0755);
      start = slash + 1;
    }
    std::ofstream(path + relative) << content;
  }
  void Membership(const std::string& content) {
    std::ofstream(sources_.proc_self_cgroup) << content;
  }

  std::string root_;
  int affinity_ = 64;
  CpuBudgetSources sources_;
};

TEST_F(CpuBudgetTest, WithoutAQuotaTheAffinityMaskDecides) {
  Membership("0::/\n");
  Write("/cpu.max", "max 100000\n");
  affinity_ = 3;
  const CpuBudget budget = ComputeCpuBudget(sources_);
  EXPECT_EQ(budget.cpus, 3);
  EXPECT_EQ(budget.source, "affinity");
}

TEST_F(CpuBudgetTest, CgroupV2QuotaIsRoundedUpAndTheTightestAncestorWins) {
  Membership("0::/kubepods/pod1/ctr\n");
  Write("/kubepods/cpu.max", "max 100000\n");
  Write("/kubepods/pod1/cpu.max", "150000 100000\n");  // 1.5 CPUs -> 2
  Write("/kubepods/pod1/ctr/cpu.max", "max 100000\n");
  CpuBudget budget = ComputeCpuBudget(sources_);
  EXPECT_EQ(budget.cpus, 2);
  EXPECT_THAT(budget.source, HasSubstr("cgroup v2 cpu.max"));
  EXPECT_THAT(budget.source, HasSubstr("/kubepods/pod1)"));

  Write("/kubepods/pod1/ctr/cpu.max", "50000 100000\n");  // 0.5 -> 1
  budget = ComputeCpuBudget(sources_);
  EXPECT_EQ(budget.cpus, 1);
  EXPECT_THAT(budget.source, HasSubstr("/kubepods/pod1/ctr)"));
}

TEST_F(CpuBudgetTest, ANarrowerAffinityMaskBeatsALargerQuota) {
  Membership("0::/\n");
  Write("/cpu.max", "400000 100000\n");
  affinity_ = 1;  // taskset -c 0
  EXPECT_EQ(ComputeCpuBudget(sources_).cpus, 1);
  EXPECT_EQ(ComputeCpuBudget(sources_).source, "affinity");
}

TEST_F(CpuBudgetTest, CgroupV1CfsQuota) {
  Membership(
      "12:memory:/docker/abc\n"
      "4:cpu,cpuacct:/docker/abc\n"
      "1:name=systemd:/docker/abc\n");
  Write("/cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "250000\n");
  Write("/cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000\n");
  const CpuBudget budget = ComputeCpuBudget(sources_);
  EXPECT_EQ(budget.cpus, 3);
  EXPECT_THAT(budget.source, HasSubstr("cgroup v1 cfs quota"));
  // -1 is "no limit".
  Write("/cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "-1\n");
  EXPECT_EQ(ComputeCpuBudget(sources_).cpus, 64);
}

TEST_F(CpuBudgetTest, UnreadableOrMalformedSourcesAreSkipped) {
  Membership("garbage\n0::/missing/dir\n");
  Write("/cpu.max", "lots of cpus\n");
  EXPECT_EQ(ComputeCpuBudget(sources_).cpus, 64);
  sources_.proc_self_cgroup = root_ + "/does-not-exist";
  affinity_ = 0;  // Unknown mask: the machine's count, at least 1.
  const CpuBudget budget = ComputeCpuBudget(sources_);
  EXPECT_GE(budget.cpus, 1);
  EXPECT_EQ(budget.source, "hardware");
}

TEST(ProcessCpuBudgetTest, TheRealProcessHasAtLeastOneCpu) {
  const CpuBudget budget = ComputeCpuBudget(ProcessCpuBudgetSources());
  EXPECT_GE(budget.cpus, 1);
  EXPECT_FALSE(budget.source.empty());
}

}  // namespace
}  // namespace geo
