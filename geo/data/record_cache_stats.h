// What a RecordCache has done and holds: the figures the server exports and
// the benchmarks report. A header of its own so that readers of the figures
// need not see the cache.
#ifndef GEO_DATA_RECORD_CACHE_STATS_H_
#define GEO_DATA_RECORD_CACHE_STATS_H_

#include <cstddef>
#include <cstdint>

namespace geo {

struct RecordCacheStats {
  // RecordCache::Find calls that found the record, and those that did not
  // (their caller decodes the record).
  uint64_t hits = 0;
  uint64_t misses = 0;
  // Slots holding a record now, and how many slots there are.
  size_t entries = 0;
  size_t capacity = 0;
};

}  // namespace geo

#endif  // GEO_DATA_RECORD_CACHE_STATS_H_
