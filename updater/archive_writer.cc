#include "updater/archive_writer.h"

#include <archive.h>
#include <archive_entry.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"

namespace geo::updater {
namespace {

struct ArchiveDeleter {
  void operator()(struct archive* archive) const {
    archive_write_free(archive);
  }
};
struct EntryDeleter {
  void operator()(struct archive_entry* entry) const {
    archive_entry_free(entry);
  }
};

la_ssize_t AppendToString(struct archive*, void* user, const void* data,
                          size_t length) {
  static_cast<std::string*>(user)->append(static_cast<const char*>(data),
                                          length);
  return static_cast<la_ssize_t>(length);
}

absl::Status ArchiveError(struct archive* archive, absl::string_view what) {
  const char* message = archive_error_string(archive);
  return absl::InternalError(
      absl::StrCat(what, ": ", message != nullptr ? message : "unknown error"));
}

}  // namespace

absl::StatusOr<std::string> MakeMaxMindTarGz(absl::string_view edition,
                                             absl::string_view date, int fd,
                                             int64_t size,
                                             absl::Time modified_at) {
  std::string out;
  std::unique_ptr<struct archive, ArchiveDeleter> writer(archive_write_new());
  if (writer == nullptr) return absl::InternalError("archive_write_new failed");
  if (archive_write_add_filter_gzip(writer.get()) != ARCHIVE_OK ||
      archive_write_set_format_ustar(writer.get()) != ARCHIVE_OK) {
    return ArchiveError(writer.get(), "tar.gz writer");
  }
  // The archive is built once per installed database, but for a large City
  // database on a small CPU quota the fastest level keeps that to about a
  // second; the bytes only cross the cluster network.
  (void)archive_write_set_filter_option(writer.get(), "gzip",
                                        "compression-level", "1");
  archive_write_set_bytes_in_last_block(writer.get(), 1);
  if (archive_write_open(writer.get(), &out, nullptr, &AppendToString,
                         nullptr) != ARCHIVE_OK) {
    return ArchiveError(writer.get(), "tar.gz writer");
  }
  const std::string directory = absl::StrCat(edition, "_", date);
  const int64_t mtime = absl::ToUnixSeconds(modified_at);
  {
    std::unique_ptr<struct archive_entry, EntryDeleter> entry(
        archive_entry_new());
    archive_entry_set_pathname(entry.get(), (directory + "/").c_str());
    archive_entry_set_filetype(entry.get(), AE_IFDIR);
    archive_entry_set_perm(entry.get(), 0755);
    archive_entry_set_mtime(entry.get(), mtime, 0);
    if (archive_write_header(writer.get(), entry.get()) != ARCHIVE_OK) {
      return ArchiveError(writer.get(), "tar header");
    }
  }
  std::unique_ptr<struct archive_entry, EntryDeleter> entry(
      archive_entry_new());
  const std::string member = absl::StrCat(directory, "/", edition, ".mmdb");
  archive_entry_set_pathname(entry.get(), member.c_str());
  archive_entry_set_filetype(entry.get(), AE_IFREG);
  archive_entry_set_perm(entry.get(), 0644);
  archive_entry_set_size(entry.get(), size);
  archive_entry_set_mtime(entry.get(), mtime, 0);
  if (archive_write_header(writer.get(), entry.get()) != ARCHIVE_OK) {
    return ArchiveError(writer.get(), "tar header");
  }
  std::vector<char> buffer(1 << 20);
  int64_t offset = 0;
  while (offset < size) {
    const size_t want = static_cast<size_t>(
        std::min<int64_t>(static_cast<int64_t>(buffer.size()), size - offset));
    const ssize_t n = ::pread(fd, buffer.data(), want, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return absl::InternalError(absl::StrCat("read: ", strerror(errno)));
    }
    if (n == 0) {
      return absl::InternalError(
          absl::StrCat("file ended at ", offset, " bytes, expected ", size));
    }
    if (archive_write_data(writer.get(), buffer.data(),
                           static_cast<size_t>(n)) != n) {
      return ArchiveError(writer.get(), "tar data");
    }
    offset += n;
  }
  if (archive_write_close(writer.get()) != ARCHIVE_OK) {
    return ArchiveError(writer.get(), "tar.gz close");
  }
  return out;
}

}  // namespace geo::updater
