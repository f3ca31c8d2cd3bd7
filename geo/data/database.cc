#include "geo/data/database.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "geo/data/language.h"

namespace geo {
namespace {

// 9999-12-31T23:59:59Z. A larger build_epoch (one bad-data file carries
// UINT64_MAX) would overflow int64 and every time computation after it.
constexpr uint64_t kMaxBuildEpoch = 253402300799;

// Addresses looked up at open: a tree walk from both the IPv4 and IPv6 roots,
// and a decode of whatever record they reach.
constexpr const char* kProbeAddresses[] = {"1.1.1.1", "8.8.8.8", "81.2.69.160",
                                           "2001:4860:4860::8888",
                                           "2a02:ff00::1"};

absl::Status OpenError(const std::string& path, int status, int os_errno) {
  if (status == MMDB_FILE_OPEN_ERROR || status == MMDB_IO_ERROR) {
    // ErrnoToStatus appends strerror(os_errno).
    const std::string message = absl::StrCat("cannot open database ", path,
                                             ": ", MMDB_strerror(status));
    // libmaxminddb mmap(2)s the whole file and mmap refuses length 0: an
    // empty file is damaged data, not an OS failure.
    if (status == MMDB_IO_ERROR && os_errno == EINVAL) {
      return absl::DataLossError(message);
    }
    return absl::ErrnoToStatus(os_errno, message);
  }
  if (status == MMDB_OUT_OF_MEMORY_ERROR) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "cannot open database ", path, ": ", MMDB_strerror(status)));
  }
  return absl::DataLossError(
      absl::StrCat("invalid database ", path, ": ", MMDB_strerror(status)));
}

// libmaxminddb decodes parts of the metadata with MMDB_get_entry_data_list
// inside MMDB_open (the languages and the description), where no budget
// applies: a metadata section whose pointers fan out would exhaust memory
// before MMDB_open returns. So the metadata is walked here first, within
// the same budget as a record: found the way libmaxminddb finds it (after
// the last marker in the file's final 128 KiB), decoded from its start.
// OK when the file cannot be read or has no marker: MMDB_open then reports
// that, as before.
absl::Status CheckMetadataBudget(const std::string& path,
                                 const MaxmindDecoder& decoder) {
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
  absl::Status walked = decoder.CheckWithinBudget(
      reinterpret_cast<const uint8_t*>(tail.data()) + start,
      tail.size() - start, 0);
  if (!walked.ok()) {
    return WithContext(walked,
                       absl::StrCat("invalid database ", path, ": metadata: "));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WithContext(const absl::Status& status, absl::string_view prefix) {
  absl::Status out(status.code(), absl::StrCat(prefix, status.message()));
  status.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
    out.SetPayload(url, payload);
  });
  return out;
}

absl::StatusOr<std::shared_ptr<const Database>> Database::Open(
    const std::string& path, const DatabaseOptions& options) {
  const MaxmindDecoder decoder(
      DecodeBudget{options.max_record_entries, options.max_record_bytes});
  absl::Status metadata_fits = CheckMetadataBudget(path, decoder);
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
  database->loaded_at_ =
      (options.clock != nullptr ? options.clock : Clock::Real())->Now();
  database->decoder_ = decoder;
  absl::Status valid = database->ValidateAfterOpen();
  if (!valid.ok()) {
    return absl::Status(valid.code(), absl::StrCat("invalid database ", path,
                                                   ": ", valid.message()));
  }
  return std::shared_ptr<const Database>(std::move(database));
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
  absl::Status metadata_decoded = decoder_.CheckWithinBudget(
      mmdb_.metadata_section, mmdb_.metadata_section_size, 0);
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

  absl::StatusOr<Ipv4PrefixIndex> index =
      Ipv4PrefixIndex::Build(SearchTreeView::Of(mmdb_));
  if (!index.ok()) return absl::DataLossError(index.status().message());
  ipv4_index_ = *std::move(index);

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

absl::Status FindIntoResponse(
    const IpAddress& ip, geo::v1::LookupResponse* response,
    absl::FunctionRef<absl::Status(LookupAnswer*)> find) {
  LookupAnswer answer;
  answer.ip = response->ip().empty() ? ip.ToString() : response->ip();
  absl::Status status = find(&answer);
  if (!status.ok()) return status;
  answer.ToResponse(response);
  return absl::OkStatus();
}

absl::Status Database::Lookup(const IpAddress& ip, absl::string_view language,
                              geo::v1::LookupResponse* response) const {
  return FindIntoResponse(ip, response, [&](LookupAnswer* answer) {
    return Find(ip, language, answer);
  });
}

absl::StatusOr<std::optional<RecordLocation>> Database::Locate(
    const IpAddress& ip) const {
  const IpAddress address = ip.Unmapped();
  if (ip_version_ == 4 && !address.is_v4()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot look up IPv6 address ", ip.ToString(),
                     " in IPv4-only database ", path_));
  }
  uint32_t offset = 0;
  int prefix = 0;
  if (address.is_v4()) {
    const uint8_t* bytes = address.bytes();
    absl::StatusOr<Ipv4TreeResult> walked = ipv4_index_->Find(
        (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) |
        (uint32_t{bytes[2]} << 8) | bytes[3]);
    if (!walked.ok()) {
      return absl::DataLossError(
          absl::StrCat("lookup of ", ip.ToString(), " in ", path_,
                       " failed: ", walked.status().message()));
    }
    if (!walked->found) return std::nullopt;
    offset = walked->offset;
    prefix = walked->prefix_length;
  } else {
    int mmdb_error = MMDB_SUCCESS;
    MMDB_lookup_result_s result =
        MMDB_lookup_sockaddr(&mmdb_, address.as_sockaddr(), &mmdb_error);
    if (mmdb_error != MMDB_SUCCESS) {
      return absl::DataLossError(
          absl::StrCat("lookup of ", ip.ToString(), " in ", path_,
                       " failed: ", MMDB_strerror(mmdb_error)));
    }
    if (!result.found_entry) return std::nullopt;
    offset = result.entry.offset;
    prefix = result.netmask;
  }
  absl::StatusOr<IpNetwork> network = IpNetwork::FromAddress(address, prefix);
  if (!network.ok()) {
    return absl::DataLossError(absl::StrCat("lookup of ", ip.ToString(), " in ",
                                            path_, " returned prefix length ",
                                            prefix));
  }
  return RecordLocation{offset, network->ToString()};
}

absl::Status Database::Decode(uint32_t offset, absl::string_view language,
                              DecodedRecord* record, bool* language_found,
                              bool* failed_in_fields) const {
  DecodedFields decoded;
  absl::Status status =
      decoder_.Decode(mmdb_, offset, language, &decoded, failed_in_fields);
  if (!status.ok()) return status;
  record->offset = offset;
  record->language = std::string(language);
  record->has_subdivisions = decoded.has_subdivisions;
  record->name_languages = decoded.name_languages;
  record->SetFields(decoded.fields);
  *language_found = decoded.language_found;
  return absl::OkStatus();
}

absl::Status Database::Find(const IpAddress& ip, absl::string_view language,
                            LookupAnswer* answer) const {
  absl::Status valid_language = ValidateLanguage(language);
  if (!valid_language.ok()) return valid_language;
  absl::StatusOr<std::optional<RecordLocation>> location = Locate(ip);
  if (!location.ok()) return location.status();
  if (answer->ip.empty()) answer->ip = ip.ToString();
  if (!location->has_value()) return absl::OkStatus();
  DecodedRecord record;
  bool language_found = false;
  bool failed_in_fields = false;
  absl::Status decoded = Decode((*location)->offset, language, &record,
                                &language_found, &failed_in_fields);
  if (!decoded.ok()) {
    return WithContext(decoded, absl::StrCat("record for ", ip.ToString(),
                                             " in ", path_, ": "));
  }
  answer->parts.push_back(
      AnswerPart{std::make_shared<const DecodedRecord>(std::move(record)),
                 std::move((*location)->network)});
  return absl::OkStatus();
}

absl::Span<const uint8_t> Database::mapped_file() const {
  if (mmdb_.file_content == nullptr || mmdb_.file_size <= 0) return {};
  return absl::MakeConstSpan(mmdb_.file_content,
                             static_cast<size_t>(mmdb_.file_size));
}

absl::Span<const uint8_t> Database::search_tree() const {
  const absl::Span<const uint8_t> file = mapped_file();
  if (mmdb_.data_section == nullptr || mmdb_.data_section <= file.data() ||
      mmdb_.data_section >= file.data() + file.size()) {
    return file;
  }
  return file.first(static_cast<size_t>(mmdb_.data_section - file.data()));
}

}  // namespace geo
