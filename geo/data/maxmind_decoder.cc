#include "geo/data/maxmind_decoder.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "geo/common/enum_names.h"
#include "geo/data/mmdb_value.h"

namespace geo {
namespace {

// One value of a walked record: what libmaxminddb's entry data list holds
// for it (`next`: the following node, depth first), plus `after`, the node
// that follows its whole value (the value's children included), so that
// skipping a value is one step. Null past the record's last node.
struct EntryNode {
  MMDB_entry_data_s entry_data;
  const EntryNode* next;
  const EntryNode* after;
  // While walking: the index of the node `after` will point at.
  size_t value_end;
};
using Node = const EntryNode*;

// Carries a RecordDecodeFailure in a status (see RecordDecodeFailureOf).
constexpr absl::string_view kDecodeFailurePayload =
    "type.googleapis.com/geo.data.RecordDecodeFailure";
// libmaxminddb's own limit (MAXIMUM_DATA_STRUCTURE_DEPTH), kept so that a
// record decodes here exactly when it decodes there, budget aside.
constexpr int kMaxDataDepth = 512;

// Each failure with its name, both ways: the metric label and the payload.
constexpr EnumName<RecordDecodeFailure> kFailureNames[] = {
    {RecordDecodeFailure::kEntryBudget, "entry_budget"},
    {RecordDecodeFailure::kByteBudget, "byte_budget"},
    {RecordDecodeFailure::kInvalidData, "invalid_data"},
};

absl::Status DecodeFailureError(RecordDecodeFailure failure,
                                absl::string_view message) {
  absl::Status status = absl::DataLossError(message);
  status.SetPayload(kDecodeFailurePayload,
                    absl::Cord(RecordDecodeFailureName(failure)));
  return status;
}

// MMDB_get_entry_data_list with a budget: the same nodes in the same order
// (depth first, a pointer replaced by what it points to), but it stops with
// an error as soon as the record reaches `max_entries` nodes or `max_bytes`
// of strings and byte arrays, instead of expanding shared pointers without
// limit. Each value is read by ReadDataValue, libmaxminddb's reading of one
// entry (MMDB_aget_value with an empty path: a pointer followed), so values,
// bounds checks and errors are libmaxminddb's. Recursion is bounded by
// kMaxDataDepth, as in libmaxminddb.
class BoundedEntryList {
 public:
  BoundedEntryList(const MMDB_s* mmdb, size_t max_entries, size_t max_bytes)
      : mmdb_(mmdb), max_entries_(max_entries), max_bytes_(max_bytes) {
    nodes_.reserve(std::min<size_t>(max_entries, 128));
  }

  // Decodes the value at data-section `offset`; on success root() is its
  // first node.
  absl::Status Decode(uint32_t offset) {
    uint32_t next = 0;
    absl::Status status = Walk(offset, 0, &next);
    if (!status.ok()) return status;
    // Linked only now: the vector does not move any more.
    const auto at = [&](size_t index) -> Node {
      return index < nodes_.size() ? &nodes_[index] : nullptr;
    };
    for (size_t i = 0; i < nodes_.size(); ++i) {
      nodes_[i].next = at(i + 1);
      nodes_[i].after = at(nodes_[i].value_end);
    }
    return absl::OkStatus();
  }

  Node root() const { return nodes_.empty() ? nullptr : &nodes_[0]; }

 private:
  absl::Status Walk(uint32_t offset, int depth, uint32_t* next) {
    if (depth >= kMaxDataDepth) {
      return DecodeFailureError(RecordDecodeFailure::kInvalidData,
                                "record nests deeper than 512 levels");
    }
    if (nodes_.size() >= max_entries_) {
      return DecodeFailureError(
          RecordDecodeFailure::kEntryBudget,
          absl::StrCat("record exceeds the decode budget of ", max_entries_,
                       " entries"));
    }
    // Read straight into the node's slot; dropped again if it fails.
    const size_t index = nodes_.size();
    MMDB_entry_data_s& data = nodes_.emplace_back().entry_data;
    const int status = ReadDataValue(*mmdb_, offset, &data);
    if (status != MMDB_SUCCESS) {
      nodes_.pop_back();
      return DecodeFailureError(
          RecordDecodeFailure::kInvalidData,
          absl::StrCat("record does not decode: ", MMDB_strerror(status)));
    }
    if (data.type == MMDB_DATA_TYPE_UTF8_STRING ||
        data.type == MMDB_DATA_TYPE_BYTES) {
      bytes_ += data.data_size;
      if (bytes_ > max_bytes_) {
        return DecodeFailureError(
            RecordDecodeFailure::kByteBudget,
            absl::StrCat("record exceeds the decode budget of ", max_bytes_,
                         " bytes of strings"));
      }
    }
    // ReadDataValue succeeded, so `offset` is inside the data section. A
    // pointer (type 1 in the control byte's top bits) ends 1 + size bytes on;
    // the walk continues there after whatever it points to.
    const uint8_t control = mmdb_->data_section[offset];
    const bool pointer = (control >> 5) == 1;
    const uint32_t after_pointer = offset + 1 + ((control >> 3) & 3) + 1;
    const uint32_t type = data.type;
    const uint32_t data_size = data.data_size;
    const uint32_t first_child = data.offset_to_next;

    uint64_t children = 0;
    if (type == MMDB_DATA_TYPE_MAP) {
      children = 2 * static_cast<uint64_t>(data_size);
    } else if (type == MMDB_DATA_TYPE_ARRAY) {
      children = data_size;
    }
    const bool container =
        type == MMDB_DATA_TYPE_MAP || type == MMDB_DATA_TYPE_ARRAY;
    // libmaxminddb spends one level on following a pointer to a container.
    const int child_depth = depth + (pointer && container ? 2 : 1);
    // `data` is not used past here: the children's nodes may move the vector.
    uint32_t child = first_child;
    for (uint64_t i = 0; i < children; ++i) {
      absl::Status walked = Walk(child, child_depth, &child);
      if (!walked.ok()) return walked;
    }
    // For a scalar, offset_to_next is already past the pointer, if any.
    *next = pointer && container ? after_pointer
            : container          ? child
                                 : first_child;
    nodes_[index].entry_data.offset_to_next = *next;
    nodes_[index].value_end = nodes_.size();
    return absl::OkStatus();
  }

  const MMDB_s* const mmdb_;
  const size_t max_entries_;
  const size_t max_bytes_;
  uint64_t bytes_ = 0;
  std::vector<EntryNode> nodes_;
};

std::string TypeName(uint32_t type) {
  switch (type) {
    case MMDB_DATA_TYPE_UTF8_STRING:
      return "string";
    case MMDB_DATA_TYPE_DOUBLE:
      return "double";
    case MMDB_DATA_TYPE_BYTES:
      return "bytes";
    case MMDB_DATA_TYPE_UINT16:
      return "uint16";
    case MMDB_DATA_TYPE_UINT32:
      return "uint32";
    case MMDB_DATA_TYPE_MAP:
      return "map";
    case MMDB_DATA_TYPE_INT32:
      return "int32";
    case MMDB_DATA_TYPE_UINT64:
      return "uint64";
    case MMDB_DATA_TYPE_UINT128:
      return "uint128";
    case MMDB_DATA_TYPE_ARRAY:
      return "array";
    case MMDB_DATA_TYPE_BOOLEAN:
      return "boolean";
    case MMDB_DATA_TYPE_FLOAT:
      return "float";
    default:
      return absl::StrCat("type ", type);
  }
}

absl::Status WrongType(absl::string_view field, Node node,
                       absl::string_view want) {
  return absl::DataLossError(absl::StrCat("field ", field, " is a ",
                                          TypeName(node->entry_data.type),
                                          ", want ", want));
}

absl::Status ReadString(absl::string_view field, Node node, std::string* out) {
  if (node->entry_data.type != MMDB_DATA_TYPE_UTF8_STRING) {
    return WrongType(field, node, "string");
  }
  out->assign(node->entry_data.utf8_string, node->entry_data.data_size);
  return absl::OkStatus();
}

absl::Status ReadUint32(absl::string_view field, Node node, uint32_t* out) {
  const MMDB_entry_data_s& data = node->entry_data;
  uint64_t value = 0;
  switch (data.type) {
    case MMDB_DATA_TYPE_UINT16:
      value = data.uint16;
      break;
    case MMDB_DATA_TYPE_UINT32:
      value = data.uint32;
      break;
    case MMDB_DATA_TYPE_UINT64:
      value = data.uint64;
      break;
    case MMDB_DATA_TYPE_INT32:
      if (data.int32 < 0) {
        return absl::DataLossError(
            absl::StrCat("field ", field, " is negative: ", data.int32));
      }
      value = static_cast<uint64_t>(data.int32);
      break;
    default:
      return WrongType(field, node, "unsigned integer");
  }
  if (value > UINT32_MAX) {
    return absl::DataLossError(
        absl::StrCat("field ", field, " out of range: ", value));
  }
  *out = static_cast<uint32_t>(value);
  return absl::OkStatus();
}

absl::Status ReadDouble(absl::string_view field, Node node, double* out) {
  const MMDB_entry_data_s& data = node->entry_data;
  if (data.type == MMDB_DATA_TYPE_DOUBLE) {
    *out = data.double_value;
  } else if (data.type == MMDB_DATA_TYPE_FLOAT) {
    *out = data.float_value;
  } else {
    return WrongType(field, node, "double");
  }
  return absl::OkStatus();
}

absl::Status ReadBool(absl::string_view field, Node node, bool* out) {
  if (node->entry_data.type != MMDB_DATA_TYPE_BOOLEAN) {
    return WrongType(field, node, "boolean");
  }
  *out = node->entry_data.boolean;
  return absl::OkStatus();
}

// Calls `visit(key, value_node)` for each pair of the map at `node` and
// returns the node after the map. `visit` reads only the value's first node or
// walks into it; skipping is done here.
template <typename Visit>
absl::StatusOr<Node> ForEachInMap(absl::string_view field, Node node,
                                  Visit visit) {
  if (node->entry_data.type != MMDB_DATA_TYPE_MAP) {
    return WrongType(field, node, "map");
  }
  const uint32_t size = node->entry_data.data_size;
  node = node->next;
  for (uint32_t i = 0; i < size; ++i) {
    if (node == nullptr || node->next == nullptr) {
      return absl::DataLossError(
          absl::StrCat("record ends inside map ", field));
    }
    if (node->entry_data.type != MMDB_DATA_TYPE_UTF8_STRING) {
      return absl::DataLossError(
          absl::StrCat("map ", field, " has a non-string key"));
    }
    const absl::string_view key(node->entry_data.utf8_string,
                                node->entry_data.data_size);
    const Node value = node->next;
    absl::Status status = visit(key, value);
    if (!status.ok()) return status;
    node = value->after;
  }
  return node;
}

// The language names are picked in, and what a decode learns about the
// record's names on the way: the languages it has names in (NameLanguageBit
// of each) and whether `wanted` is one of them. When it is not, the record
// decodes in `wanted` exactly as in "en".
struct NameChoice {
  absl::string_view wanted;
  uint64_t present = 0;
  bool found = false;
};

// Picks names[language], else names["en"], else leaves `out` alone.
absl::Status ReadName(absl::string_view field, Node names, NameChoice* language,
                      std::string* out) {
  std::string english;
  bool have_language = false;
  absl::StatusOr<Node> end = ForEachInMap(
      field, names, [&](absl::string_view key, Node value) -> absl::Status {
        language->present |= NameLanguageBit(key);
        if (key == language->wanted) {
          have_language = true;
          language->found = true;
          return ReadString(field, value, out);
        }
        if (key == "en") return ReadString(field, value, &english);
        return absl::OkStatus();
      });
  if (!end.ok()) return end.status();
  if (!have_language && !english.empty()) *out = std::move(english);
  return absl::OkStatus();
}

// Sets `set(value)` from the unsigned integer at `node`.
template <typename Set>
absl::Status ReadUint32Into(absl::string_view field, Node node, Set set) {
  uint32_t value = 0;
  absl::Status status = ReadUint32(field, node, &value);
  if (status.ok()) set(value);
  return status;
}

absl::Status ReadPlaceExtra(absl::string_view field, absl::string_view key,
                            Node value, geo::v1::City* city) {
  if (key == "confidence") {
    return ReadUint32Into(field, value,
                          [&](uint32_t v) { city->set_confidence(v); });
  }
  return absl::OkStatus();
}

absl::Status ReadPlaceExtra(absl::string_view field, absl::string_view key,
                            Node value, geo::v1::Continent* continent) {
  if (key == "code") return ReadString(field, value, continent->mutable_code());
  return absl::OkStatus();
}

absl::Status ReadPlaceExtra(absl::string_view field, absl::string_view key,
                            Node value, geo::v1::Subdivision* subdivision) {
  if (key == "iso_code") {
    return ReadString(field, value, subdivision->mutable_iso_code());
  }
  if (key == "confidence") {
    return ReadUint32Into(field, value,
                          [&](uint32_t v) { subdivision->set_confidence(v); });
  }
  return absl::OkStatus();
}

template <typename CountryMessage>
absl::Status ReadCountryKey(absl::string_view field, absl::string_view key,
                            Node value, CountryMessage* country) {
  if (key == "iso_code") {
    return ReadString(field, value, country->mutable_iso_code());
  }
  if (key == "is_in_european_union") {
    bool flag = false;
    absl::Status status = ReadBool(field, value, &flag);
    if (status.ok()) country->set_is_in_european_union(flag);
    return status;
  }
  return absl::OkStatus();
}

absl::Status ReadPlaceExtra(absl::string_view field, absl::string_view key,
                            Node value, geo::v1::Country* country) {
  if (key == "confidence") {
    return ReadUint32Into(field, value,
                          [&](uint32_t v) { country->set_confidence(v); });
  }
  return ReadCountryKey(field, key, value, country);
}

absl::Status ReadPlaceExtra(absl::string_view field, absl::string_view key,
                            Node value, geo::v1::RepresentedCountry* country) {
  if (key == "type") return ReadString(field, value, country->mutable_type());
  return ReadCountryKey(field, key, value, country);
}

// continent, country, registered_country, represented_country, subdivision
// and city all share these keys.
template <typename Message>
absl::Status ReadPlace(absl::string_view field, Node node, NameChoice* language,
                       Message* message) {
  return ForEachInMap(field, node,
                      [&](absl::string_view key, Node value) -> absl::Status {
                        uint32_t geoname_id = 0;
                        if (key == "geoname_id") {
                          absl::Status status =
                              ReadUint32(field, value, &geoname_id);
                          if (status.ok()) message->set_geoname_id(geoname_id);
                          return status;
                        }
                        if (key == "names") {
                          return ReadName(field, value, language,
                                          message->mutable_name());
                        }
                        return ReadPlaceExtra(field, key, value, message);
                      })
      .status();
}

absl::Status ReadLocation(Node node, geo::v1::Location* location) {
  constexpr absl::string_view kField = "location";
  return ForEachInMap(
             kField, node,
             [&](absl::string_view key, Node value) -> absl::Status {
               double number = 0;
               uint32_t integer = 0;
               absl::Status status;
               if (key == "latitude") {
                 status = ReadDouble("location.latitude", value, &number);
                 if (status.ok()) location->set_latitude(number);
               } else if (key == "longitude") {
                 status = ReadDouble("location.longitude", value, &number);
                 if (status.ok()) location->set_longitude(number);
               } else if (key == "accuracy_radius") {
                 status =
                     ReadUint32("location.accuracy_radius", value, &integer);
                 if (status.ok()) location->set_accuracy_radius(integer);
               } else if (key == "metro_code") {
                 status = ReadUint32("location.metro_code", value, &integer);
                 if (status.ok()) location->set_metro_code(integer);
               } else if (key == "time_zone") {
                 status = ReadString("location.time_zone", value,
                                     location->mutable_time_zone());
               }
               return status;
             })
      .status();
}

// A boolean key of a record and the setter of the field it fills in.
template <typename Message>
struct BoolKey {
  absl::string_view key;
  void (Message::*set)(bool);
};

// A string key of a record that fills in a field of Traits.
struct TraitsStringKey {
  absl::string_view key;
  std::string* (geo::v1::Traits::*field)();
};

// The entry of `entries` (a table of keys) for `key`, or null. A scan: the
// tables are a handful of keys, and a record has few keys.
template <typename Entry, size_t N>
const Entry* FindKey(const Entry (&entries)[N], absl::string_view key) {
  for (const Entry& entry : entries) {
    if (entry.key == key) return &entry;
  }
  return nullptr;
}

// Sets `flag` in `message` from the boolean at `node`. An error names the
// field as `parent` followed by the key ("traits." for keys of the `traits`
// map, "" at the top level); the name is built only then.
template <typename Message>
absl::Status ReadFlag(absl::string_view parent, const BoolKey<Message>& flag,
                      Node node, Message* message) {
  if (node->entry_data.type != MMDB_DATA_TYPE_BOOLEAN) {
    return WrongType(absl::StrCat(parent, flag.key), node, "boolean");
  }
  (message->*flag.set)(node->entry_data.boolean);
  return absl::OkStatus();
}

// Flags only the `traits` map of City and Enterprise records holds.
constexpr BoolKey<geo::v1::Traits> kTraitFlags[] = {
    {"is_anonymous_proxy", &geo::v1::Traits::set_is_anonymous_proxy},
    {"is_satellite_provider", &geo::v1::Traits::set_is_satellite_provider},
    {"is_anycast", &geo::v1::Traits::set_is_anycast},
};

// Network keys (see ReadNetworkKey) that are flags of Traits.
constexpr BoolKey<geo::v1::Traits> kNetworkTraitFlags[] = {
    {"is_legitimate_proxy", &geo::v1::Traits::set_is_legitimate_proxy},
};

// Network keys that are strings of Traits.
constexpr TraitsStringKey kNetworkTraitStrings[] = {
    {"isp", &geo::v1::Traits::mutable_isp},
    {"organization", &geo::v1::Traits::mutable_organization},
    {"connection_type", &geo::v1::Traits::mutable_connection_type},
    {"domain", &geo::v1::Traits::mutable_domain},
    {"user_type", &geo::v1::Traits::mutable_user_type},
    {"mobile_country_code", &geo::v1::Traits::mutable_mobile_country_code},
    {"mobile_network_code", &geo::v1::Traits::mutable_mobile_network_code},
};

// The Anonymous IP flags; Anonymizer appears in an answer only when the
// record has one of them.
constexpr BoolKey<geo::v1::Anonymizer> kAnonymizerFlags[] = {
    {"is_anonymous", &geo::v1::Anonymizer::set_is_anonymous},
    {"is_anonymous_vpn", &geo::v1::Anonymizer::set_is_anonymous_vpn},
    {"is_hosting_provider", &geo::v1::Anonymizer::set_is_hosting_provider},
    {"is_public_proxy", &geo::v1::Anonymizer::set_is_public_proxy},
    {"is_residential_proxy", &geo::v1::Anonymizer::set_is_residential_proxy},
    {"is_tor_exit_node", &geo::v1::Anonymizer::set_is_tor_exit_node},
};

// autonomous_system_number / _organization sit at the top level of ASN and
// ISP records and under `traits` in Enterprise records.
absl::Status ReadAutonomousSystemKey(absl::string_view key, Node value,
                                     geo::v1::LookupResponse* response) {
  if (key == "autonomous_system_number") {
    uint32_t number = 0;
    absl::Status status =
        ReadUint32("autonomous_system_number", value, &number);
    if (status.ok()) response->mutable_autonomous_system()->set_number(number);
    return status;
  }
  if (key == "autonomous_system_organization") {
    return ReadString(
        "autonomous_system_organization", value,
        response->mutable_autonomous_system()->mutable_organization());
  }
  return absl::OkStatus();
}

// The network keys that sit at the top level of the ISP, Connection Type,
// Domain and Anonymous IP records and under `traits` in Enterprise records
// (and, for the anonymizer flags, in the web services' traits): the same
// name means the same field wherever it appears. Unknown keys are ignored.
absl::Status ReadNetworkKey(absl::string_view key, Node value,
                            geo::v1::LookupResponse* response) {
  if (const TraitsStringKey* string_key = FindKey(kNetworkTraitStrings, key)) {
    return ReadString(string_key->key, value,
                      (response->mutable_traits()->*string_key->field)());
  }
  if (key == "user_count") {
    return ReadUint32Into("user_count", value, [&](uint32_t v) {
      response->mutable_traits()->set_user_count(v);
    });
  }
  if (key == "static_ip_score") {
    double score = 0;
    absl::Status status = ReadDouble("static_ip_score", value, &score);
    if (status.ok()) response->mutable_traits()->set_static_ip_score(score);
    return status;
  }
  if (const BoolKey<geo::v1::Traits>* flag = FindKey(kNetworkTraitFlags, key)) {
    return ReadFlag("", *flag, value, response->mutable_traits());
  }
  if (const BoolKey<geo::v1::Anonymizer>* flag =
          FindKey(kAnonymizerFlags, key)) {
    return ReadFlag("", *flag, value, response->mutable_anonymizer());
  }
  return ReadAutonomousSystemKey(key, value, response);
}

absl::Status ReadTraits(Node node, geo::v1::LookupResponse* response) {
  return ForEachInMap("traits", node,
                      [&](absl::string_view key, Node value) -> absl::Status {
                        if (const BoolKey<geo::v1::Traits>* flag =
                                FindKey(kTraitFlags, key)) {
                          return ReadFlag("traits.", *flag, value,
                                          response->mutable_traits());
                        }
                        return ReadNetworkKey(key, value, response);
                      })
      .status();
}

absl::Status ReadSubdivisions(Node node, NameChoice* language,
                              geo::v1::LookupResponse* response) {
  if (node->entry_data.type != MMDB_DATA_TYPE_ARRAY) {
    return WrongType("subdivisions", node, "array");
  }
  // A record replaces, not extends, the subdivisions of an earlier database.
  response->clear_subdivisions();
  const uint32_t size = node->entry_data.data_size;
  node = node->next;
  for (uint32_t i = 0; i < size; ++i) {
    if (node == nullptr) {
      return absl::DataLossError("record ends inside subdivisions");
    }
    absl::Status status =
        ReadPlace("subdivisions", node, language, response->add_subdivisions());
    if (!status.ok()) return status;
    node = node->after;
  }
  return absl::OkStatus();
}

absl::Status DecodeTopLevel(Node root, NameChoice* language,
                            geo::v1::LookupResponse* response,
                            bool* has_subdivisions) {
  return ForEachInMap(
             "record", root,
             [&](absl::string_view key, Node value) -> absl::Status {
               // The key names the field, as in error messages.
               const auto read_place = [&](auto* place) {
                 return ReadPlace(key, value, language, place);
               };
               if (key == "continent") {
                 return read_place(response->mutable_continent());
               }
               if (key == "country") {
                 return read_place(response->mutable_country());
               }
               if (key == "registered_country") {
                 return read_place(response->mutable_registered_country());
               }
               if (key == "represented_country") {
                 return read_place(response->mutable_represented_country());
               }
               if (key == "subdivisions") {
                 *has_subdivisions = true;
                 return ReadSubdivisions(value, language, response);
               }
               if (key == "city") return read_place(response->mutable_city());
               if (key == "location") {
                 return ReadLocation(value, response->mutable_location());
               }
               if (key == "postal") {
                 return ForEachInMap("postal", value,
                                     [&](absl::string_view postal_key,
                                         Node postal_value) -> absl::Status {
                                       geo::v1::Postal* postal =
                                           response->mutable_postal();
                                       if (postal_key == "code") {
                                         return ReadString(
                                             "postal.code", postal_value,
                                             postal->mutable_code());
                                       }
                                       if (postal_key == "confidence") {
                                         return ReadUint32Into(
                                             "postal.confidence", postal_value,
                                             [&](uint32_t v) {
                                               postal->set_confidence(v);
                                             });
                                       }
                                       return absl::OkStatus();
                                     })
                     .status();
               }
               if (key == "traits") return ReadTraits(value, response);
               if (key == "average_income") {
                 return ReadUint32Into(key, value, [&](uint32_t v) {
                   response->mutable_location()->set_average_income(v);
                 });
               }
               if (key == "population_density") {
                 return ReadUint32Into(key, value, [&](uint32_t v) {
                   response->mutable_location()->set_population_density(v);
                 });
               }
               return ReadNetworkKey(key, value, response);
             })
      .status();
}

}  // namespace

absl::string_view RecordDecodeFailureName(RecordDecodeFailure failure) {
  return NameOf(kFailureNames, failure, "invalid_data");
}

std::optional<RecordDecodeFailure> RecordDecodeFailureOf(
    const absl::Status& status) {
  if (status.ok()) return std::nullopt;
  // absl::optional, not std::optional: Debian's abseil is built with its own
  // optional type, which absl::Status::GetPayload returns.
  const absl::optional<absl::Cord> payload =
      status.GetPayload(kDecodeFailurePayload);
  if (!payload.has_value()) return std::nullopt;
  return ValueNamed(kFailureNames, *payload);
}

absl::Status MaxmindDecoder::Decode(const MMDB_s& mmdb, uint32_t offset,
                                    absl::string_view language,
                                    DecodedFields* out,
                                    bool* failed_in_fields) const {
  if (failed_in_fields != nullptr) *failed_in_fields = false;
  // Not MMDB_get_entry_data_list: it expands every pointer before anything
  // can be counted (see BoundedEntryList).
  BoundedEntryList list(&mmdb, budget_.max_entries, budget_.max_bytes);
  absl::Status walked = list.Decode(offset);
  if (!walked.ok()) return walked;
  if (list.root() == nullptr) {
    return DecodeFailureError(RecordDecodeFailure::kInvalidData,
                              "empty record");
  }
  *out = DecodedFields();
  NameChoice names{language};
  absl::Status decoded =
      DecodeTopLevel(list.root(), &names, &out->fields, &out->has_subdivisions);
  if (!decoded.ok()) {
    if (failed_in_fields != nullptr) *failed_in_fields = true;
    return DecodeFailureError(RecordDecodeFailure::kInvalidData,
                              decoded.message());
  }
  out->name_languages = names.present;
  out->language_found = names.found;
  return absl::OkStatus();
}

absl::Status MaxmindDecoder::CheckWithinBudget(const uint8_t* section,
                                               size_t size,
                                               uint32_t offset) const {
  MMDB_s view{};
  view.data_section = section;
  view.data_section_size =
      static_cast<uint32_t>(std::min<size_t>(size, UINT32_MAX));
  BoundedEntryList list(&view, budget_.max_entries, budget_.max_bytes);
  return list.Decode(offset);
}

}  // namespace geo
