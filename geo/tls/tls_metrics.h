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

// One process's metric names (whole literals, so the alert rules' checks
// find them in the source).
struct TlsMetricNames {
  // {certificate="serving"|"client_ca"}: notAfter of the serving
  // certificate; the earliest notAfter of the client CA bundle.
  const char* expiry;
  // {certificate="serving"}: notBefore of the serving certificate (with the
  // expiry, its lifetime: the alert fires on the share left).
  const char* not_before;
  // {result="success"|"failure"}
  const char* reloads;
  // {listener="grpc"|"http"|"metrics"}
  const char* denials;
};

inline constexpr TlsMetricNames kServerTlsMetricNames = {
    "geofence_tls_certificate_expiry_timestamp_seconds",
    "geofence_tls_certificate_not_before_timestamp_seconds",
    "geofence_tls_reloads_total",
    "geofence_tls_client_denials_total",
};

inline constexpr TlsMetricNames kUpdaterTlsMetricNames = {
    "geo_updater_tls_certificate_expiry_timestamp_seconds",
    "geo_updater_tls_certificate_not_before_timestamp_seconds",
    "geo_updater_tls_reloads_total",
    "geo_updater_tls_client_denials_total",
};

// Thread-safe.
class TlsMetrics {
 public:
  TlsMetrics(prometheus::Registry& registry, const TlsMetricNames& names);

  void RecordReload(bool success);
  // `client_ca_not_after` InfiniteFuture: no client CA (the gauge reads 0).
  void SetValidity(absl::Time serving_not_before, absl::Time serving_not_after,
                   absl::Time client_ca_not_after);
  void RecordClientDenied(Listener listener);

 private:
  // Indexed by success: [false] result="failure", [true] result="success".
  prometheus::Counter* reloads_[2];
  prometheus::Gauge* serving_expiry_;
  prometheus::Gauge* serving_not_before_;
  prometheus::Gauge* client_ca_expiry_;
  prometheus::Counter* denials_[kListenerCount];
};

}  // namespace geo::tls

#endif  // GEO_TLS_TLS_METRICS_H_
