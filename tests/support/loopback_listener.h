// An in-process TCP server skeleton for test fakes on 127.0.0.1: it listens
// on a port of its own (bound to port 0), accepts on one thread and runs the
// connection handler on a thread per connection, then closes the socket.
// With it, a fake is only its protocol: read a request, answer it.
#ifndef TESTS_SUPPORT_LOOPBACK_LISTENER_H_
#define TESTS_SUPPORT_LOOPBACK_LISTENER_H_

#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "geo/common/file_descriptor.h"

namespace geo::testing {

// Thread-safe. Aborts the test binary when it cannot listen: a fake without
// a socket cannot stand in for anything.
class LoopbackListener {
 public:
  // Runs `serve(fd)` for each accepted connection on a thread of its own;
  // the listener closes `fd` when `serve` returns. `serve` may run until the
  // destructor starts: an owner declares its listener after every member
  // `serve` uses, so the listener goes first.
  explicit LoopbackListener(std::function<void(int fd)> serve);
  // Stops accepting, notifies stopping() and joins every connection thread.
  ~LoopbackListener();

  LoopbackListener(const LoopbackListener&) = delete;
  LoopbackListener& operator=(const LoopbackListener&) = delete;

  int port() const { return port_; }
  // Notified when the destructor starts, so handlers that pause (a slow
  // body) can end their waits early.
  const absl::Notification& stopping() const { return stopping_; }

 private:
  void AcceptLoop();

  const std::function<void(int fd)> serve_;
  FileDescriptor listen_fd_;
  int port_ = 0;
  absl::Notification stopping_;
  absl::Mutex mu_;
  std::vector<std::thread> connections_ ABSL_GUARDED_BY(mu_);
  std::thread accept_thread_;
};

// Writes all of `data` to `fd` (MSG_NOSIGNAL); false when the peer is gone.
bool SendAll(int fd, absl::string_view data);

// Reads from `fd` until the bytes hold an HTTP head ("\r\n\r\n"); those
// bytes (the head and whatever followed it), or nullopt when the peer
// closes first or is silent for `timeout`.
std::optional<std::string> ReadHttpHead(
    int fd, absl::Duration timeout = absl::Seconds(5));

}  // namespace geo::testing

#endif  // TESTS_SUPPORT_LOOPBACK_LISTENER_H_
