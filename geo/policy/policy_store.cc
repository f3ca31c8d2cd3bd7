#include "geo/policy/policy_store.h"

#include <utility>

namespace geo::policy {

PolicyStore::PolicyStore(DecisionCounterFactory counters)
    : counters_(std::move(counters)),
      allow_all_(PolicySet::AllowAll(counters_)) {}

absl::Status PolicyStore::Reload(const std::string& path) {
  auto policies = PolicySet::FromFile(path, counters_);
  if (!policies.ok()) return policies.status();
  Replace(std::move(*policies));
  return absl::OkStatus();
}

void PolicyStore::Replace(std::shared_ptr<const PolicySet> policies) {
  // The old set is released outside the lock.
  {
    absl::MutexLock lock(&mu_);
    policies_.swap(policies);
  }
}

std::shared_ptr<const PolicySet> PolicyStore::Current() const {
  absl::ReaderMutexLock lock(&mu_);
  return policies_;
}

std::shared_ptr<const PolicySet> PolicyStore::CurrentOrAllowAll() const {
  std::shared_ptr<const PolicySet> current = Current();
  if (current != nullptr) return current;
  return allow_all_;
}

Decision PolicyStore::Evaluate(const PolicyInput& input) const {
  const std::shared_ptr<const PolicySet> policies = Current();
  if (policies == nullptr) return NoPolicyDecision();
  return policies->default_policy().Evaluate(input);
}

}  // namespace geo::policy
