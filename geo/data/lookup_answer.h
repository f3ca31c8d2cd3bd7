// A lookup's answer as the cached records it is made of, so the front ends
// use a record without copying it into a message per lookup.
#ifndef GEO_DATA_LOOKUP_ANSWER_H_
#define GEO_DATA_LOOKUP_ANSWER_H_

#include <memory>
#include <string>

#include "absl/container/inlined_vector.h"
#include "absl/strings/string_view.h"
#include "api/geo/v1/geo.pb.h"
#include "geo/data/answer_template.h"
#include "geo/data/overrides.h"
#include "geo/data/record_cache.h"

namespace geo {

// What one database that had a record contributed.
struct AnswerPart {
  // Never null. Shared with the database's record cache; immutable.
  std::shared_ptr<const DecodedRecord> record;
  // The network the record was found in, in CIDR form.
  std::string network;
};

// A value; not thread-safe to mutate, safe to read from many threads.
struct LookupAnswer {
  // The address looked up, in canonical text form.
  std::string ip;
  // One per database that had a record, in the store's slot order.
  absl::InlinedVector<AnswerPart, 2> parts;
  // The local override entry for the address, applied on top of the parts;
  // null when none matched. `overrides` keeps it alive.
  std::shared_ptr<const Overrides> overrides;
  const OverrideEntry* local_override = nullptr;

  bool found() const { return !parts.empty() || local_override != nullptr; }

  // The API message: the parts merged in order, exactly as a lookup through
  // each database in turn builds it (see Database::Lookup), then the local
  // override applied (OverrideEntry::ApplyTo).
  void ToResponse(geo::v1::LookupResponse* response) const;

  // Appends the answer as `render` prints ToResponse's message. With a
  // SoleRecord this fills its cached template (rendered once per record);
  // otherwise it renders the merged message.
  void AppendRendered(const AnswerRenderer& render, std::string* out) const;

  // Appends ToResponse's message in protobuf wire format. With a SoleRecord:
  // its cached wire format, then a message holding only the per-lookup
  // fields (ip, network, found, the autonomous system's network); protobuf
  // parses concatenated messages as one, merged field by field, so no
  // message is built. Otherwise the merged message, serialized.
  void AppendWire(std::string* out) const;

  // The part whose record alone makes the answer: the first, when every
  // other part's record has no fields and no override applies; else null.
  // Its cached template and wire format are then the whole answer.
  const AnswerPart* SoleRecord() const;

  // The merged answer's country.iso_code (the override's when it replaces
  // the location), without merging.
  absl::string_view country_iso_code() const;
};

}  // namespace geo

#endif  // GEO_DATA_LOOKUP_ANSWER_H_
