// One decoded MaxMind record in one language, kept as wire format, with the
// answer rendered from it once and shared across reloads.
#ifndef GEO_DATA_DECODED_RECORD_H_
#define GEO_DATA_DECODED_RECORD_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/call_once.h"
#include "api/geo/v1/geo.pb.h"
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

}  // namespace geo

#endif  // GEO_DATA_DECODED_RECORD_H_
