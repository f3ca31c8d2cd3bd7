// The records a replaced generation had cached, handed to the generation
// that replaces it so unchanged records keep their rendered answers.
#ifndef GEO_DATA_PREVIOUS_RECORDS_H_
#define GEO_DATA_PREVIOUS_RECORDS_H_

#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"
#include "geo/common/background_work.h"
#include "geo/data/decoded_record.h"

namespace geo {

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

}  // namespace geo

#endif  // GEO_DATA_PREVIOUS_RECORDS_H_
