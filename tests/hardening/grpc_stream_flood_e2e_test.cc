// Attacks through the gRPC port of the real geo_server: streams opened and
// held, each with the bound that holds it (geo/server/geo_server.cc):
// - server reflection: gRPC serves it from its synchronous server, which
//   gives each open stream a thread of its own for as long as the stream
//   lasts, idle or not. gRPC's thread quota (`kGrpcSyncServiceThreads`)
//   refuses a stream past it with RESOURCE_EXHAUSTED, while the API and
//   health services, which use the callback API, keep answering;
// - Lookup calls started and never sent their request: the server keeps
//   each open stream's state (about 13 KB), so one connection holding
//   thousands of them grows the heap by tens of MB. HTTP/2's concurrent
//   stream limit (`kGrpcMaxConcurrentStreams`) caps them per connection.
#include <sys/types.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "api/geo/v1/geo.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/completion_queue.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "tests/support/process_stats.h"
#include "tests/support/server_process.h"
#include "tests/support/test_files.h"

namespace geo::testing {
namespace {

using ::grpc::reflection::v1alpha::ServerReflection;
using ::grpc::reflection::v1alpha::ServerReflectionRequest;
using ::grpc::reflection::v1alpha::ServerReflectionResponse;

// Streams the attack holds open: far more than the quota, so that a server
// without it would show them as threads.
constexpr int kStreams = 200;
// Threads the server may add while the streams are held: the quota (16)
// plus gRPC's own pollers and workers, with room to spare; a thread per
// stream would be ten times this.
constexpr int kMaxAddedThreads = 40;
constexpr absl::Duration kDeadline = absl::Seconds(60);

// One held reflection stream: started, asked to list the services, and read
// once; or refused, with the status it finished with.
struct HeldStream {
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientAsyncReaderWriter<ServerReflectionRequest,
                                                ServerReflectionResponse>>
      stream;
  ServerReflectionRequest request;
  ServerReflectionResponse response;
  grpc::Status finished;
  enum class Step { kStarting, kWriting, kReading, kFinishing, kDone } step;
  bool answered = false;
};

// The steps a held stream goes through, driven by one completion queue:
// start, write the request, read the answer (then stay open), or finish with
// the server's status as soon as a step fails.
class StreamFlood {
 public:
  explicit StreamFlood(const std::string& target)
      : stub_(ServerReflection::NewStub(
            grpc::CreateChannel(target, grpc::InsecureChannelCredentials()))) {}

  ~StreamFlood() {
    for (auto& held : streams_) held->context.TryCancel();
    queue_.Shutdown();
    void* tag;
    bool ok;
    while (queue_.Next(&tag, &ok)) {
    }
  }

  // Opens `count` streams and drives each until it has been answered or has
  // finished; false if the queue ran dry first.
  bool OpenAndSettle(int count) {
    for (int i = 0; i < count; ++i) {
      auto held = std::make_unique<HeldStream>();
      held->context.set_deadline(absl::ToChronoTime(absl::Now() + kDeadline));
      held->request.set_list_services("");
      held->step = HeldStream::Step::kStarting;
      held->stream =
          stub_->PrepareAsyncServerReflectionInfo(&held->context, &queue_);
      held->stream->StartCall(held.get());
      streams_.push_back(std::move(held));
    }
    int unsettled = count;
    void* tag;
    bool ok;
    while (unsettled > 0 && queue_.Next(&tag, &ok)) {
      auto* held = static_cast<HeldStream*>(tag);
      if (Advance(held, ok)) --unsettled;
    }
    return unsettled == 0;
  }

  int answered() const {
    int answered = 0;
    for (const auto& held : streams_) answered += held->answered;
    return answered;
  }
  // How many finished with `code`.
  int finished_with(grpc::StatusCode code) const {
    int finished = 0;
    for (const auto& held : streams_) {
      finished += held->step == HeldStream::Step::kDone &&
                  held->finished.error_code() == code;
    }
    return finished;
  }

 private:
  // Takes `held` one step on; true when it has settled (answered and left
  // open, or finished).
  bool Advance(HeldStream* held, bool ok) {
    using Step = HeldStream::Step;
    if (!ok && held->step != Step::kFinishing) {
      held->step = Step::kFinishing;
      held->stream->Finish(&held->finished, held);
      return false;
    }
    switch (held->step) {
      case Step::kStarting:
        held->step = Step::kWriting;
        held->stream->Write(held->request, held);
        return false;
      case Step::kWriting:
        held->step = Step::kReading;
        held->stream->Read(&held->response, held);
        return false;
      case Step::kReading:
        held->answered = held->response.has_list_services_response();
        held->step = Step::kDone;  // Held open: nothing more is asked.
        return true;
      case Step::kFinishing:
        held->step = Step::kDone;
        return true;
      case Step::kDone:
        return false;  // The cancellation at the end.
    }
    return false;
  }

  std::unique_ptr<ServerReflection::Stub> stub_;
  grpc::CompletionQueue queue_;
  std::vector<std::unique_ptr<HeldStream>> streams_;
};

// The health service and a lookup answer on a channel of their own.
void ExpectApiAnswers(const std::string& target) {
  auto channel =
      grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + kDeadline));
    grpc::health::v1::HealthCheckResponse response;
    const grpc::Status status =
        grpc::health::v1::Health::NewStub(channel)->Check(
            &context, grpc::health::v1::HealthCheckRequest(), &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.status(),
              grpc::health::v1::HealthCheckResponse::SERVING);
  }
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + kDeadline));
  geo::v1::LookupRequest request;
  request.set_ip("81.2.69.160");
  geo::v1::LookupResponse response;
  const grpc::Status status = geo::v1::GeoService::NewStub(channel)->Lookup(
      &context, request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(response.found());
}

// A server over MaxMind's City test database that has answered once.
class GrpcStreamFloodTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = ServerProcess::Start(
        GeoServerBinary(),
        {"--db=" + MaxmindTestDataFile("GeoIP2-City-Test.mmdb")});
    ASSERT_TRUE(server.ok()) << server.status();
    server_.emplace(*std::move(server));
    target_ = server_->grpc_target();
    ExpectApiAnswers(target_);
  }

  std::optional<ServerProcess> server_;
  std::string target_;
};

TEST_F(GrpcStreamFloodTest, HeldReflectionStreamsDoNotMultiplyThreads) {
  // One reflection stream first, so the baseline has gRPC's synchronous
  // server running.
  {
    StreamFlood one(target_);
    ASSERT_TRUE(one.OpenAndSettle(1));
    ASSERT_EQ(one.answered(), 1);
  }
  const int baseline = ProcThreadCount(server_->pid());
  ASSERT_GT(baseline, 0);

  {
    StreamFlood flood(target_);
    ASSERT_TRUE(flood.OpenAndSettle(kStreams));
    const int threads = ProcThreadCount(server_->pid());
    EXPECT_LE(threads, baseline + kMaxAddedThreads)
        << "baseline " << baseline << ", " << flood.answered()
        << " streams answered";
    // Some are served, the rest refused rather than queued forever.
    EXPECT_GE(flood.answered(), 1);
    EXPECT_EQ(flood.answered() +
                  flood.finished_with(grpc::StatusCode::RESOURCE_EXHAUSTED),
              kStreams);
    // The API is not behind the quota.
    ExpectApiAnswers(target_);
  }
  // Once the streams are gone, reflection answers again.
  bool answered = false;
  for (const absl::Time end = absl::Now() + kDeadline;
       !answered && absl::Now() < end;) {
    StreamFlood again(target_);
    answered = again.OpenAndSettle(1) && again.answered() == 1;
    if (!answered) absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_TRUE(answered);
}

TEST_F(GrpcStreamFloodTest, StreamsHeldOnOneConnectionAreCapped) {
  // Started and never sent their request: 5000 of them would keep ~60 MB.
  constexpr int kHeldCalls = 5000;
  constexpr int64_t kGrowthBoundKiB = 16 * 1024;
  const int64_t baseline = ProcStatusKiB(server_->pid(), "RssAnon");
  ASSERT_GT(baseline, 0);

  grpc::GenericStub stub(
      grpc::CreateChannel(target_, grpc::InsecureChannelCredentials()));
  grpc::CompletionQueue queue;
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::GenericClientAsyncReaderWriter>> calls;
  for (int i = 0; i < kHeldCalls; ++i) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    // Long enough to outlast the checks below; cancelling the calls the
    // client still queues does not end them before their deadline, so the
    // test waits out whatever is left of it at the end.
    contexts.back()->set_deadline(
        absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    calls.push_back(stub.PrepareCall(contexts.back().get(),
                                     "/geo.v1.GeoService/Lookup", &queue));
    calls.back()->StartCall(calls.back().get());
  }
  // The client starts the calls the server's limit lets it have and queues
  // the rest: wait (bounded) for the starts, then watch the server's heap
  // for a second while the calls are held.
  int started = 0;
  void* tag;
  bool ok;
  const absl::Time wait_until = absl::Now() + absl::Seconds(3);
  while (started < kHeldCalls &&
         queue.AsyncNext(&tag, &ok, absl::ToChronoTime(wait_until)) ==
             grpc::CompletionQueue::GOT_EVENT) {
    started += ok;
  }
  int64_t peak = 0;
  for (const absl::Time end = absl::Now() + absl::Seconds(1); absl::Now() < end;
       absl::SleepFor(absl::Milliseconds(50))) {
    peak = std::max(peak, ProcStatusKiB(server_->pid(), "RssAnon"));
  }
  EXPECT_LT(peak - baseline, kGrowthBoundKiB)
      << started << " of " << kHeldCalls << " calls started";
  // Other connections are not behind the held ones.
  ExpectApiAnswers(target_);

  for (auto& context : contexts) context->TryCancel();
  queue.Shutdown();
  while (queue.Next(&tag, &ok)) {
  }
}

}  // namespace
}  // namespace geo::testing
