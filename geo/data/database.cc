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

// 9999-12-31T23:59:59Z. A larger build_epoch (one bad-data file carries
// UINT64_MAX) would overflow int64 and every time computation after it.
constexpr uint64_t kMaxBuildEpoch = 253402300799;

// Addresses looked up at open: a tree walk from both the IPv4 and IPv6 roots,
// and a decode of whatever record they reach.
constexpr const char* kProbeAddresses[] = {"1.1.1.1", "8.8.8.8", "81.2.69.160",
                                           "2001:4860:4860::8888",
                                           "2a02:ff00::1"};

// `status` with `prefix` before its message, payloads kept.
absl::Status WithContext(const absl::Status& status, absl::string_view prefix) {
  absl::Status out(status.code(), absl::StrCat(prefix, status.message()));
  status.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
    out.SetPayload(url, payload);
  });
  return out;
}

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
  database->loaded_at_ = absl::Now();
  database->decoder_ = decoder;
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
  DecodedFields decoded;
  absl::Status status = decoder_.Decode(*entry.mmdb, entry.offset, language,
                                        &decoded, fields_failed);
  if (!status.ok()) return status;
  // A failed decode leaves the record unset; the caller drops it, so no
  // response ever sees half a record.
  record->offset = entry.offset;
  record->language = std::string(language);
  record->has_subdivisions = decoded.has_subdivisions;
  record->SetFields(decoded.fields);
  record->name_languages = decoded.name_languages;
  *language_found = decoded.language_found;
  return absl::OkStatus();
}

}  // namespace geo
