#include "geo/tls/tls_metrics.h"

namespace geo::tls {

absl::string_view ListenerName(Listener listener) {
  constexpr absl::string_view kNames[kListenerCount] = {"grpc", "http",
                                                        "metrics"};
  const int index = static_cast<int>(listener);
  return index >= 0 && index < kListenerCount ? kNames[index] : kNames[0];
}

TlsMetrics::TlsMetrics(prometheus::Registry& registry,
                       const TlsMetricNames& names) {
  auto& reloads =
      prometheus::BuildCounter()
          .Name(names.reloads)
          .Help(
              "TLS certificate loads and reloads by result; a failure keeps "
              "the certificate in force")
          .Register(registry);
  for (const bool success : {false, true}) {
    reloads_[success] =
        &reloads.Add({{"result", success ? "success" : "failure"}});
  }
  auto& expiry =
      prometheus::BuildGauge()
          .Name(names.expiry)
          .Help(
              "notAfter of the serving certificate in force, and the "
              "earliest notAfter of the client CA bundle, as Unix time")
          .Register(registry);
  serving_expiry_ = &expiry.Add({{"certificate", "serving"}});
  client_ca_expiry_ = &expiry.Add({{"certificate", "client_ca"}});
  serving_not_before_ =
      &prometheus::BuildGauge()
           .Name(names.not_before)
           .Help("notBefore of the serving certificate in force, as Unix time")
           .Register(registry)
           .Add({{"certificate", "serving"}});
  auto& denials =
      prometheus::BuildCounter()
          .Name(names.denials)
          .Help(
              "Requests refused because the client certificate's identity "
              "is not on the listener's allow-list")
          .Register(registry);
  for (int i = 0; i < kListenerCount; ++i) {
    denials_[i] = &denials.Add(
        {{"listener", std::string(ListenerName(static_cast<Listener>(i)))}});
  }
}

void TlsMetrics::RecordReload(bool success) { reloads_[success]->Increment(); }

void TlsMetrics::SetValidity(absl::Time serving_not_before,
                             absl::Time serving_not_after,
                             absl::Time client_ca_not_after) {
  serving_not_before_->Set(
      absl::ToDoubleSeconds(serving_not_before - absl::UnixEpoch()));
  serving_expiry_->Set(
      absl::ToDoubleSeconds(serving_not_after - absl::UnixEpoch()));
  client_ca_expiry_->Set(
      client_ca_not_after == absl::InfiniteFuture()
          ? 0.0
          : absl::ToDoubleSeconds(client_ca_not_after - absl::UnixEpoch()));
}

void TlsMetrics::RecordClientDenied(Listener listener) {
  denials_[static_cast<int>(listener)]->Increment();
}

}  // namespace geo::tls
