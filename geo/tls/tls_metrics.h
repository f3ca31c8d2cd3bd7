// TLS metrics of one process: when the serving certificate (and the client
// CA bundle) expire, for an "expires soon" alert; how certificate reloads
// went; clients refused by a listener's identity allow-list. Children are
// made once, in the constructor.
#ifndef GEO_TLS_TLS_METRICS_H_
#define GEO_TLS_TLS_METRICS_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace geo::tls {

// The listeners an allow-list guards (the `listener` label).
enum class Listener { kGrpc = 0, kHttp = 1, kMetrics = 2 };
inline constexpr int kListenerCount = 3;
absl::string_view ListenerName(Listener listener);

// Thread-safe.
class TlsMetrics {
 public:
  // Metric names start with `prefix` ("geofence" for the server,
  // "geo_updater" for the updater):
  //   <prefix>_tls_certificate_expiry_timestamp_seconds{certificate=
  //       "serving"|"client_ca"}  (client_ca: its earliest expiry)
  //   <prefix>_tls_reloads_total{result="success"|"failure"}
  //   <prefix>_tls_client_denials_total{listener="grpc"|"http"|"metrics"}
  TlsMetrics(prometheus::Registry& registry, absl::string_view prefix);

  void RecordReload(bool success);
  // `client_ca_not_after` InfiniteFuture: no client CA (the gauge reads 0).
  void SetExpiry(absl::Time serving_not_after, absl::Time client_ca_not_after);
  void RecordClientDenied(Listener listener);

 private:
  prometheus::Counter* reload_success_;
  prometheus::Counter* reload_failure_;
  prometheus::Gauge* serving_expiry_;
  prometheus::Gauge* client_ca_expiry_;
  prometheus::Counter* denials_[kListenerCount];
};

}  // namespace geo::tls

#endif  // GEO_TLS_TLS_METRICS_H_
