#include "geo/data/previous_records.h"

#include <algorithm>
#include <utility>

namespace geo {

PreviousRecords::PreviousRecords(
    std::vector<std::shared_ptr<const DecodedRecord>> records,
    size_t max_records, BackgroundWork& work) {
  by_content_.reserve(std::min(records.size(), max_records));
  size_t hashed = 0;
  for (std::shared_ptr<const DecodedRecord>& record : records) {
    if (by_content_.size() >= max_records) break;
    if (++hashed % 64 == 0) work.Step();
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

}  // namespace geo
