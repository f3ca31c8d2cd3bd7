// Whether a listener still takes connections, judged from the kernel's accept
// queue of its socket.
//
// The Debian gRPC this server links (1.51) stops accepting on a port for good
// after one accept(2) fails with anything but EAGAIN or ECONNABORTED, e.g.
// EMFILE when the descriptor table was full for a moment (CVE-2023-4785,
// fixed upstream from the 1.53.2 patch releases on; ADR 0032). Nothing
// in gRPC reports it: the port still listens, the kernel still completes
// handshakes and queues the connections, and nobody takes them. A listener
// whose accept queue holds connections every time it is looked at, over
// seconds, is in that state; a working one empties its queue within
// microseconds.
#ifndef GEO_SERVER_ACCEPT_STALL_CHECK_H_
#define GEO_SERVER_ACCEPT_STALL_CHECK_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "geo/common/clock.h"

namespace geo {

// Connections waiting in the accept queues of the listening TCP sockets on
// `port` (IPv4 and IPv6, any address), from `proc_net`/tcp and tcp6 (the
// network namespace of the reading process); nullopt when no socket listens
// on `port` or neither file can be read.
// Reading them costs time in proportion to every TCP socket of the network
// namespace: AcceptStallCheck does it at most once a second.
std::optional<int64_t> ListenAcceptQueue(
    int port, const std::string& proc_net = "/proc/net");

// Thread-safe.
class AcceptStallCheck {
 public:
  struct Options {
    // What the log calls the listener ("gRPC").
    std::string name;
    int port = 0;
    // Not owned; Clock::Real() when null.
    Clock* clock = nullptr;
    std::string proc_net = "/proc/net";
    // Stalled after this many samples in a row found connections waiting,
    // each at least `spacing` after the previous one.
    int samples = 3;
    absl::Duration spacing = absl::Seconds(1);
  };

  explicit AcceptStallCheck(Options options);

  // Samples the queue (unless the last sample is less than `spacing` old)
  // and returns whether the listener has stalled. Once it has, it stays so
  // (nothing restarts a gRPC listener but a new process), and the first
  // such answer logs an error.
  bool Stalled() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const Options options_;
  Clock* const clock_;
  absl::Mutex mu_;
  int busy_samples_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time last_sample_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool stalled_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace geo

#endif  // GEO_SERVER_ACCEPT_STALL_CHECK_H_
