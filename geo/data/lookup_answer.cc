#include "geo/data/lookup_answer.h"

namespace geo {

const AnswerPart* LookupAnswer::SoleRecord() const {
  if (parts.empty() || local_override != nullptr) return nullptr;
  // Records with no fields (test databases map whole ranges to {}) merge to
  // nothing: the first part alone makes the answer, network included.
  for (size_t i = 1; i < parts.size(); ++i) {
    if (!parts[i].record->wire().empty()) return nullptr;
  }
  return &parts.front();
}

void LookupAnswer::ToResponse(geo::v1::LookupResponse* response) const {
  response->set_ip(ip);
  for (const AnswerPart& part : parts) {
    const DecodedRecord& record = *part.record;
    const bool had_autonomous_system = HasAutonomousSystem(*response);
    // The record was decoded from an empty message, so merging it adds
    // exactly what it holds; only subdivisions replace rather than extend.
    record.MergeInto(response);
    response->set_found(true);
    // The first database with a record names the network; the autonomous
    // system carries the network of the database that described it.
    if (response->network().empty()) response->set_network(part.network);
    if (!had_autonomous_system && HasAutonomousSystem(*response)) {
      response->mutable_autonomous_system()->set_network(part.network);
    }
  }
  if (local_override != nullptr) local_override->ApplyTo(response);
}

void LookupAnswer::AppendRendered(const AnswerRenderer& render,
                                  std::string* out) const {
  // A record's template is the database's answer; an override changes it.
  if (const AnswerPart* sole = SoleRecord()) {
    const AnswerPart& part = *sole;
    // A template fills the autonomous system's network with the same
    // network, which is what ToResponse does for a lone record that has one
    // and does not print for one that has none.
    const AnswerTemplate* rendered = part.record->Rendered(render);
    if (rendered != nullptr) {
      rendered->AppendTo(ip, part.network, out);
      return;
    }
  }
  geo::v1::LookupResponse response;
  ToResponse(&response);
  out->append(render(response));
}

void LookupAnswer::AppendWire(std::string* out) const {
  if (const AnswerPart* sole = SoleRecord()) {
    const AnswerPart& part = *sole;
    out->append(part.record->wire());
    geo::v1::LookupResponse per_lookup;
    per_lookup.set_ip(ip);
    per_lookup.set_network(part.network);
    per_lookup.set_found(true);
    if (part.record->has_autonomous_system()) {
      per_lookup.mutable_autonomous_system()->set_network(part.network);
    }
    per_lookup.AppendToString(out);
    return;
  }
  geo::v1::LookupResponse response;
  ToResponse(&response);
  response.AppendToString(out);
}

absl::string_view LookupAnswer::country_iso_code() const {
  if (local_override != nullptr && local_override->overrides_location()) {
    return local_override->country;
  }
  // MergeFrom keeps the last non-empty value.
  absl::string_view iso_code;
  for (const AnswerPart& part : parts) {
    if (!part.record->country_iso_code().empty()) {
      iso_code = part.record->country_iso_code();
    }
  }
  return iso_code;
}

}  // namespace geo
