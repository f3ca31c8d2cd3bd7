// A bounded cache of decoded MaxMind records, keyed by data-section offset and
// language. Owned by one DatabaseGeneration, so it is dropped with the file it
// describes and a reload starts with an empty cache.
#ifndef GEO_DATA_RECORD_CACHE_H_
#define GEO_DATA_RECORD_CACHE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/call_once.h"
#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "api/geo/v1/geo.pb.h"
#include "geo/common/background_work.h"
#include "geo/data/answer_template.h"

namespace geo {

// One decoded record: the API fields a data-section record yields in one
// language, decoded from an empty message. Immutable once cached, so readers
// use it with no lock held.
class DecodedRecord {
 public:
  uint32_t offset = 0;
  std::string language;
  // True when the record has a `subdivisions` key: merging it then replaces
  // the subdivisions of an earlier database's answer (even with none).
  bool has_subdivisions = false;
  // The languages the record has names in, as NameLanguageBit()s
  // (geo/data/maxmind_decoder.h): a record
  // whose bit for a language is clear answers in it exactly as in "en".
  uint64_t name_languages = 0;

  // Keeps `fields` (the record decoded into an empty message) as protobuf
  // wire format: about a third of the parsed message's memory, so the cache
  // holds three times the records in the same space. Parsing it back costs
  // about what copying the message did.
  void SetFields(const geo::v1::LookupResponse& fields);
  // The fields as a message.
  geo::v1::LookupResponse Fields() const;
  // Merges the fields into `response` as MergeFrom would (parsing wire
  // format into a message merges), replacing its subdivisions first when
  // this record has the key.
  void MergeInto(geo::v1::LookupResponse* response) const;
  const std::string& wire() const { return wire_; }
  // Kept apart for the per-lookup country metric.
  const std::string& country_iso_code() const { return country_iso_code_; }
  // HasAutonomousSystem of the fields: a lookup gives it the network.
  bool has_autonomous_system() const { return has_autonomous_system_; }

  // The record's answer rendered by `render` on first use and kept for the
  // record's lifetime, so each cached record is rendered once (the HTTP
  // gateway is the one renderer in a server); null when the record cannot be
  // templated (see AnswerTemplate::Build). Thread-safe.
  const AnswerTemplate* Rendered(const AnswerRenderer& render) const;

  // Shares `same`'s rendered answer (rendered already or not yet), for a
  // record with the same language and fields in a reloaded database, so the
  // answer is not rendered again. Call before the record is shared.
  void ShareRenderedAnswer(const DecodedRecord& same);

 private:
  std::string wire_;
  std::string country_iso_code_;
  bool has_autonomous_system_ = false;
  struct RenderedAnswer {
    absl::once_flag once;
    std::optional<AnswerTemplate> answer;
  };
  // Behind a pointer so the record stays movable into the cache, and
  // shared between identical records of successive databases.
  std::shared_ptr<RenderedAnswer> rendered_ =
      std::make_shared<RenderedAnswer>();
};

// The records a replaced generation had cached, found by language and
// fields. A reload hands them to the new generation: most records of a new
// release (and all of a re-installed file) are unchanged, and reusing their
// rendered answers keeps the first seconds after a reload from rendering
// every answer again (p99 during reloads). Immutable, so thread-safe.
class PreviousRecords {
 public:
  // Keeps the first `max_records` distinct ones, so put the most wanted
  // first. Hashing tens of thousands of records' content takes milliseconds:
  // built on the reloading thread, a step of `work` every 64 records.
  PreviousRecords(std::vector<std::shared_ptr<const DecodedRecord>> records,
                  size_t max_records, BackgroundWork& work);

  // The previous record with `record`'s language and fields, or null.
  const DecodedRecord* Find(const DecodedRecord& record) const;

  size_t size() const { return by_content_.size(); }

 private:
  // Keys view the wire and language of the records the values own.
  absl::flat_hash_map<std::pair<absl::string_view, absl::string_view>,
                      std::shared_ptr<const DecodedRecord>>
      by_content_;
};

struct RecordCacheStats {
  uint64_t hits = 0;
  uint64_t misses = 0;
  // Slots holding a record now, and how many slots there are.
  size_t entries = 0;
  size_t capacity = 0;
};

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
