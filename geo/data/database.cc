#include "geo/data/database.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "geo/common/background_work.h"

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

struct EntryDataListDeleter {
  void operator()(MMDB_entry_data_list_s* list) const {
    MMDB_free_entry_data_list(list);
  }
};
using EntryDataList =
    std::unique_ptr<MMDB_entry_data_list_s, EntryDataListDeleter>;

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

// Picks names[language], else names["en"], else leaves `out` alone.
absl::Status ReadName(absl::string_view field, Node names,
                      absl::string_view language, std::string* out) {
  std::string english;
  bool have_language = false;
  absl::StatusOr<Node> end = ForEachInMap(
      field, names, [&](absl::string_view key, Node value) -> absl::Status {
        if (key == language) {
          have_language = true;
          return ReadString(field, value, out);
        }
        if (key == "en") return ReadString(field, value, &english);
        return absl::OkStatus();
      });
  if (!end.ok()) return end.status();
  if (!have_language && !english.empty()) *out = std::move(english);
  return absl::OkStatus();
}

absl::Status ReadPlaceExtra(absl::string_view, absl::string_view, Node,
                            geo::v1::City*) {
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
absl::Status ReadPlace(absl::string_view field, Node node,
                       absl::string_view language, Message* message) {
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
                 status = ReadAutonomousSystemKey(key, value, response);
               }
               return status;
             })
      .status();
}

absl::Status ReadSubdivisions(Node node, absl::string_view language,
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

absl::Status DecodeTopLevel(Node root, absl::string_view language,
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
                 return ForEachInMap(
                            "postal", value,
                            [&](absl::string_view postal_key,
                                Node postal_value) -> absl::Status {
                              if (postal_key != "code") return absl::OkStatus();
                              return ReadString(
                                  "postal.code", postal_value,
                                  response->mutable_postal()->mutable_code());
                            })
                     .status();
               }
               if (key == "traits") return ReadTraits(value, response);
               return ReadAutonomousSystemKey(key, value, response);
             })
      .status();
}

}  // namespace

absl::StatusOr<std::shared_ptr<const Database>> Database::Open(
    const std::string& path, const DatabaseOptions& options) {
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
  // fields it does not read.
  MMDB_entry_data_list_s* raw_metadata = nullptr;
  const int metadata_status =
      MMDB_get_metadata_as_entry_data_list(&mmdb_, &raw_metadata);
  EntryDataList metadata_list(raw_metadata);
  if (metadata_status != MMDB_SUCCESS) {
    return absl::DataLossError(absl::StrCat("metadata does not decode: ",
                                            MMDB_strerror(metadata_status)));
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
    return absl::Status(record.status().code(),
                        absl::StrCat("record for ", ip.ToString(), " in ",
                                     path_, ": ", record.status().message()));
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

absl::StatusOr<std::shared_ptr<const DecodedRecord>> Database::DecodeRecord(
    const MMDB_entry_s& entry, absl::string_view language) const {
  // The offset identifies the record within this file only; the cache dies
  // with this Database, so a reload can never serve the old file's records.
  if (record_cache_ != nullptr) {
    std::shared_ptr<const DecodedRecord> cached =
        record_cache_->Find(entry.offset, language);
    if (cached != nullptr) return cached;
  }
  DecodedRecord decoded;
  absl::Status status = DecodeUncached(entry, language, &decoded);
  // Damaged records are not cached: every lookup reports them.
  if (!status.ok()) return status;
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
                                      DecodedRecord* record) const {
  MMDB_entry_s start = entry;
  MMDB_entry_data_list_s* raw_list = nullptr;
  const int status = MMDB_get_entry_data_list(&start, &raw_list);
  // Set (and to be freed) even when decoding failed part way.
  EntryDataList list(raw_list);
  if (status != MMDB_SUCCESS) {
    return absl::DataLossError(
        absl::StrCat("record does not decode: ", MMDB_strerror(status)));
  }
  if (list == nullptr) return absl::DataLossError("empty record");
  record->offset = entry.offset;
  record->language = std::string(language);
  // A failed decode leaves the record unset; the caller drops it, so no
  // response ever sees half a record.
  geo::v1::LookupResponse fields;
  absl::Status decoded =
      DecodeTopLevel(list.get(), language, &fields, &record->has_subdivisions);
  if (!decoded.ok()) return decoded;
  record->SetFields(fields);
  return absl::OkStatus();
}

}  // namespace geo
