#include "geo/data/database.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

#include "absl/hash/hash.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "geo/common/background_work.h"
#include "geo/data/language.h"

namespace geo {
namespace {

using Node = const MMDB_entry_data_list_s*;

// 9999-12-31T23:59:59Z. A larger build_epoch (one bad-data file carries
// UINT64_MAX) would overflow int64 and every time computation after it.
constexpr uint64_t kMaxBuildEpoch = 253402300799;

// Addresses looked up at open: a tree walk from both the IPv4 and IPv6 roots,
// and a decode of whatever record they reach.
constexpr const char* kProbeAddresses[] = {"1.1.1.1", "8.8.8.8", "81.2.69.160",
                                           "2001:4860:4860::8888",
                                           "2a02:ff00::1"};

// Carries a RecordDecodeFailure in a status (see RecordDecodeFailureOf).
constexpr absl::string_view kDecodeFailurePayload =
    "type.googleapis.com/geo.data.RecordDecodeFailure";
// libmaxminddb's own limit (MAXIMUM_DATA_STRUCTURE_DEPTH), kept so that a
// record decodes here exactly when it decodes there, budget aside.
constexpr int kMaxDataDepth = 512;

absl::Status DecodeFailureError(RecordDecodeFailure failure,
                                absl::string_view message) {
  absl::Status status = absl::DataLossError(message);
  status.SetPayload(kDecodeFailurePayload,
                    absl::Cord(RecordDecodeFailureName(failure)));
  return status;
}

// `status` with `prefix` before its message, payloads kept.
absl::Status WithContext(const absl::Status& status, absl::string_view prefix) {
  absl::Status out(status.code(), absl::StrCat(prefix, status.message()));
  status.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
    out.SetPayload(url, payload);
  });
  return out;
}

// MMDB_get_entry_data_list with a budget: the same nodes in the same order
// (depth first, a pointer replaced by what it points to), but it stops with
// an error as soon as the record reaches `max_entries` nodes or `max_bytes`
// of strings and byte arrays, instead of expanding shared pointers without
// limit. Each value is decoded by libmaxminddb itself (MMDB_aget_value with an
// empty path: one entry, a pointer followed), so values, bounds checks and
// errors are libmaxminddb's; only the walk is ours. Recursion is bounded by
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
    for (size_t i = 0; i + 1 < nodes_.size(); ++i) {
      nodes_[i].next = &nodes_[i + 1];
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
    static const char* const kNoPath[] = {nullptr};
    MMDB_entry_s at = {mmdb_, offset};
    MMDB_entry_data_s data;
    const int status = MMDB_aget_value(&at, &data, kNoPath);
    if (status != MMDB_SUCCESS) {
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
    // MMDB_aget_value succeeded, so `offset` is inside the data section. A
    // pointer (type 1 in the control byte's top bits) ends 1 + size bytes on;
    // the walk continues there after whatever it points to.
    const uint8_t control = mmdb_->data_section[offset];
    const bool pointer = (control >> 5) == 1;
    const uint32_t after_pointer = offset + 1 + ((control >> 3) & 3) + 1;
    const size_t index = nodes_.size();
    nodes_.push_back(MMDB_entry_data_list_s{data, nullptr, nullptr});

    uint64_t children = 0;
    if (data.type == MMDB_DATA_TYPE_MAP) {
      children = 2 * static_cast<uint64_t>(data.data_size);
    } else if (data.type == MMDB_DATA_TYPE_ARRAY) {
      children = data.data_size;
    }
    const bool container =
        data.type == MMDB_DATA_TYPE_MAP || data.type == MMDB_DATA_TYPE_ARRAY;
    // libmaxminddb spends one level on following a pointer to a container.
    const int child_depth = depth + (pointer && container ? 2 : 1);
    uint32_t child = data.offset_to_next;
    for (uint64_t i = 0; i < children; ++i) {
      absl::Status walked = Walk(child, child_depth, &child);
      if (!walked.ok()) return walked;
    }
    // For a scalar, offset_to_next is already past the pointer, if any.
    *next = pointer && container ? after_pointer
            : container          ? child
                                 : data.offset_to_next;
    nodes_[index].entry_data.offset_to_next = *next;
    return absl::OkStatus();
  }

  const MMDB_s* const mmdb_;
  const size_t max_entries_;
  const size_t max_bytes_;
  uint64_t bytes_ = 0;
  std::vector<MMDB_entry_data_list_s> nodes_;
};

absl::Status OpenError(const std::string& path, int status, int os_errno) {
  if (status == MMDB_FILE_OPEN_ERROR || status == MMDB_IO_ERROR) {
    const std::string reason =
        absl::StrCat(MMDB_strerror(status), ": ", std::strerror(os_errno));
    const std::string message =
        absl::StrCat("cannot open database ", path, ": ", reason);
    switch (os_errno) {
      case ENOENT:
      case ENOTDIR:
        return absl::NotFoundError(message);
      case EACCES:
      case EPERM:
        return absl::PermissionDeniedError(message);
      case EINVAL:
        // libmaxminddb mmap(2)s the whole file and mmap refuses length 0: an
        // empty file is damaged data, not a transient OS failure (UNAVAILABLE
        // made the updater retry it). Found by
        // //tests/fuzz:database_open_fuzzer (issue 9).
        if (status == MMDB_IO_ERROR) return absl::DataLossError(message);
        return absl::UnavailableError(message);
      default:
        return absl::UnavailableError(message);
    }
  }
  if (status == MMDB_OUT_OF_MEMORY_ERROR) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "cannot open database ", path, ": ", MMDB_strerror(status)));
  }
  return absl::DataLossError(
      absl::StrCat("invalid database ", path, ": ", MMDB_strerror(status)));
}

// The value that follows `node` (a key or a whole container) ends where the
// returned node starts. Iterative, so deep nesting in a hostile file cannot
// exhaust the stack here (libmaxminddb also caps depth at 512).
absl::StatusOr<Node> SkipValue(Node node) {
  uint64_t remaining = 1;
  while (remaining > 0) {
    if (node == nullptr) {
      return absl::DataLossError("record ends inside a map or array");
    }
    --remaining;
    if (node->entry_data.type == MMDB_DATA_TYPE_MAP) {
      remaining += 2 * static_cast<uint64_t>(node->entry_data.data_size);
    } else if (node->entry_data.type == MMDB_DATA_TYPE_ARRAY) {
      remaining += node->entry_data.data_size;
    }
    node = node->next;
  }
  return node;
}

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
    absl::StatusOr<Node> after = SkipValue(value);
    if (!after.ok()) return after.status();
    node = *after;
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

template <typename Set>
absl::Status ReadBoolInto(absl::string_view field, Node node, Set set) {
  bool value = false;
  absl::Status status = ReadBool(field, node, &value);
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
  if (key == "isp") {
    return ReadString("isp", value, response->mutable_traits()->mutable_isp());
  }
  if (key == "organization") {
    return ReadString("organization", value,
                      response->mutable_traits()->mutable_organization());
  }
  if (key == "connection_type") {
    return ReadString("connection_type", value,
                      response->mutable_traits()->mutable_connection_type());
  }
  if (key == "domain") {
    return ReadString("domain", value,
                      response->mutable_traits()->mutable_domain());
  }
  if (key == "user_type") {
    return ReadString("user_type", value,
                      response->mutable_traits()->mutable_user_type());
  }
  if (key == "mobile_country_code") {
    return ReadString(
        "mobile_country_code", value,
        response->mutable_traits()->mutable_mobile_country_code());
  }
  if (key == "mobile_network_code") {
    return ReadString(
        "mobile_network_code", value,
        response->mutable_traits()->mutable_mobile_network_code());
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
  if (key == "is_legitimate_proxy") {
    return ReadBoolInto("is_legitimate_proxy", value, [&](bool v) {
      response->mutable_traits()->set_is_legitimate_proxy(v);
    });
  }
  if (key.size() > 3 && key.substr(0, 3) == "is_") {
    geo::v1::Anonymizer* anonymizer = nullptr;
    auto flag = [&]() {
      if (anonymizer == nullptr) anonymizer = response->mutable_anonymizer();
      return anonymizer;
    };
    if (key == "is_anonymous") {
      return ReadBoolInto(key, value,
                          [&](bool v) { flag()->set_is_anonymous(v); });
    }
    if (key == "is_anonymous_vpn") {
      return ReadBoolInto(key, value,
                          [&](bool v) { flag()->set_is_anonymous_vpn(v); });
    }
    if (key == "is_hosting_provider") {
      return ReadBoolInto(key, value,
                          [&](bool v) { flag()->set_is_hosting_provider(v); });
    }
    if (key == "is_public_proxy") {
      return ReadBoolInto(key, value,
                          [&](bool v) { flag()->set_is_public_proxy(v); });
    }
    if (key == "is_residential_proxy") {
      return ReadBoolInto(key, value,
                          [&](bool v) { flag()->set_is_residential_proxy(v); });
    }
    if (key == "is_tor_exit_node") {
      return ReadBoolInto(key, value,
                          [&](bool v) { flag()->set_is_tor_exit_node(v); });
    }
  }
  return ReadAutonomousSystemKey(key, value, response);
}

absl::Status ReadTraits(Node node, geo::v1::LookupResponse* response) {
  geo::v1::Traits* traits = response->mutable_traits();
  return ForEachInMap(
             "traits", node,
             [&](absl::string_view key, Node value) -> absl::Status {
               bool flag = false;
               absl::Status status;
               if (key == "is_anonymous_proxy") {
                 status = ReadBool("traits.is_anonymous_proxy", value, &flag);
                 if (status.ok()) traits->set_is_anonymous_proxy(flag);
               } else if (key == "is_satellite_provider") {
                 status =
                     ReadBool("traits.is_satellite_provider", value, &flag);
                 if (status.ok()) traits->set_is_satellite_provider(flag);
               } else if (key == "is_anycast") {
                 status = ReadBool("traits.is_anycast", value, &flag);
                 if (status.ok()) traits->set_is_anycast(flag);
               } else {
                 status = ReadNetworkKey(key, value, response);
               }
               return status;
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
    absl::StatusOr<Node> after = SkipValue(node);
    if (!after.ok()) return after.status();
    node = *after;
  }
  return absl::OkStatus();
}

absl::Status DecodeTopLevel(Node root, NameChoice* language,
                            geo::v1::LookupResponse* response,
                            bool* has_subdivisions) {
  return ForEachInMap(
             "record", root,
             [&](absl::string_view key, Node value) -> absl::Status {
               if (key == "continent") {
                 return ReadPlace("continent", value, language,
                                  response->mutable_continent());
               }
               if (key == "country") {
                 return ReadPlace("country", value, language,
                                  response->mutable_country());
               }
               if (key == "registered_country") {
                 return ReadPlace("registered_country", value, language,
                                  response->mutable_registered_country());
               }
               if (key == "represented_country") {
                 return ReadPlace("represented_country", value, language,
                                  response->mutable_represented_country());
               }
               if (key == "subdivisions") {
                 *has_subdivisions = true;
                 return ReadSubdivisions(value, language, response);
               }
               if (key == "city") {
                 return ReadPlace("city", value, language,
                                  response->mutable_city());
               }
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

// libmaxminddb decodes parts of the metadata with MMDB_get_entry_data_list
// inside MMDB_open (the languages and the description), where no budget
// applies: a metadata section whose pointers fan out would exhaust memory
// before MMDB_open returns. So the metadata is walked here first, within
// the same budget as a record: found the way libmaxminddb finds it (after
// the last marker in the file's final 128 KiB), decoded from its start.
// OK when the file cannot be read or has no marker: MMDB_open then reports
// that, as before.
absl::Status CheckMetadataBudget(const std::string& path, size_t max_entries,
                                 size_t max_bytes) {
  constexpr absl::string_view kMarker = "\xAB\xCD\xEFMaxMind.com";
  constexpr int64_t kSearchBytes = 128 * 1024;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::OkStatus();
  struct stat info;
  std::string tail;
  if (::fstat(fd, &info) == 0 && S_ISREG(info.st_mode)) {
    const int64_t size = std::min<int64_t>(info.st_size, kSearchBytes);
    tail.resize(static_cast<size_t>(std::max<int64_t>(size, 0)));
    const ssize_t got =
        ::pread(fd, tail.data(), tail.size(), info.st_size - size);
    tail.resize(got > 0 ? static_cast<size_t>(got) : 0);
  }
  ::close(fd);
  const size_t marker =
      tail.rfind(kMarker.data(), std::string::npos, kMarker.size());
  if (marker == std::string::npos) return absl::OkStatus();
  const size_t start = marker + kMarker.size();
  MMDB_s metadata{};
  metadata.data_section = reinterpret_cast<const uint8_t*>(tail.data()) + start;
  metadata.data_section_size = static_cast<uint32_t>(tail.size() - start);
  BoundedEntryList list(&metadata, max_entries, max_bytes);
  absl::Status walked = list.Decode(0);
  if (!walked.ok()) {
    return WithContext(walked,
                       absl::StrCat("invalid database ", path, ": metadata: "));
  }
  return absl::OkStatus();
}

}  // namespace

// The records whose decode failed, so that asking again (a client retrying,
// every replica's load balancer retrying) answers with the error at once
// instead of paying the decode budget again. Bounded: one slot per offset
// hash, a new failure replacing the slot's occupant, so a file full of bad
// records costs one budget per lookup at worst, never unbounded memory.
// A failure of the walk (budget, malformed data) holds for every language;
// one found while reading fields (a name of the wrong type) only for the
// language asked, identified by a 31-bit hash. Thread-safe; a lookup that
// misses the cache reads one atomic here, and takes the lock only when the
// slot holds its offset.
class FailedDecodes {
 public:
  // `language_tag`: 0 for a failure in any language, else LanguageTag().
  static uint32_t LanguageTag(absl::string_view language) {
    return static_cast<uint32_t>(absl::HashOf(language) & 0x7fffffff) | 1;
  }

  absl::optional<absl::Status> Find(uint32_t offset,
                                    absl::string_view language) const {
    const size_t slot = SlotOf(offset);
    const uint64_t key = keys_[slot].load(std::memory_order_acquire);
    if (!Matches(key, offset, language)) return absl::nullopt;
    absl::MutexLock lock(&mu_);
    if (keys_[slot].load(std::memory_order_relaxed) != key) {
      return absl::nullopt;
    }
    return statuses_[slot];
  }

  void Remember(uint32_t offset, uint32_t language_tag,
                const absl::Status& error) {
    const size_t slot = SlotOf(offset);
    absl::MutexLock lock(&mu_);
    statuses_[slot] = error;
    keys_[slot].store((uint64_t{offset} << 32) | (language_tag << 1) | 1,
                      std::memory_order_release);
  }

 private:
  static constexpr size_t kSlots = 1024;
  static size_t SlotOf(uint32_t offset) {
    return absl::HashOf(offset) & (kSlots - 1);
  }
  // Key: offset << 32 | tag << 1 | 1; 0 marks an empty slot.
  static bool Matches(uint64_t key, uint32_t offset,
                      absl::string_view language) {
    if ((key & 1) == 0 || (key >> 32) != offset) return false;
    const uint32_t tag = static_cast<uint32_t>(key >> 1) & 0x7fffffff;
    return tag == 0 || tag == LanguageTag(language);
  }

  std::array<std::atomic<uint64_t>, kSlots> keys_{};
  mutable absl::Mutex mu_;
  // The error for keys_[i]; written under mu_ before the key is published.
  std::array<absl::Status, kSlots> statuses_ ABSL_GUARDED_BY(mu_);
};

absl::string_view RecordDecodeFailureName(RecordDecodeFailure failure) {
  switch (failure) {
    case RecordDecodeFailure::kEntryBudget:
      return "entry_budget";
    case RecordDecodeFailure::kByteBudget:
      return "byte_budget";
    case RecordDecodeFailure::kInvalidData:
      return "invalid_data";
  }
  return "invalid_data";
}

std::optional<RecordDecodeFailure> RecordDecodeFailureOf(
    const absl::Status& status) {
  if (status.ok()) return std::nullopt;
  const absl::optional<absl::Cord> payload =
      status.GetPayload(kDecodeFailurePayload);
  if (!payload.has_value()) return std::nullopt;
  for (RecordDecodeFailure failure :
       {RecordDecodeFailure::kEntryBudget, RecordDecodeFailure::kByteBudget,
        RecordDecodeFailure::kInvalidData}) {
    if (*payload == RecordDecodeFailureName(failure)) return failure;
  }
  return std::nullopt;
}

absl::StatusOr<std::shared_ptr<const Database>> Database::Open(
    const std::string& path, const DatabaseOptions& options) {
  absl::Status metadata_fits = CheckMetadataBudget(
      path, options.max_record_entries, options.max_record_bytes);
  if (!metadata_fits.ok()) return metadata_fits;
  std::shared_ptr<Database> database(new Database());
  database->path_ = path;
  errno = 0;
  const int status = MMDB_open(path.c_str(), MMDB_MODE_MMAP, &database->mmdb_);
  const int os_errno = errno;
  if (status != MMDB_SUCCESS) {
    // MMDB_open has already released everything on failure.
    return OpenError(path, status, os_errno);
  }
  database->open_ = true;
  database->loaded_at_ = absl::Now();
  database->max_record_entries_ = options.max_record_entries;
  database->max_record_bytes_ = options.max_record_bytes;
  database->failed_decodes_ = std::make_unique<FailedDecodes>();
  database->Prefault();
  if (options.record_cache_slots > 0) {
    database->record_cache_ =
        std::make_unique<RecordCache>(options.record_cache_slots);
  }
  absl::Status valid = database->ValidateAfterOpen();
  if (!valid.ok()) {
    return absl::Status(valid.code(), absl::StrCat("invalid database ", path,
                                                   ": ", valid.message()));
  }
  return std::shared_ptr<const Database>(std::move(database));
}

void Database::Prefault() const {
  // A fresh mapping has no page-table entries: without this, the first
  // lookups after a reload take a page fault per tree page they touch (the
  // 43 MB tree of GeoLite2-City is ~10,000 pages), on the serving threads,
  // and in a paravirtualised guest each fault is expensive; `make bench`
  // measured p99 during reloads at many times the steady p99. Mapping the
  // pages in here moves that work to the reloading thread, before the swap.
  // The pages are in the page cache already (the file was just written or
  // read), so this costs page-table work, not I/O.
  // Only the search tree: every lookup walks it, while the data section is
  // read by cache misses alone, which decode anyway. Leaving those pages to
  // fault in keeps the reload's memory peak (two mappings at once) inside
  // issue 8's budget of two files + 64 MB: `make bench` measured 202 MiB
  // against 190 with the whole file populated.
  // In 1 MiB chunks (~0.2 ms each), yielding in between: in one call the
  // tree is ~10 ms that a request thread sharing the core would wait.
  if (mmdb_.file_content == nullptr || mmdb_.file_size <= 0) return;
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  constexpr size_t kChunkBytes = size_t{1} << 20;
  uint8_t* start = const_cast<uint8_t*>(mmdb_.file_content);
  size_t length = static_cast<size_t>(mmdb_.file_size);
  if (mmdb_.data_section != nullptr && mmdb_.data_section > start &&
      mmdb_.data_section < start + length) {
    length = static_cast<size_t>(mmdb_.data_section - start);
  }
  volatile uint8_t sink = 0;
  for (size_t chunk = 0; chunk < length; chunk += kChunkBytes) {
    const size_t chunk_length = std::min(kChunkBytes, length - chunk);
    bool populated = false;
#ifdef MADV_POPULATE_READ
    // madvise wants a page-aligned start; the mapping's is, and so is every
    // chunk's.
    populated = madvise(start + chunk, chunk_length, MADV_POPULATE_READ) == 0;
#endif
    if (!populated) {  // Older kernels (< 5.14): touch one byte per page.
      for (size_t offset = chunk; offset < chunk + chunk_length;
           offset += page) {
        sink = sink + start[offset];
      }
    }
    YieldToRequests();
  }
  (void)sink;
}

void Database::Retire() const {
  if (record_cache_ != nullptr) record_cache_->Clear();
  ReleaseInheritedRecords();
  if (mmdb_.file_content == nullptr || mmdb_.file_size <= 0) return;
  constexpr size_t kChunkBytes = size_t{1} << 20;
  uint8_t* start = const_cast<uint8_t*>(mmdb_.file_content);
  const size_t length = static_cast<size_t>(mmdb_.file_size);
  for (size_t chunk = 0; chunk < length; chunk += kChunkBytes) {
    // Drops page-table entries only: the file's pages stay in the page cache
    // and a lookup still reading them faults them back in.
    madvise(start + chunk, std::min(kChunkBytes, length - chunk),
            MADV_DONTNEED);
    YieldToRequests();
  }
}

Database::~Database() {
  if (open_) MMDB_close(&mmdb_);
}

absl::Status Database::ValidateAfterOpen() {
  const MMDB_metadata_s& metadata = mmdb_.metadata;
  if (metadata.binary_format_major_version != 2) {
    return absl::DataLossError(
        absl::StrCat("unsupported binary format version ",
                     metadata.binary_format_major_version));
  }
  if (metadata.database_type == nullptr || metadata.database_type[0] == '\0') {
    return absl::DataLossError("metadata has no database_type");
  }
  if (metadata.ip_version != 4 && metadata.ip_version != 6) {
    return absl::DataLossError(absl::StrCat(
        "metadata ip_version is ", metadata.ip_version, ", want 4 or 6"));
  }
  if (metadata.record_size != 24 && metadata.record_size != 28 &&
      metadata.record_size != 32) {
    return absl::DataLossError(absl::StrCat(
        "metadata record_size is ", metadata.record_size, ", want 24/28/32"));
  }
  if (metadata.node_count == 0) {
    return absl::DataLossError("metadata node_count is 0");
  }
  if (metadata.build_epoch > kMaxBuildEpoch) {
    return absl::DataLossError(absl::StrCat(
        "metadata build_epoch ", metadata.build_epoch, " is implausible"));
  }
  // Decoding the whole metadata map catches damage MMDB_open tolerates in
  // fields it does not read; within the record budget, like a record.
  MMDB_s metadata_section{};
  metadata_section.data_section = mmdb_.metadata_section;
  metadata_section.data_section_size = mmdb_.metadata_section_size;
  BoundedEntryList metadata_list(&metadata_section, max_record_entries_,
                                 max_record_bytes_);
  absl::Status metadata_decoded = metadata_list.Decode(0);
  if (!metadata_decoded.ok()) {
    return WithContext(metadata_decoded, "metadata does not decode: ");
  }

  type_ = metadata.database_type;
  build_epoch_ = static_cast<int64_t>(metadata.build_epoch);
  node_count_ = metadata.node_count;
  ip_version_ = metadata.ip_version;
  for (size_t i = 0; i < metadata.languages.count; ++i) {
    if (metadata.languages.names[i] != nullptr) {
      languages_.emplace_back(metadata.languages.names[i]);
    }
  }

  for (size_t i = 0; i < metadata.description.count; ++i) {
    const MMDB_description_s* entry = metadata.description.descriptions[i];
    if (entry == nullptr || entry->description == nullptr) continue;
    const bool english =
        entry->language != nullptr && std::strcmp(entry->language, "en") == 0;
    if (description_.empty() || english) description_ = entry->description;
  }

  for (const char* text : kProbeAddresses) {
    absl::StatusOr<IpAddress> probe = IpAddress::Parse(text);
    if (!probe.ok()) return probe.status();
    if (ip_version_ == 4 && !probe->is_v4()) continue;
    geo::v1::LookupResponse scratch;
    absl::Status status = Lookup(*probe, "en", &scratch);
    if (!status.ok()) {
      return absl::Status(status.code(),
                          absl::StrCat("probe lookup of ", text,
                                       " failed: ", status.message()));
    }
  }
  return absl::OkStatus();
}

geo::v1::DatabaseInfo Database::Info() const {
  geo::v1::DatabaseInfo info;
  info.set_path(path_);
  info.set_type(type_);
  info.set_build_epoch(build_epoch_);
  info.set_node_count(node_count_);
  info.set_loaded_at(absl::ToUnixSeconds(loaded_at_));
  info.set_ip_version(static_cast<uint32_t>(ip_version_));
  for (const std::string& language : languages_) info.add_languages(language);
  info.set_description(description_);
  return info;
}

absl::Status Database::Lookup(const IpAddress& ip, absl::string_view language,
                              geo::v1::LookupResponse* response) const {
  LookupAnswer answer;
  answer.ip = response->ip().empty() ? ip.ToString() : response->ip();
  absl::Status status = Find(ip, language, &answer);
  if (!status.ok()) return status;
  answer.ToResponse(response);
  return absl::OkStatus();
}

absl::Status Database::Find(const IpAddress& ip, absl::string_view language,
                            LookupAnswer* answer) const {
  absl::Status valid_language = ValidateLanguage(language);
  if (!valid_language.ok()) return valid_language;
  const IpAddress address = ip.Unmapped();
  if (ip_version_ == 4 && !address.is_v4()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot look up IPv6 address ", ip.ToString(),
                     " in IPv4-only database ", path_));
  }
  int mmdb_error = MMDB_SUCCESS;
  MMDB_lookup_result_s result =
      MMDB_lookup_sockaddr(&mmdb_, address.as_sockaddr(), &mmdb_error);
  if (mmdb_error != MMDB_SUCCESS) {
    return absl::DataLossError(
        absl::StrCat("lookup of ", ip.ToString(), " in ", path_,
                     " failed: ", MMDB_strerror(mmdb_error)));
  }
  if (answer->ip.empty()) answer->ip = ip.ToString();
  if (!result.found_entry) return absl::OkStatus();

  // For an IPv4 address in an IPv6 tree libmaxminddb counts the 96 bits of
  // the ::/96 prefix above the IPv4 subtree; a record above that subtree
  // (netmask < 96) covers all of IPv4.
  int prefix = result.netmask;
  if (address.is_v4() && ip_version_ == 6)
    prefix = prefix >= 96 ? prefix - 96 : 0;
  absl::StatusOr<IpNetwork> network = IpNetwork::FromAddress(address, prefix);
  if (!network.ok()) {
    return absl::DataLossError(absl::StrCat("lookup of ", ip.ToString(), " in ",
                                            path_, " returned netmask ",
                                            result.netmask));
  }
  absl::StatusOr<std::shared_ptr<const DecodedRecord>> record =
      DecodeRecord(result.entry, language);
  if (!record.ok()) {
    return WithContext(
        record.status(),
        absl::StrCat("record for ", ip.ToString(), " in ", path_, ": "));
  }
  answer->parts.push_back(AnswerPart{*std::move(record), network->ToString()});
  return absl::OkStatus();
}

void Database::InheritRenderedAnswers(const Database& previous) const {
  if (record_cache_ == nullptr || previous.record_cache_ == nullptr) return;
  // Only what `previous` cached, not what it inherited in turn: passing
  // inheritances on kept renders across a run of quick reloads, but held two
  // generations of records during the next open and pushed the reload's
  // memory peak past issue 8's budget (ADR 0010).
  auto records = std::make_shared<const PreviousRecords>(
      previous.record_cache_->Records(), record_cache_->capacity());
  if (records->size() == 0) return;
  // The probe lookups at open cached a few records already: give them their
  // predecessors' answers too (a shared record is immutable, so replace it).
  for (const std::shared_ptr<const DecodedRecord>& cached :
       record_cache_->Records()) {
    if (const DecodedRecord* same = records->Find(*cached)) {
      DecodedRecord sharing = *cached;
      sharing.ShareRenderedAnswer(*same);
      record_cache_->Insert(std::move(sharing));
    }
  }
  absl::MutexLock lock(&previous_mu_);
  misses_until_release_ = 2 * records->size();
  previous_records_ = std::move(records);
}

void Database::ReleaseInheritedRecords() const {
  std::shared_ptr<const PreviousRecords> released;
  absl::MutexLock lock(&previous_mu_);
  // Freed after the lock is released (destruction order: lock first).
  released = std::move(previous_records_);
}

RecordCacheStats Database::record_cache_stats() const {
  if (record_cache_ == nullptr) return RecordCacheStats();
  return record_cache_->Stats();
}

RecordDecodeStats Database::record_decode_stats() const {
  RecordDecodeStats stats;
  stats.decodes = decodes_.load(std::memory_order_relaxed);
  stats.failures = decode_failures_.load(std::memory_order_relaxed);
  stats.remembered_failures =
      remembered_failures_.load(std::memory_order_relaxed);
  return stats;
}

absl::StatusOr<std::shared_ptr<const DecodedRecord>> Database::DecodeRecord(
    const MMDB_entry_s& entry, absl::string_view language) const {
  // The offset identifies the record within this file only; the cache dies
  // with this Database, so a reload can never serve the old file's records.
  // A record is cached under a language only when it has names in it, and
  // otherwise under "en" (its answer in such a language is its English
  // answer, and name_languages says which languages those are): so the
  // number of cached copies of a record is bounded by the languages of the
  // file, never by the languages clients ask for.
  std::shared_ptr<const DecodedRecord> english;
  if (record_cache_ != nullptr) {
    // The default (empty) language almost never has names of its own: try
    // English first for it, the language itself first for the others.
    const bool english_first = language.empty();
    std::shared_ptr<const DecodedRecord> cached;
    if (!english_first) {
      cached = record_cache_->Find(entry.offset, language);
      if (cached != nullptr) return cached;
    }
    if (language != "en") {
      english = record_cache_->Find(entry.offset, "en");
      if (english != nullptr &&
          (english->name_languages & NameLanguageBit(language)) == 0) {
        return english;
      }
    }
    if (english_first) {
      cached = record_cache_->Find(entry.offset, language);
      if (cached != nullptr) return cached;
    }
  }
  if (absl::optional<absl::Status> failed =
          failed_decodes_->Find(entry.offset, language)) {
    remembered_failures_.fetch_add(1, std::memory_order_relaxed);
    return *std::move(failed);
  }
  decodes_.fetch_add(1, std::memory_order_relaxed);
  DecodedRecord decoded;
  bool language_found = false;
  bool fields_failed = false;
  absl::Status status = DecodeUncached(entry, language, &decoded,
                                       &language_found, &fields_failed);
  // Damaged records are not cached, but remembered: every lookup reports
  // them, and none decodes them again.
  if (!status.ok()) {
    decode_failures_.fetch_add(1, std::memory_order_relaxed);
    failed_decodes_->Remember(
        entry.offset, fields_failed ? FailedDecodes::LanguageTag(language) : 0,
        status);
    return status;
  }
  if (!language_found && language != "en") {
    // Exactly the English answer: keep one copy, under "en".
    if (english != nullptr) return english;
    decoded.language = "en";
  }
  if (record_cache_ == nullptr) {
    return std::make_shared<const DecodedRecord>(std::move(decoded));
  }
  std::shared_ptr<const PreviousRecords> previous;
  {
    absl::MutexLock lock(&previous_mu_);
    if (previous_records_ != nullptr && --misses_until_release_ == 0) {
      // Released outside the lock (below), when `previous` goes.
      previous = std::move(previous_records_);
    } else {
      previous = previous_records_;
    }
  }
  if (previous != nullptr) {
    if (const DecodedRecord* same = previous->Find(decoded)) {
      decoded.ShareRenderedAnswer(*same);
    }
  }
  return record_cache_->Insert(std::move(decoded));
}

absl::Status Database::DecodeUncached(const MMDB_entry_s& entry,
                                      absl::string_view language,
                                      DecodedRecord* record,
                                      bool* language_found,
                                      bool* fields_failed) const {
  // Not MMDB_get_entry_data_list: it expands every pointer before anything
  // can be counted (see BoundedEntryList).
  BoundedEntryList list(entry.mmdb, max_record_entries_, max_record_bytes_);
  absl::Status walked = list.Decode(entry.offset);
  if (!walked.ok()) return walked;
  if (list.root() == nullptr) {
    return DecodeFailureError(RecordDecodeFailure::kInvalidData,
                              "empty record");
  }
  record->offset = entry.offset;
  record->language = std::string(language);
  // A failed decode leaves the record unset; the caller drops it, so no
  // response ever sees half a record.
  geo::v1::LookupResponse fields;
  NameChoice names{language};
  absl::Status decoded =
      DecodeTopLevel(list.root(), &names, &fields, &record->has_subdivisions);
  if (!decoded.ok()) {
    *fields_failed = true;
    return DecodeFailureError(RecordDecodeFailure::kInvalidData,
                              decoded.message());
  }
  record->SetFields(fields);
  record->name_languages = names.present;
  *language_found = names.found;
  return absl::OkStatus();
}

}  // namespace geo
