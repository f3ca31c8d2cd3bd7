#include "geo/data/decoded_record.h"

namespace geo {

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

}  // namespace geo
