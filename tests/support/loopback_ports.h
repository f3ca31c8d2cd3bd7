// Ports on 127.0.0.1 for tests that start servers which cannot bind port 0
// and report it (nginx, Caddy) or that probe a listener.
#ifndef TESTS_SUPPORT_LOOPBACK_PORTS_H_
#define TESTS_SUPPORT_LOOPBACK_PORTS_H_

#include "absl/status/statusor.h"

namespace geo::testing {

// A port on 127.0.0.1 that was free a moment ago (bound to 0, then released):
// another process may take it before the caller binds it, so a caller retries
// on new ports when its server reports "address already in use".
absl::StatusOr<int> PickFreePort();

// True when a TCP connection to 127.0.0.1:`port` is accepted now.
bool AcceptsConnections(int port);

}  // namespace geo::testing

#endif  // TESTS_SUPPORT_LOOPBACK_PORTS_H_
