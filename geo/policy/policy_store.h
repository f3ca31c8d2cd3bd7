// The current geofence policies, replaceable while requests are evaluated.
#ifndef GEO_POLICY_POLICY_STORE_H_
#define GEO_POLICY_POLICY_STORE_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "geo/policy/policy.h"
#include "geo/policy/policy_set.h"

namespace geo::policy {

// Thread-safe. The snapshot pattern of GeoStore: readers copy the
// shared_ptr under a reader lock and evaluate with no lock held; Reload builds
// and validates the new policy set with no lock held and swaps it in under a
// short writer lock. An empty store means "no policy configured": every
// address is allowed and the reason says so.
class PolicyStore {
 public:
  // `counters` (may be null) makes each loaded policy's DecisionCounter.
  explicit PolicyStore(DecisionCounterFactory counters = nullptr);
  PolicyStore(const PolicyStore&) = delete;
  PolicyStore& operator=(const PolicyStore&) = delete;

  // Loads `path` (JSON or YAML, either form) and, if every policy and route
  // in it is valid, makes it current. On any error the current policies stay
  // and the error (naming the file, field and line) is returned for the
  // caller to log.
  absl::Status Reload(const std::string& path) ABSL_LOCKS_EXCLUDED(mu_);

  // Makes `policies` current; nullptr empties the store.
  void Replace(std::shared_ptr<const PolicySet> policies)
      ABSL_LOCKS_EXCLUDED(mu_);

  // The current policies, or nullptr when none are configured.
  std::shared_ptr<const PolicySet> Current() const ABSL_LOCKS_EXCLUDED(mu_);

  // The current policies, or a set whose one policy ("default") allows
  // everything with NoPolicyDecision()'s reason. Never null.
  std::shared_ptr<const PolicySet> CurrentOrAllowAll() const
      ABSL_LOCKS_EXCLUDED(mu_);

  // The default policy's decision, or NoPolicyDecision().
  Decision Evaluate(const PolicyInput& input) const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const DecisionCounterFactory counters_;
  // What CurrentOrAllowAll returns while no file is configured.
  const std::shared_ptr<const PolicySet> allow_all_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const PolicySet> policies_ ABSL_GUARDED_BY(mu_);
};

}  // namespace geo::policy

#endif  // GEO_POLICY_POLICY_STORE_H_
