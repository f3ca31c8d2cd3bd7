#include "geo/data/record_cache.h"

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

void DecodedRecord::SetFields(const geo::v1::LookupResponse& fields) {
  wire_ = fields.SerializeAsString();
  country_iso_code_ = fields.country().iso_code();
  has_autonomous_system_ = HasAutonomousSystem(fields);
}

geo::v1::LookupResponse DecodedRecord::Fields() const {
  geo::v1::LookupResponse fields;
  // Our own serialization of a valid message: parsing cannot fail.
  fields.ParseFromString(wire_);
  return fields;
}

void DecodedRecord::MergeInto(geo::v1::LookupResponse* response) const {
  if (has_subdivisions) response->clear_subdivisions();
  response->MergeFromString(wire_);
}

const AnswerTemplate* DecodedRecord::Rendered(
    const AnswerRenderer& render) const {
  absl::call_once(rendered_->once, [&] {
    rendered_->answer = AnswerTemplate::Build(Fields(), render);
  });
  return rendered_->answer.has_value() ? &*rendered_->answer : nullptr;
}

void DecodedRecord::ShareRenderedAnswer(const DecodedRecord& same) {
  rendered_ = same.rendered_;
}

PreviousRecords::PreviousRecords(
    std::vector<std::shared_ptr<const DecodedRecord>> records) {
  by_content_.reserve(records.size());
  for (std::shared_ptr<const DecodedRecord>& record : records) {
    const std::pair<absl::string_view, absl::string_view> key(record->wire(),
                                                              record->language);
    by_content_.emplace(key, std::move(record));
  }
}

const DecodedRecord* PreviousRecords::Find(const DecodedRecord& record) const {
  const auto it =
      by_content_.find(std::pair<absl::string_view, absl::string_view>(
          record.wire(), record.language));
  return it == by_content_.end() ? nullptr : it->second.get();
}

RecordCache::RecordCache(size_t slots)
    : slot_mask_(RoundUpToPowerOfTwo(slots < kShards ? kShards : slots) - 1),
      shards_(new Shard[kShards]) {
  const size_t per_shard = capacity() / kShards;
  for (size_t i = 0; i < kShards; ++i) {
    absl::MutexLock lock(&shards_[i].mu);
    shards_[i].slots.resize(per_shard);
  }
}

size_t RecordCache::SlotOf(uint32_t offset, absl::string_view language) const {
  // Offsets of neighbouring records differ by their sizes (tens to hundreds
  // of bytes), so the offset alone would leave most slots unused: mix it.
  return absl::HashOf(offset, language) & slot_mask_;
}

std::shared_ptr<const DecodedRecord> RecordCache::Find(
    uint32_t offset, absl::string_view language) const {
  const size_t slot = SlotOf(offset, language);
  // Low bits pick the shard, the rest the slot inside it, so every slot of
  // the direct-mapped table is reachable.
  const Shard& shard = shards_[slot % kShards];
  std::shared_ptr<const DecodedRecord> record;
  {
    absl::ReaderMutexLock lock(&shard.mu);
    const std::shared_ptr<const DecodedRecord>& occupant =
        shard.slots[slot / kShards];
    if (occupant != nullptr && occupant->offset == offset &&
        occupant->language == language) {
      record = occupant;
    }
  }
  (record != nullptr ? shard.hits : shard.misses)
      .fetch_add(1, std::memory_order_relaxed);
  return record;
}

std::shared_ptr<const DecodedRecord> RecordCache::Insert(DecodedRecord record) {
  const size_t slot = SlotOf(record.offset, record.language);
  auto shared = std::make_shared<const DecodedRecord>(std::move(record));
  Shard& shard = shards_[slot % kShards];
  std::shared_ptr<const DecodedRecord> evicted;
  {
    absl::MutexLock lock(&shard.mu);
    evicted = std::exchange(shard.slots[slot / kShards], shared);
  }
  // `evicted` is freed here, outside the lock (readers may still hold it).
  return shared;
}

std::vector<std::shared_ptr<const DecodedRecord>> RecordCache::Records() const {
  std::vector<std::shared_ptr<const DecodedRecord>> records;
  for (size_t i = 0; i < kShards; ++i) {
    const Shard& shard = shards_[i];
    absl::ReaderMutexLock lock(&shard.mu);
    for (const auto& occupant : shard.slots) {
      if (occupant != nullptr) records.push_back(occupant);
    }
  }
  return records;
}

RecordCacheStats RecordCache::Stats() const {
  RecordCacheStats stats;
  stats.capacity = capacity();
  for (size_t i = 0; i < kShards; ++i) {
    const Shard& shard = shards_[i];
    stats.hits += shard.hits.load(std::memory_order_relaxed);
    stats.misses += shard.misses.load(std::memory_order_relaxed);
    absl::ReaderMutexLock lock(&shard.mu);
    for (const auto& occupant : shard.slots) {
      if (occupant != nullptr) ++stats.entries;
    }
  }
  return stats;
}

}  // namespace geo
