// The API's behaviour, once, for both front ends: the gRPC service and the
// HTTP/JSON gateway call these methods and only translate transport.
#ifndef GEO_SERVER_LOOKUP_SERVICE_H_
#define GEO_SERVER_LOOKUP_SERVICE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "api/geo/v1/geo.pb.h"
#include "geo/common/clock.h"
#include "geo/data/geo_store.h"
#include "geo/data/lookup_answer.h"
#include "geo/policy/policy_store.h"
#include "geo/server/caller_address.h"
#include "geo/server/server_metrics.h"

namespace geo {

// Where a call came from, for "me" and for metrics.
struct CallOrigin {
  Protocol protocol = Protocol::kHttp;
  // Transport peer ("127.0.0.1", or gRPC's "ipv4:127.0.0.1:5555").
  absl::string_view peer;
  // X-Forwarded-For values, in the order received.
  std::vector<absl::string_view> forwarded_for;
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

  // Every method records geofence_lookups_total and the latency histogram for
  // the call, whatever its outcome.
  absl::Status Lookup(const CallOrigin& origin,
                      const geo::v1::LookupRequest& request,
                      geo::v1::LookupResponse* response) const;
  // Lookup without building the message: the cached records the answer is
  // made of, for a front end that renders them itself (the HTTP gateway
  // fills each record's rendered template). Same metrics and errors.
  absl::StatusOr<LookupAnswer> Answer(
      const CallOrigin& origin, const geo::v1::LookupRequest& request) const;
  absl::Status BatchLookup(const CallOrigin& origin,
                           const geo::v1::BatchLookupRequest& request,
                           geo::v1::BatchLookupResponse* response) const;
  absl::Status Check(const CallOrigin& origin,
                     const geo::v1::CheckRequest& request,
                     geo::v1::CheckResponse* response) const;
  absl::Status ListDatabases(const CallOrigin& origin,
                             const geo::v1::ListDatabasesRequest& request,
                             geo::v1::ListDatabasesResponse* response) const;

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

  const GeoStore* store_;
  const policy::PolicyStore* policies_;
  const CallerResolver* callers_;
  ServerMetrics* metrics_;
  Clock* clock_;
  Options options_;
};

}  // namespace geo

#endif  // GEO_SERVER_LOOKUP_SERVICE_H_
