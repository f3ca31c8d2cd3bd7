// Drives the reloads of `make bench` section d from one quiet process.
//
// The load generator's CPU is shared with whatever drives the reloads, and a
// shell loop forking ln, mv, grep and awk every few milliseconds starved wrk
// for 4-10 ms at a time (perf sched traces): wrk then reported those gaps as
// server latency in the reload run and not in the steady one. This driver
// does the same work with system calls only: every interval it hard-links
// the next file beside the watched path and renames it over it (a new inode,
// atomically, as the updater installs), waits until the server's log shows
// the reload, and samples the server's VmRSS every 50 ms throughout. With
// --reloads=0 it only samples, so a steady run can carry the same client-side
// activity as a reload run.
//
//   reload_driver --watched=DB --files=A,B --reloads=20 --seconds=18
//                 --log=geo.log --pid=PID --rss_samples=FILE
//
// Prints the number of reloads the log showed.
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/support/process_stats.h"

ABSL_FLAG(std::string, watched, "", "the database path the server watches");
ABSL_FLAG(std::vector<std::string>, files, {},
          "files installed over --watched in turn");
ABSL_FLAG(int, reloads, 20, "how many reloads (0: only sample memory)");
ABSL_FLAG(absl::Duration, seconds, absl::Seconds(18),
          "spread the reloads over this long");
ABSL_FLAG(std::string, log, "", "the server's log");
ABSL_FLAG(int, pid, 0, "the server's pid, for VmRSS");
ABSL_FLAG(std::string, rss_samples, "", "VmRSS samples (kB) appended here");

namespace {

constexpr absl::Duration kSampleEvery = absl::Milliseconds(50);
constexpr absl::Duration kReloadTimeout = absl::Seconds(5);

// "Database reloaded" lines in the log so far.
int ReloadsLogged(const std::string& log) {
  std::ifstream in(log);
  int count = 0;
  for (std::string line; std::getline(in, line);) {
    if (absl::StrContains(line, R"("msg":"Database reloaded")")) ++count;
  }
  return count;
}

class Sampler {
 public:
  Sampler(int pid, const std::string& path)
      : pid_(pid), out_(path, std::ios::app) {}
  // Samples when the last sample is kSampleEvery old; returns at once
  // otherwise.
  void MaybeSample() {
    if (pid_ <= 0 || !out_ || absl::Now() - last_ < kSampleEvery) return;
    last_ = absl::Now();
    const int64_t kb = geo::testing::ProcStatusKiB(pid_, "VmRSS");
    if (kb >= 0) out_ << kb << "\n" << std::flush;
  }
  // Sleeps until `deadline`, sampling on the way.
  void SleepUntil(absl::Time deadline) {
    while (absl::Now() < deadline) {
      MaybeSample();
      absl::SleepFor(std::min(absl::Milliseconds(10), deadline - absl::Now()));
    }
  }

 private:
  const int pid_;
  std::ofstream out_;
  absl::Time last_ = absl::InfinitePast();
};

bool Install(const std::string& file, const std::string& watched) {
  const std::string next = watched + ".next";
  unlink(next.c_str());
  return link(file.c_str(), next.c_str()) == 0 &&
         rename(next.c_str(), watched.c_str()) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string watched = absl::GetFlag(FLAGS_watched);
  const std::vector<std::string> files = absl::GetFlag(FLAGS_files);
  const int reloads = absl::GetFlag(FLAGS_reloads);
  const std::string log = absl::GetFlag(FLAGS_log);
  Sampler sampler(absl::GetFlag(FLAGS_pid), absl::GetFlag(FLAGS_rss_samples));
  if (reloads > 0 && (watched.empty() || files.empty() || log.empty())) {
    std::cerr << "reload_driver: --watched, --files and --log are required\n";
    return 2;
  }
  const absl::Time start = absl::Now();
  const absl::Duration spread = absl::GetFlag(FLAGS_seconds);
  if (reloads == 0) {
    sampler.SleepUntil(start + spread);
    std::cout << 0 << "\n";
    return 0;
  }
  const int logged_before = ReloadsLogged(log);
  const absl::Duration interval = spread / reloads;
  for (int i = 0; i < reloads; ++i) {
    sampler.SleepUntil(start + interval * (i + 1));
    if (!Install(files[i % files.size()], watched)) {
      std::perror("reload_driver: install");
      return 1;
    }
    // The server logs each reload; wait for this one (polling a file read,
    // no process started).
    const absl::Time give_up = absl::Now() + kReloadTimeout;
    while (ReloadsLogged(log) < logged_before + i + 1 &&
           absl::Now() < give_up) {
      sampler.SleepUntil(absl::Now() + absl::Milliseconds(20));
    }
  }
  std::cout << ReloadsLogged(log) - logged_before << "\n";
  return 0;
}
