#include "updater/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <memory>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace geo::updater {
namespace {

struct ArchiveDeleter {
  void operator()(struct archive* reader) const { archive_read_free(reader); }
};
using ArchiveReader = std::unique_ptr<struct archive, ArchiveDeleter>;

absl::StatusOr<ArchiveReader> OpenArchive(const std::string& path) {
  ArchiveReader reader(archive_read_new());
  if (reader == nullptr) return absl::InternalError("archive_read_new failed");
  archive_read_support_filter_gzip(reader.get());
  archive_read_support_format_tar(reader.get());
  if (archive_read_open_filename(reader.get(), path.c_str(), 1 << 16) !=
      ARCHIVE_OK) {
    return absl::DataLossError(absl::StrCat(
        "cannot read archive: ", archive_error_string(reader.get())));
  }
  return reader;
}

std::string ErrorOf(struct archive* reader) {
  const char* message = archive_error_string(reader);
  return message != nullptr ? message : "unknown libarchive error";
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
  // First pass: check every member name and find the one database, so that a
  // malicious archive is refused before any byte of it is used.
  std::string database_entry;
  {
    absl::StatusOr<ArchiveReader> reader = OpenArchive(archive_path);
    if (!reader.ok()) return reader.status();
    struct archive_entry* entry = nullptr;
    while (true) {
      int result = archive_read_next_header(reader->get(), &entry);
      if (result == ARCHIVE_EOF) break;
      if (result != ARCHIVE_OK && result != ARCHIVE_WARN) {
        return absl::DataLossError(
            absl::StrCat("corrupt archive: ", ErrorOf(reader->get())));
      }
      const char* name = archive_entry_pathname(entry);
      std::string path = name != nullptr ? name : "";
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
      }
      archive_read_data_skip(reader->get());
    }
  }
  if (database_entry.empty()) {
    return absl::DataLossError("archive has no .mmdb member");
  }

  absl::StatusOr<ArchiveReader> reader = OpenArchive(archive_path);
  if (!reader.ok()) return reader.status();
  struct archive_entry* entry = nullptr;
  while (true) {
    int result = archive_read_next_header(reader->get(), &entry);
    if (result == ARCHIVE_EOF) {
      return absl::DataLossError("archive changed while reading it");
    }
    if (result != ARCHIVE_OK && result != ARCHIVE_WARN) {
      return absl::DataLossError(
          absl::StrCat("corrupt archive: ", ErrorOf(reader->get())));
    }
    const char* name = archive_entry_pathname(entry);
    if (name == nullptr || database_entry != name) continue;
    std::vector<char> buffer(1 << 16);
    int64_t total = 0;
    while (true) {
      la_ssize_t n =
          archive_read_data(reader->get(), buffer.data(), buffer.size());
      if (n == 0) return database_entry;
      if (n < 0) {
        return absl::DataLossError(absl::StrCat("corrupt archive member ",
                                                database_entry, ": ",
                                                ErrorOf(reader->get())));
      }
      total += n;
      if (total > max_bytes) {
        return absl::OutOfRangeError(
            absl::StrCat("archive member ", database_entry, " is larger than ",
                         max_bytes, " bytes"));
      }
      absl::Status status =
          sink(absl::string_view(buffer.data(), static_cast<size_t>(n)));
      if (!status.ok()) return status;
    }
  }
}

}  // namespace geo::updater
