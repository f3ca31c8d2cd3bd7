#include "geo/data/record_cache.h"

#include <algorithm>
#include <utility>

#include "absl/hash/hash.h"

namespace geo {
namespace {

size_t RoundUpToPowerOfTwo(size_t n) {
  size_t power = 1;
  while (power < n) power <<= 1;
  return power;
}

}  // namespace

RecordCache::RecordCache(size_t slots)
    : set_mask_(RoundUpToPowerOfTwo(std::max(slots, 2 * kShards)) / 2 - 1),
      shards_(new Shard[kShards]) {
  for (size_t i = 0; i < kShards; ++i) {
    absl::MutexLock lock(&shards_[i].mu);
    shards_[i].slots = std::make_unique<Slot[]>(slots_per_shard());
  }
}

size_t RecordCache::SetOf(uint32_t offset, absl::string_view language) const {
  // Offsets of neighbouring records differ by their sizes (tens to hundreds
  // of bytes), so the offset alone would leave most sets unused: mix it.
  return absl::HashOf(offset, language) & set_mask_;
}

namespace {

bool Holds(const std::shared_ptr<const DecodedRecord>& record, uint32_t offset,
           absl::string_view language) {
  return record != nullptr && record->offset == offset &&
         record->language == language;
}

}  // namespace

std::shared_ptr<const DecodedRecord> RecordCache::Find(
    uint32_t offset, absl::string_view language) const {
  const size_t set = SetOf(offset, language);
  // Low bits pick the shard, the rest the set inside it, so every set is
  // reachable.
  const Shard& shard = shards_[set % kShards];
  std::shared_ptr<const DecodedRecord> record;
  {
    absl::ReaderMutexLock lock(&shard.mu);
    const Slot* ways = &shard.slots[2 * (set / kShards)];
    for (int way = 0; way < 2; ++way) {
      if (Holds(ways[way].record, offset, language)) {
        record = ways[way].record;
        // Read first: a hot record's line is not written on every hit.
        if (!ways[way].hit.load(std::memory_order_relaxed)) {
          ways[way].hit.store(true, std::memory_order_relaxed);
        }
        break;
      }
    }
  }
  (record != nullptr ? shard.hits : shard.misses)
      .fetch_add(1, std::memory_order_relaxed);
  return record;
}

std::shared_ptr<const DecodedRecord> RecordCache::Insert(DecodedRecord record) {
  const size_t set = SetOf(record.offset, record.language);
  auto shared = std::make_shared<const DecodedRecord>(std::move(record));
  Shard& shard = shards_[set % kShards];
  std::shared_ptr<const DecodedRecord> evicted;
  {
    absl::MutexLock lock(&shard.mu);
    Slot* ways = &shard.slots[2 * (set / kShards)];
    int victim;
    if (Holds(ways[0].record, shared->offset, shared->language) ||
        ways[0].record == nullptr) {
      victim = 0;  // Another thread decoded the same record, or room.
    } else if (Holds(ways[1].record, shared->offset, shared->language) ||
               ways[1].record == nullptr) {
      victim = 1;
    } else if (!ways[0].hit.load(std::memory_order_relaxed)) {
      victim = 0;
    } else if (!ways[1].hit.load(std::memory_order_relaxed)) {
      victim = 1;
    } else {
      // Both hit since the last choice: start a new round, keep the second.
      ways[1].hit.store(false, std::memory_order_relaxed);
      victim = 0;
    }
    ways[victim].hit.store(false, std::memory_order_relaxed);
    evicted = std::exchange(ways[victim].record, shared);
  }
  // `evicted` is freed here, outside the lock (readers may still hold it).
  return shared;
}

std::vector<std::shared_ptr<const DecodedRecord>> RecordCache::Records() const {
  std::vector<std::shared_ptr<const DecodedRecord>> records;
  for (size_t i = 0; i < kShards; ++i) {
    const Shard& shard = shards_[i];
    absl::ReaderMutexLock lock(&shard.mu);
    for (size_t slot = 0; slot < slots_per_shard(); ++slot) {
      if (shard.slots[slot].record != nullptr) {
        records.push_back(shard.slots[slot].record);
      }
    }
  }
  return records;
}

void RecordCache::Clear(BackgroundWork& work) {
  for (size_t i = 0; i < kShards; ++i) {
    Shard& shard = shards_[i];
    std::vector<std::shared_ptr<const DecodedRecord>> cleared;
    {
      absl::MutexLock lock(&shard.mu);
      for (size_t slot = 0; slot < slots_per_shard(); ++slot) {
        if (shard.slots[slot].record != nullptr) {
          cleared.push_back(std::move(shard.slots[slot].record));
        }
      }
    }
    cleared.clear();  // Freed outside the lock.
    work.Step();
  }
}

RecordCacheStats RecordCache::Stats() const {
  RecordCacheStats stats;
  stats.capacity = capacity();
  for (size_t i = 0; i < kShards; ++i) {
    const Shard& shard = shards_[i];
    stats.hits += shard.hits.load(std::memory_order_relaxed);
    stats.misses += shard.misses.load(std::memory_order_relaxed);
    absl::ReaderMutexLock lock(&shard.mu);
    for (size_t slot = 0; slot < slots_per_shard(); ++slot) {
      if (shard.slots[slot].record != nullptr) ++stats.entries;
    }
  }
  return stats;
}

}  // namespace geo
