// The API's behaviour, once, for both front ends: the gRPC service and the
// HTTP/JSON gateway call these methods and only translate transport.
#ifndef GEO_SERVER_LOOKUP_SERVICE_H_
#define GEO_SERVER_LOOKUP_SERVICE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "api/geo/v1/geo.pb.h"
#include "geo/common/clock.h"
#include "geo/data/geo_store.h"
#include "geo/data/lookup_answer.h"
#include "geo/policy/policy_set.h"
#include "geo/policy/policy_store.h"
#include "geo/server/caller_address.h"
#include "geo/server/server_metrics.h"
#include "geo/tls/peer_identity.h"

namespace geo {

// Where a call came from, for "me", forward-auth decisions and metrics.
struct CallOrigin {
  Protocol protocol = Protocol::kHttp;
  // Transport peer ("127.0.0.1", or gRPC's "ipv4:127.0.0.1:5555").
  absl::string_view peer;
  // The call's headers or metadata (X-Forwarded-For, Forwarded, ...); may be
  // null. Not owned; valid for the call.
  const ForwardingHeaders* headers = nullptr;
  // The names of the client certificate the TLS handshake verified; null on
  // a plaintext listener or without a client certificate. Not owned; valid
  // for the call.
  const tls::PeerIdentity* client_identity = nullptr;
};

// One geofence decision and the facts it was made from: what Check answers
// and what a forward-auth endpoint turns into a status and headers.
struct GeofenceDecision {
  // Keeps `policy` alive while the decision is used.
  std::shared_ptr<const policy::PolicySet> policies;
  const policy::Policy* policy = nullptr;
  // The policy's decision; when `failed`, the one its on_error made.
  policy::Decision decision;
  // Whether the request may pass: the policy allowed it, or it is a dry run,
  // or it failed and on_error is "allow".
  bool allowed = true;
  // No decision could be made (see `error`); on_error decided.
  bool failed = false;
  policy::DecisionError error = policy::DecisionError::kLookupError;
  // The client (the resolved caller, or the address checked); empty when it
  // could not be told.
  std::string ip;
  // The caller's verified client certificate, as the policy saw it; null
  // without one. Valid for the call (it is the CallOrigin's).
  const tls::PeerIdentity* client_identity = nullptr;
  // From the lookup; empty / 0 when unknown.
  std::string country_code;
  std::string subdivision_code;  // ISO 3166-2, e.g. "US-CA".
  std::string city;              // English name.
  uint32_t asn = 0;
  std::string network;

  // "allowed", "denied" or "dry_run_denied".
  policy::DecisionResult result() const;
};

// Thread-safe; holds no state of its own beyond its collaborators.
class LookupService {
 public:
  struct Options {
    int max_batch_size = 1000;
  };

  // None of the pointers is owned; all must outlive the service.
  LookupService(const GeoStore* store, const policy::PolicyStore* policies,
                const CallerResolver* callers, ServerMetrics* metrics,
                Clock* clock, Options options);

  // Most addresses in one BatchLookup (front ends may refuse more before
  // parsing a request).
  int max_batch_size() const { return options_.max_batch_size; }

  // Every method records geofence_lookups_total and the latency histogram for
  // the call, whatever its outcome.
  //
  // Lookup: the cached records the answer is made of, for front ends that
  // render them themselves (gRPC writes their wire form, HTTP fills each
  // record's rendered template). Recorded as method Lookup.
  absl::StatusOr<LookupAnswer> Answer(
      const CallOrigin& origin, const geo::v1::LookupRequest& request) const;
  absl::Status BatchLookup(const CallOrigin& origin,
                           const geo::v1::BatchLookupRequest& request,
                           geo::v1::BatchLookupResponse* response) const;
  // Decides with the named (or default) policy; the policy sees the
  // origin's verified client identity, if any.
  absl::Status Check(const CallOrigin& origin,
                     const geo::v1::CheckRequest& request,
                     geo::v1::CheckResponse* response) const;
  absl::Status ListDatabases(const CallOrigin& origin,
                             const geo::v1::ListDatabasesRequest& request,
                             geo::v1::ListDatabasesResponse* response) const;

  // A forward-auth decision for the caller of `origin` (resolved through the
  // trusted proxies and forwarding headers) under the policy `target`
  // routes to. Never fails: a decision that cannot be made (no database, a
  // lookup error, no parseable client address) is made by the policy's
  // on_error, with `failed` set. Records the call as method Authorize.
  GeofenceDecision Authorize(const CallOrigin& origin,
                             const policy::RequestTarget& target) const;

 private:
  // "me" -> the caller, else the parsed address. InvalidArgument names the
  // text that is not an address.
  absl::StatusOr<IpAddress> ResolveAddress(const CallOrigin& origin,
                                           absl::string_view text) const;
  absl::StatusOr<LookupAnswer> FindOne(const CallOrigin& origin,
                                       absl::string_view ip,
                                       absl::string_view language) const;
  absl::Status LookupOne(const CallOrigin& origin, absl::string_view ip,
                         absl::string_view language,
                         geo::v1::LookupResponse* response) const;
  // Looks `address` up and lets `decision->policy` decide, with
  // `decision->client_identity`; fills the facts. Errors are the lookup's
  // (UNAVAILABLE while no database is loaded).
  absl::Status Decide(const IpAddress& address,
                      GeofenceDecision* decision) const;
  // Makes `decision` the policy's on_error answer for `error`.
  void Fail(policy::DecisionError error, const absl::Status& cause,
            GeofenceDecision* decision) const;
  // Counts `decision`, logs a dry-run policy's denials (sampled) and, at
  // debug level, every decision.
  void Count(const GeofenceDecision& decision) const;

  const GeoStore* store_;
  const policy::PolicyStore* policies_;
  const CallerResolver* callers_;
  ServerMetrics* metrics_;
  Clock* clock_;
  Options options_;
  // When the next dry-run denial may be logged (sampling: one a second).
  mutable std::atomic<int64_t> next_dry_run_log_ns_{0};
};

}  // namespace geo

#endif  // GEO_SERVER_LOOKUP_SERVICE_H_
