// The current geofence policy, replaceable while requests are evaluated.
#ifndef GEO_POLICY_POLICY_STORE_H_
#define GEO_POLICY_POLICY_STORE_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "geo/policy/policy.h"

namespace geo::policy {

// Thread-safe. The snapshot pattern of GeoStore: readers copy the
// shared_ptr under a reader lock and evaluate with no lock held; Reload builds
// and validates the new policy with no lock held and swaps it in under a
// short writer lock. An empty store means "no policy configured": every
// address is allowed and the reason says so.
class PolicyStore {
 public:
  PolicyStore() = default;
  PolicyStore(const PolicyStore&) = delete;
  PolicyStore& operator=(const PolicyStore&) = delete;

  // Loads `path` (JSON or YAML) and, if it is valid, makes it current. On any
  // error the current policy stays and the error (naming the file, field and
  // line) is returned for the caller to log.
  absl::Status Reload(const std::string& path) ABSL_LOCKS_EXCLUDED(mu_);

  // Makes `policy` current; nullptr empties the store.
  void Replace(std::shared_ptr<const Policy> policy) ABSL_LOCKS_EXCLUDED(mu_);

  // The current policy, or nullptr when none is configured.
  std::shared_ptr<const Policy> Current() const ABSL_LOCKS_EXCLUDED(mu_);

  // The current policy's decision, or NoPolicyDecision().
  Decision Evaluate(const PolicyInput& input) const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;
  std::shared_ptr<const Policy> policy_ ABSL_GUARDED_BY(mu_);
};

}  // namespace geo::policy

#endif  // GEO_POLICY_POLICY_STORE_H_
