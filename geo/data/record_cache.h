// A bounded cache of decoded MaxMind records, keyed by data-section offset and
// language. Owned by one DatabaseGeneration, so it is dropped with the file it
// describes and a reload starts with an empty cache.
#ifndef GEO_DATA_RECORD_CACHE_H_
#define GEO_DATA_RECORD_CACHE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "geo/common/background_work.h"
#include "geo/data/decoded_record.h"
#include "geo/data/record_cache_stats.h"

namespace geo {

// Thread-safe. Two-way set-associative: each (offset, language) may sit in
// either slot of one set, and a new record evicts the set's slot that has not
// been hit since the set last had to choose (not-recently-used; a new record
// starts unhit, so one passing through does not push out a record in use).
// Memory is bounded by the slot count times the largest record. Two ways
// rather than one slot: uniformly random IPv4 lookups reach about twice as
// many records as there are slots, and direct mapping evicted hot records on
// every collision (hit rate 85% against 95% for a cache that knew the
// traffic in advance; docs/benchmarks.md). The hit path writes only a slot's
// hit bit, once. Slots are spread over independently locked shards: a hit
// takes one shard's reader lock for a pointer copy, so concurrent readers on
// different cores rarely touch the same lock word, and never a global one.
class RecordCache {
 public:
  // `slots` is rounded up to a power of two (at least one set, two slots, per
  // shard).
  explicit RecordCache(size_t slots);

  RecordCache(const RecordCache&) = delete;
  RecordCache& operator=(const RecordCache&) = delete;

  // The record cached for (offset, language), or null.
  std::shared_ptr<const DecodedRecord> Find(uint32_t offset,
                                            absl::string_view language) const;

  // Caches `record` (keyed by its own offset and language), evicting one of
  // its set's occupants when both slots are taken, and returns it.
  std::shared_ptr<const DecodedRecord> Insert(DecodedRecord record);

  size_t capacity() const { return 2 * (set_mask_ + 1); }
  // Every record cached now.
  std::vector<std::shared_ptr<const DecodedRecord>> Records() const;
  // Empties every slot, one shard at a time, a step of `work` after each:
  // for the reloading thread, on a replaced generation.
  void Clear(BackgroundWork& work);
  // Approximate while lookups run (counters are relaxed).
  RecordCacheStats Stats() const;

  static constexpr size_t kShards = 64;

 private:
  // Cache-line aligned so two cores hitting different shards do not share
  // a line (the lock word and the counters are written on every hit).
  struct Slot {
    std::shared_ptr<const DecodedRecord> record;
    // Set by a hit under the reader lock (hence atomic), cleared when the
    // set chooses a victim.
    mutable std::atomic<bool> hit{false};
  };
  struct alignas(64) Shard {
    mutable absl::Mutex mu;
    // Set i of this shard is slots[2i] and slots[2i + 1].
    std::unique_ptr<Slot[]> slots ABSL_GUARDED_BY(mu);
    // Written under a reader lock, hence atomic; per shard so the counting
    // adds no shared cache line to the hit path.
    mutable std::atomic<uint64_t> hits{0};
    mutable std::atomic<uint64_t> misses{0};
  };

  size_t SetOf(uint32_t offset, absl::string_view language) const;
  size_t slots_per_shard() const { return capacity() / kShards; }

  const size_t set_mask_;
  std::unique_ptr<Shard[]> shards_;
};

}  // namespace geo

#endif  // GEO_DATA_RECORD_CACHE_H_
