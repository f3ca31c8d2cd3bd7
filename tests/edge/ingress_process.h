// Debian's nginx and Caddy as child processes of a test, in front of a real
// geo_server: loopback only, free ports, everything they write (pid file,
// logs, temp files, Caddy's data and config) in a fresh temp directory, in
// the foreground (nginx `daemon off`, `caddy run`), stopped by the test.
// Works as root and as any other user: nginx runs without a master process,
// so it never switches users, and Caddy's admin endpoint is off.
#ifndef TESTS_EDGE_INGRESS_PROCESS_H_
#define TESTS_EDGE_INGRESS_PROCESS_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/support/child_process.h"

namespace geo::testing {

struct IngressPorts {
  int listen = 0;    // where the ingress serves clients
  int upstream = 0;  // the echo upstream behind it
};

// Renders the site configuration for `ports` (the tested block of
// docs/edge.md with its placeholders replaced).
using SiteRenderer =
    std::function<absl::StatusOr<std::string>(const IngressPorts& ports)>;

// How to run one kind of ingress (ingress_process.cc).
struct IngressKind;

// Every upstream answers 200 with a body of `name=value` lines: what it
// received (`uri`, `host`, and each X-Geo-* header under its lower-case name,
// e.g. `x-geo-country=GB`), so a test sees what the ingress passed on.
class IngressProcess {
 public:
  // Starts `ingress`, "nginx" or "caddy" (InvalidArgument for another
  // name), on free ports with a configuration in a fresh directory DIR:
  // - nginx -p DIR -c DIR/nginx.conf: a main context of the harness
  //   (foreground, one process, logs and temp paths in DIR) whose http block
  //   holds the echo upstream and `site`;
  // - caddy run with a Caddyfile of the harness's global options (admin off,
  //   auto_https off, bind 127.0.0.1, storage in DIR), the echo upstream and
  //   `site`.
  // Tries new ports when the ones it picked were taken meanwhile.
  static absl::StatusOr<std::unique_ptr<IngressProcess>> Start(
      const std::string& ingress, const SiteRenderer& site);

  // Stops the process (SIGTERM, then SIGKILL after 10 s) and reaps it.
  ~IngressProcess();

  const IngressPorts& ports() const { return ports_; }
  std::string url(const std::string& path) const;
  // The process's error log and stderr, for failure messages.
  std::string Log() const;
  // SIGTERM, up to `grace` for the exit, then SIGKILL; the exit status (128 +
  // signal when killed).
  absl::StatusOr<int> Stop(absl::Duration grace);

 private:
  static absl::StatusOr<std::unique_ptr<IngressProcess>> Start(
      const IngressKind& kind, const SiteRenderer& site);

  IngressProcess() = default;

  std::string name_;
  IngressPorts ports_;
  std::string log_path_;
  std::optional<ChildProcess> process_;
};

}  // namespace geo::testing

#endif  // TESTS_EDGE_INGRESS_PROCESS_H_
