#include "tests/support/loopback_listener.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <optional>
#include <string>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "geo/common/file_descriptor.h"
#include "gtest/gtest.h"

namespace geo::testing {
namespace {

FileDescriptor Connect(int port) {
  FileDescriptor fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address),
                sizeof(address)) != 0) {
    return FileDescriptor();
  }
  return fd;
}

// What the peer sent until it closed.
std::string ReadToEnd(int fd) {
  std::string data;
  char buffer[256];
  ssize_t n;
  while ((n = ::recv(fd, buffer, sizeof(buffer), 0)) > 0) {
    data.append(buffer, static_cast<size_t>(n));
  }
  return data;
}

TEST(LoopbackListenerTest, ServesEachConnectionAndClosesIt) {
  LoopbackListener listener([](int fd) {
    std::optional<std::string> head = ReadHttpHead(fd);
    SendAll(fd, head.has_value() ? "got " + *head : "nothing");
  });
  ASSERT_GT(listener.port(), 0);
  for (const char* request :
       {"GET /a HTTP/1.1\r\n\r\n", "GET /b HTTP/1.1\r\n\r\nbody"}) {
    FileDescriptor client = Connect(listener.port());
    ASSERT_TRUE(client.valid());
    ASSERT_TRUE(SendAll(client.get(), request));
    EXPECT_EQ(ReadToEnd(client.get()), std::string("got ") + request);
  }
}

TEST(LoopbackListenerTest, ReadHttpHeadGivesUpWhenThePeerClosesEarly) {
  LoopbackListener listener([](int fd) {
    SendAll(fd, ReadHttpHead(fd).has_value() ? "head" : "none");
  });
  FileDescriptor client = Connect(listener.port());
  ASSERT_TRUE(client.valid());
  ASSERT_TRUE(SendAll(client.get(), "GET / HTTP/1.1\r\n"));
  ::shutdown(client.get(), SHUT_WR);
  EXPECT_EQ(ReadToEnd(client.get()), "none");
}

TEST(LoopbackListenerTest, DestructionEndsWaitsAndJoinsConnections) {
  std::atomic<LoopbackListener*> self{nullptr};
  absl::Notification entered;
  std::atomic<bool> woke_early{false};
  std::atomic<bool> finished{false};
  FileDescriptor client;
  {
    LoopbackListener listener([&](int) {
      entered.Notify();
      woke_early = self.load()->stopping().WaitForNotificationWithTimeout(
          absl::Seconds(60));
      finished = true;
    });
    self = &listener;
    client = Connect(listener.port());
    ASSERT_TRUE(client.valid());
    ASSERT_TRUE(entered.WaitForNotificationWithTimeout(absl::Seconds(30)));
  }
  EXPECT_TRUE(finished) << "the destructor joined the connection's thread";
  EXPECT_TRUE(woke_early) << "stopping() ended the handler's wait";
  EXPECT_EQ(ReadToEnd(client.get()), "") << "the socket was closed";
}

}  // namespace
}  // namespace geo::testing
