#include "updater/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "geo/common/status_macros.h"

namespace geo::updater {
namespace {

struct ArchiveDeleter {
  void operator()(struct archive* reader) const { archive_read_free(reader); }
};
using ArchiveReader = std::unique_ptr<struct archive, ArchiveDeleter>;

std::string ErrorOf(struct archive* reader) {
  const char* message = archive_error_string(reader);
  return message != nullptr ? message : "unknown libarchive error";
}

// A tar reader over the decompressed bytes of a file, which stops with an
// error once it has been given `limit` bytes. libarchive's tar reader
// decompresses whatever it skips (the data of members it is not asked for,
// oversized pax headers) inside its own calls, where no caller can count;
// here the decompression is a separate reader (libarchive's "raw" format
// behind its gzip filter) whose output reaches the tar reader only through
// ReadDecompressed, which counts. Not movable: the tar reader holds `this`.
class LimitedTarReader {
 public:
  static absl::StatusOr<std::unique_ptr<LimitedTarReader>> Open(
      const std::string& path, int64_t limit) {
    std::unique_ptr<LimitedTarReader> reader(new LimitedTarReader(limit));
    reader->decompressor_.reset(archive_read_new());
    reader->tar_.reset(archive_read_new());
    if (reader->decompressor_ == nullptr || reader->tar_ == nullptr) {
      return absl::InternalError("archive_read_new failed");
    }
    struct archive* decompressor = reader->decompressor_.get();
    archive_read_support_filter_gzip(decompressor);
    archive_read_support_format_raw(decompressor);
    struct archive_entry* stream = nullptr;
    if (archive_read_open_filename(decompressor, path.c_str(), 1 << 16) !=
            ARCHIVE_OK ||
        archive_read_next_header(decompressor, &stream) != ARCHIVE_OK) {
      return absl::DataLossError(
          absl::StrCat("cannot read archive: ", ErrorOf(decompressor)));
    }
    archive_read_support_format_tar(reader->tar_.get());
    if (archive_read_open(reader->tar_.get(), reader.get(), nullptr,
                          &LimitedTarReader::ReadDecompressed,
                          nullptr) != ARCHIVE_OK) {
      return reader->Error("cannot read archive");
    }
    return reader;
  }

  struct archive* tar() const {
    return tar_.get();
  }

  // Reads the next member's header into `*entry`: true, false at the end of
  // the archive, or the error of a corrupt header.
  absl::StatusOr<bool> NextMember(struct archive_entry** entry) const {
    const int result = archive_read_next_header(tar_.get(), entry);
    if (result == ARCHIVE_EOF) return false;
    if (result != ARCHIVE_OK && result != ARCHIVE_WARN) {
      return Error("corrupt archive");
    }
    return true;
  }

  // The error of the tar reader's last failed call: OUT_OF_RANGE when the
  // limit stopped it, else DATA_LOSS saying `what` failed.
  absl::Status Error(absl::string_view what) const {
    if (exceeded_) {
      return absl::OutOfRangeError(
          absl::StrCat("archive expands to more than ", limit_,
                       " bytes (the largest accepted database plus ",
                       kArchiveOverheadBytes, " bytes for the rest)"));
    }
    return absl::DataLossError(absl::StrCat(what, ": ", ErrorOf(tar_.get())));
  }

 private:
  explicit LimitedTarReader(int64_t limit) : limit_(limit), buffer_(1 << 16) {}

  static la_ssize_t ReadDecompressed(struct archive* tar, void* client,
                                     const void** block) {
    auto* self = static_cast<LimitedTarReader*>(client);
    const la_ssize_t n = archive_read_data(
        self->decompressor_.get(), self->buffer_.data(), self->buffer_.size());
    if (n < 0) {
      archive_set_error(tar, EIO, "%s",
                        ErrorOf(self->decompressor_.get()).c_str());
      return -1;
    }
    self->produced_ += n;
    if (self->produced_ > self->limit_) {
      self->exceeded_ = true;
      archive_set_error(tar, ERANGE, "decompressed size limit reached");
      return -1;
    }
    *block = self->buffer_.data();
    return n;
  }

  const int64_t limit_;
  std::vector<char> buffer_;
  int64_t produced_ = 0;
  bool exceeded_ = false;
  // Declared in this order so the tar reader, which reads through the
  // decompressor, is freed first.
  ArchiveReader decompressor_;
  ArchiveReader tar_;
};

// The member's path; "" when it has none.
std::string MemberPath(struct archive_entry* entry) {
  const char* path = archive_entry_pathname(entry);
  return path != nullptr ? path : "";
}

}  // namespace

bool IsUnsafeEntryPath(absl::string_view path) {
  if (path.empty() || absl::StartsWith(path, "/")) return true;
  for (absl::string_view part : absl::StrSplit(path, '/')) {
    if (part == "..") return true;
  }
  return false;
}

absl::StatusOr<std::string> ExtractMmdb(const std::string& archive_path,
                                        int64_t max_bytes,
                                        const ExtractSink& sink) {
  // Both passes decompress through a LimitedTarReader: the archive may hold
  // the database and kArchiveOverheadBytes of other members and headers.
  const int64_t pass_limit = max_bytes > INT64_MAX - kArchiveOverheadBytes
                                 ? INT64_MAX
                                 : max_bytes + kArchiveOverheadBytes;
  // First pass: check every member name and find the one database, so that a
  // malicious archive is refused before any byte of it is used.
  std::string database_entry;
  {
    GEO_ASSIGN_OR_RETURN(std::unique_ptr<LimitedTarReader> reader,
                         LimitedTarReader::Open(archive_path, pass_limit));
    struct archive_entry* entry = nullptr;
    while (true) {
      GEO_ASSIGN_OR_RETURN(const bool more, reader->NextMember(&entry));
      if (!more) break;
      const std::string path = MemberPath(entry);
      if (IsUnsafeEntryPath(path)) {
        return absl::DataLossError(
            absl::StrCat("archive refused: member path \"", path,
                         "\" is absolute or contains \"..\""));
      }
      if (archive_entry_filetype(entry) == AE_IFREG &&
          absl::EndsWith(path, ".mmdb")) {
        if (!database_entry.empty()) {
          return absl::DataLossError(absl::StrCat(
              "archive has more than one .mmdb member: ", database_entry,
              " and ", path));
        }
        database_entry = path;
        // Refused from its header, before a byte of it is inflated.
        if (archive_entry_size_is_set(entry) &&
            archive_entry_size(entry) > max_bytes) {
          return absl::OutOfRangeError(absl::StrCat("archive member ", path,
                                                    " is larger than ",
                                                    max_bytes, " bytes"));
        }
      }
      if (archive_read_data_skip(reader->tar()) != ARCHIVE_OK) {
        return reader->Error("corrupt archive");
      }
    }
  }
  if (database_entry.empty()) {
    return absl::DataLossError("archive has no .mmdb member");
  }

  GEO_ASSIGN_OR_RETURN(std::unique_ptr<LimitedTarReader> reader,
                       LimitedTarReader::Open(archive_path, pass_limit));
  struct archive_entry* entry = nullptr;
  while (true) {
    GEO_ASSIGN_OR_RETURN(const bool more, reader->NextMember(&entry));
    if (!more) return absl::DataLossError("archive changed while reading it");
    if (MemberPath(entry) != database_entry) continue;
    std::vector<char> buffer(1 << 16);
    int64_t total = 0;
    while (true) {
      la_ssize_t n =
          archive_read_data(reader->tar(), buffer.data(), buffer.size());
      if (n == 0) return database_entry;
      if (n < 0) {
        return reader->Error(
            absl::StrCat("corrupt archive member ", database_entry));
      }
      total += n;
      if (total > max_bytes) {
        return absl::OutOfRangeError(
            absl::StrCat("archive member ", database_entry, " is larger than ",
                         max_bytes, " bytes"));
      }
      GEO_RETURN_IF_ERROR(
          sink(absl::string_view(buffer.data(), static_cast<size_t>(n))));
    }
  }
}

}  // namespace geo::updater
