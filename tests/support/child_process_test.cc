#include "tests/support/child_process.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "geo/common/file_descriptor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/loopback_ports.h"

namespace geo::testing {
namespace {

using ::testing::HasSubstr;

ChildProcess Shell(const std::string& script,
                   absl::Duration stop_grace = absl::Seconds(10)) {
  ChildOptions options;
  options.argv = {"/bin/sh", "-c", script, "shell", "first arg"};
  options.stop_grace = stop_grace;
  absl::StatusOr<ChildProcess> child = ChildProcess::Start(std::move(options));
  EXPECT_TRUE(child.ok()) << child.status();
  return *std::move(child);
}

bool Alive(pid_t pid) { return ::kill(pid, 0) == 0; }

TEST(ChildProcessTest, PassesArgumentsAndCapturesBothStreams) {
  ChildProcess child = Shell("echo \"out $1\"; echo err >&2; exit 3");
  EXPECT_EQ(child.Wait(absl::Seconds(30)), 3);
  EXPECT_FALSE(child.running());
  EXPECT_EQ(child.Stdout(), "out first arg\n");
  EXPECT_EQ(child.Stderr(), "err\n");
}

TEST(ChildProcessTest, InheritsTheEnvironmentUnlessOneIsGiven) {
  ::setenv("GEO_CHILD_PROCESS_TEST", "inherited", 1);
  ChildProcess inherited = Shell("echo \"[$GEO_CHILD_PROCESS_TEST]\"");
  ASSERT_EQ(inherited.Wait(absl::Seconds(30)), 0);
  EXPECT_EQ(inherited.Stdout(), "[inherited]\n");

  ChildOptions options;
  options.argv = {"/bin/sh", "-c",
                  "echo \"[$GEO_CHILD_PROCESS_TEST][$ONLY_THIS]\""};
  options.environment = {{{"ONLY_THIS", "given"}}};
  absl::StatusOr<ChildProcess> exact = ChildProcess::Start(std::move(options));
  ASSERT_TRUE(exact.ok()) << exact.status();
  ASSERT_EQ(exact->Wait(absl::Seconds(30)), 0);
  EXPECT_EQ(exact->Stdout(), "[][given]\n");
}

TEST(ChildProcessTest, AMissingProgramIsAnError) {
  ChildOptions options;
  options.argv = {"/no/such/program"};
  absl::StatusOr<ChildProcess> child = ChildProcess::Start(std::move(options));
  if (child.ok()) {
    // glibc may report a failed exec as exit code 127 instead.
    EXPECT_EQ(child->Wait(absl::Seconds(30)), 127);
  }
}

TEST(ChildProcessTest, FindsProgramsOnPath) {
  absl::StatusOr<std::string> sh = FindProgram("sh");
  ASSERT_TRUE(sh.ok()) << sh.status();
  EXPECT_EQ(sh->front(), '/');
  EXPECT_EQ(::access(sh->c_str(), X_OK), 0) << *sh;
  EXPECT_EQ(*FindProgram("./relative/name"), "./relative/name");
  EXPECT_EQ(FindProgram("no-such-program-anywhere").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(ChildProcessTest, WaitsForOutputWhileTheChildRuns) {
  ChildProcess child = Shell("sleep 0.2; echo ready >&2; sleep 30");
  EXPECT_TRUE(child.WaitForOutput("ready", absl::Seconds(30)));
  EXPECT_TRUE(child.running());
  EXPECT_FALSE(child.WaitForOutput("never written", absl::Milliseconds(50)));
}

TEST(ChildProcessTest, StopsWaitingForOutputWhenTheChildExits) {
  ChildProcess child = Shell("echo something else");
  const absl::Time start = absl::Now();
  EXPECT_FALSE(child.WaitForOutput("never written", absl::Seconds(60)));
  EXPECT_LT(absl::Now() - start, absl::Seconds(30));
}

TEST(ChildProcessTest, WaitsForAPortUntilTheChildExits) {
  absl::StatusOr<int> port = PickFreePort();
  ASSERT_TRUE(port.ok()) << port.status();
  ChildProcess child = Shell("sleep 30");
  EXPECT_FALSE(child.WaitForPort(*port, absl::Milliseconds(50)));

  FileDescriptor listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(*port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&address),
                   sizeof(address)),
            0);
  ASSERT_EQ(::listen(listener.get(), 4), 0);
  EXPECT_TRUE(AcceptsConnections(*port));
  EXPECT_TRUE(child.WaitForPort(*port, absl::Seconds(30)));

  child.Signal(SIGKILL);
  ASSERT_EQ(child.Wait(absl::Seconds(30)), 128 + SIGKILL);
  EXPECT_FALSE(child.WaitForPort(*port, absl::Seconds(30)))
      << "a listener that is not the child's does not count after its exit";
}

TEST(ChildProcessTest, StopSendsSigtermFirst) {
  ChildProcess child = Shell(
      "trap 'echo terminated; exit 7' TERM; echo armed; "
      "while :; do sleep 0.05; done");
  ASSERT_TRUE(child.WaitForOutput("armed", absl::Seconds(30)));
  EXPECT_EQ(child.Stop(absl::Seconds(30)), 7);
  EXPECT_THAT(child.Stdout(), HasSubstr("terminated"));
}

TEST(ChildProcessTest, StopKillsAChildThatIgnoresSigterm) {
  ChildProcess child =
      Shell("trap '' TERM; echo armed; while :; do sleep 0.05; done");
  ASSERT_TRUE(child.WaitForOutput("armed", absl::Seconds(30)));
  EXPECT_EQ(child.Stop(absl::Milliseconds(200)), 128 + SIGKILL);
  EXPECT_FALSE(Alive(child.pid()));
}

TEST(ChildProcessTest, DestructionStopsAndReapsTheChild) {
  pid_t pid = -1;
  {
    ChildProcess child =
        Shell("trap '' TERM; echo armed; sleep 30", absl::Milliseconds(100));
    ASSERT_TRUE(child.WaitForOutput("armed", absl::Seconds(30)));
    pid = child.pid();
    EXPECT_TRUE(Alive(pid));
  }
  // Reaped, so the pid is gone rather than a zombie.
  EXPECT_FALSE(Alive(pid));
}

TEST(ChildProcessTest, MovingKeepsOneOwner) {
  ChildProcess first = Shell("sleep 30");
  const pid_t pid = first.pid();
  ChildProcess second(std::move(first));
  EXPECT_EQ(second.pid(), pid);
  EXPECT_FALSE(first.running());  // NOLINT(bugprone-use-after-move)
  EXPECT_TRUE(second.running());
  EXPECT_EQ(second.Stop(absl::Seconds(30)), 128 + SIGTERM);
}

}  // namespace
}  // namespace geo::testing
