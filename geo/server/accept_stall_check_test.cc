#include "geo/server/accept_stall_check.h"

#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "geo/common/fake_clock.h"
#include "gtest/gtest.h"
#include "tests/support/test_files.h"

namespace geo {
namespace {

using ::geo::testing::NewTempDir;
using ::geo::testing::WriteFile;

constexpr char kHeader[] =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when "
    "retrnsmt   uid  timeout inode\n";

// A /proc/net/tcp line: `state` "0A" listens; `queues` is tx:rx in hex.
std::string Socket(const std::string& local, const std::string& state,
                   const std::string& queues) {
  return "   0: " + local + " 00000000:0000 " + state + " " + queues +
         " 00:00000000 00000000     0        0 12345 1 0000000000000000 "
         "100 0 0 10 0\n";
}

class AcceptStallCheckTest : public ::testing::Test {
 protected:
  // Port 50051 is 0xC383.
  void SetQueues(const std::string& ipv4, const std::string& ipv6) {
    ASSERT_TRUE(WriteFile(
        dir_ + "/tcp",
        std::string(kHeader) + Socket("00000000:C383", "0A", ipv4) +
            // Another port's queue, and a connection to ours: not counted.
            Socket("0100007F:1F90", "0A", "00000000:00000009") +
            Socket("0100007F:C383", "01", "00000000:00000004")));
    ASSERT_TRUE(WriteFile(
        dir_ + "/tcp6",
        std::string(kHeader) +
            Socket("00000000000000000000000000000000:C383", "0A", ipv6)));
  }

  AcceptStallCheck::Options Options() {
    AcceptStallCheck::Options options;
    options.name = "gRPC";
    options.port = 50051;
    options.clock = &clock_;
    options.proc_net = dir_;
    options.samples = 3;
    options.spacing = absl::Seconds(1);
    return options;
  }

  const std::string dir_ = NewTempDir();
  FakeClock clock_{absl::Now()};
};

TEST_F(AcceptStallCheckTest, SumsTheListeningSocketsOfThePort) {
  SetQueues("00000000:00000002", "00000000:00000011");
  EXPECT_EQ(ListenAcceptQueue(50051, dir_), 2 + 17);
  EXPECT_EQ(ListenAcceptQueue(8080, dir_), 9);
  EXPECT_EQ(ListenAcceptQueue(9999, dir_), std::nullopt);
  EXPECT_EQ(ListenAcceptQueue(50051, dir_ + "/missing"), std::nullopt);
}

TEST_F(AcceptStallCheckTest, StalledAfterEnoughBusySamplesAndForGood) {
  AcceptStallCheck check(Options());
  SetQueues("00000000:00000003", "00000000:00000000");
  EXPECT_FALSE(check.Stalled());  // 1 busy sample.
  // Asked again within a second: no new sample.
  clock_.Advance(absl::Milliseconds(500));
  EXPECT_FALSE(check.Stalled());
  clock_.Advance(absl::Milliseconds(500));
  EXPECT_FALSE(check.Stalled());  // 2.
  clock_.Advance(absl::Seconds(1));
  EXPECT_TRUE(check.Stalled());  // 3.
  // Nothing restarts the listener: even an empty queue leaves it stalled.
  SetQueues("00000000:00000000", "00000000:00000000");
  clock_.Advance(absl::Seconds(1));
  EXPECT_TRUE(check.Stalled());
}

TEST_F(AcceptStallCheckTest, AnEmptyQueueInBetweenStartsOver) {
  AcceptStallCheck check(Options());
  for (int round = 0; round < 5; ++round) {
    SetQueues("00000000:00000001", "00000000:00000000");
    EXPECT_FALSE(check.Stalled());
    clock_.Advance(absl::Seconds(1));
    EXPECT_FALSE(check.Stalled());
    clock_.Advance(absl::Seconds(1));
    SetQueues("00000000:00000000", "00000000:00000000");
    EXPECT_FALSE(check.Stalled());
    clock_.Advance(absl::Seconds(1));
  }
}

TEST_F(AcceptStallCheckTest, NoListenerIsNoEvidence) {
  AcceptStallCheck::Options options = Options();
  options.port = 9999;
  SetQueues("00000000:00000005", "00000000:00000005");
  AcceptStallCheck check(options);
  for (int i = 0; i < 5; ++i) {
    EXPECT_FALSE(check.Stalled());
    clock_.Advance(absl::Seconds(1));
  }
}

}  // namespace
}  // namespace geo
