// A program with two modes that prove the TSan configuration sees what it must.
//
//   locked: threads update a counter under absl::Mutex. Clean only if TSan
//           understands absl::Mutex (abseil built with -fsanitize=thread).
//   race:   threads update a counter with no lock. TSan must report it.
//
// tsan_canary_test.sh runs both; see
// docs/adr/0002-tsan-with-instrumented-abseil.md.
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace {

constexpr int kThreads = 4;
constexpr int kIterations = 10000;

class LockedCounter {
 public:
  void Increment() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    ++value_;
  }
  long Value() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::ReaderMutexLock lock(&mu_);
    return value_;
  }

 private:
  mutable absl::Mutex mu_;
  long value_ ABSL_GUARDED_BY(mu_) = 0;
};

template <typename Body>
void RunThreads(Body body) {
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) threads.emplace_back(body);
  for (auto& thread : threads) thread.join();
}

int RunLocked() {
  LockedCounter counter;
  RunThreads([&counter] {
    for (int i = 0; i < kIterations; ++i) counter.Increment();
  });
  std::printf("locked: %ld\n", counter.Value());
  return counter.Value() == long{kThreads} * kIterations ? 0 : 1;
}

// The planted race: a plain read-modify-write from several threads.
long unguarded_value = 0;

int RunRace() {
  RunThreads([] {
    for (int i = 0; i < kIterations; ++i) {
      unguarded_value = unguarded_value + 1;
    }
  });
  std::printf("race: %ld\n", unguarded_value);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "locked") == 0) return RunLocked();
  if (argc == 2 && std::strcmp(argv[1], "race") == 0) return RunRace();
  std::fprintf(stderr, "usage: %s locked|race\n", argv[0]);
  return 2;
}
