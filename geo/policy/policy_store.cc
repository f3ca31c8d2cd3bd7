#include "geo/policy/policy_store.h"

#include <utility>

namespace geo::policy {

absl::Status PolicyStore::Reload(const std::string& path) {
  auto policy = Policy::FromFile(path);
  if (!policy.ok()) return policy.status();
  Replace(std::move(*policy));
  return absl::OkStatus();
}

void PolicyStore::Replace(std::shared_ptr<const Policy> policy) {
  // The old policy is released outside the lock.
  {
    absl::MutexLock lock(&mu_);
    policy_.swap(policy);
  }
}

std::shared_ptr<const Policy> PolicyStore::Current() const {
  absl::ReaderMutexLock lock(&mu_);
  return policy_;
}

Decision PolicyStore::Evaluate(const PolicyInput& input) const {
  const std::shared_ptr<const Policy> policy = Current();
  if (policy == nullptr) return NoPolicyDecision();
  return policy->Evaluate(input);
}

}  // namespace geo::policy
