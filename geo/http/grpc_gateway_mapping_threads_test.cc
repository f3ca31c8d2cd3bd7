// MessageToGatewayJson builds what it keeps per message type on first use.
// This binary's one test makes that first use from several threads at once:
// alone in its binary, so that no earlier test has built anything, and run
// under TSan too (--config=tsan).
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "geo/http/gateway_json_testing.h"
#include "geo/http/grpc_gateway_mapping.h"
#include "google/protobuf/message.h"
#include "gtest/gtest.h"

namespace geo::http {
namespace {

TEST(MessageToGatewayJsonThreadsTest, FirstUseFromManyThreadsAtOnce) {
  const std::vector<std::unique_ptr<google::protobuf::Message>> samples =
      HttpAnswerSamples();
  constexpr int kThreads = 4;
  constexpr int kRounds = 3;
  std::vector<std::vector<std::string>> written(kThreads);
  absl::Notification start;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.WaitForNotification();
      for (int round = 0; round < kRounds; ++round) {
        for (const auto& sample : samples) {
          written[t].push_back(MessageToGatewayJson(*sample));
        }
      }
    });
  }
  start.Notify();
  for (std::thread& thread : threads) thread.join();

  for (size_t i = 0; i < samples.size(); ++i) {
    SCOPED_TRACE(samples[i]->ShortDebugString());
    ExpectProtojson(*samples[i]);
    const std::string expected = MessageToGatewayJson(*samples[i]);
    for (int t = 0; t < kThreads; ++t) {
      ASSERT_EQ(written[t].size(), kRounds * samples.size());
      for (int round = 0; round < kRounds; ++round) {
        EXPECT_EQ(written[t][round * samples.size() + i], expected)
            << "thread " << t << ", round " << round;
      }
    }
  }
}

}  // namespace
}  // namespace geo::http
