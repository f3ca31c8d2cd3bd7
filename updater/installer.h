// Atomic installation of database files into the data directory.
//
// A file is written to a temp file in the target directory (same filesystem,
// so rename is atomic), fsync'ed, renamed over the final name, and the
// directory is fsync'ed so the rename survives a crash. Readers (the geo
// server's watcher) therefore only ever see a complete old or a complete new
// file. Temp files are dot-files with a fixed prefix so that stale ones left
// by a killed updater can be found and removed, under the directory lock
// (updater/directory_lock.h).
#ifndef UPDATER_INSTALLER_H_
#define UPDATER_INSTALLER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "geo/common/file_descriptor.h"

namespace geo::updater {

// Prefix of every temp file the updater creates.
inline constexpr absl::string_view kTempPrefix = ".geo-updater-";

// A temp file in the data directory, removed on destruction unless
// committed. Not thread-safe.
class TempFile {
 public:
  TempFile(TempFile&& other) noexcept;
  // Removes this object's own file first (unless committed).
  TempFile& operator=(TempFile&& other) noexcept;
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile();

  // Asked before every Write with the size the file would have after it; a
  // non-OK answer refuses the write (the file is left as it was) and is
  // returned by Write. How the updater bounds a download by the free space.
  using WriteCheck = std::function<absl::Status(int64_t size_after_write)>;
  void SetWriteCheck(WriteCheck check) { write_check_ = std::move(check); }

  // Appends. A full disk or file size limit is RESOURCE_EXHAUSTED.
  absl::Status Write(absl::string_view data);
  // Empties the file (before a retried download).
  absl::Status Truncate();
  // Bytes written since creation or the last Truncate.
  int64_t size() const { return size_; }
  // fsync, close, rename to `final_path` (in the same directory), fsync the
  // directory. `modified_at`, when set, becomes the file's mtime.
  absl::Status Commit(const std::string& final_path,
                      std::optional<absl::Time> modified_at);

  const std::string& path() const { return path_; }

 private:
  friend class Installer;
  TempFile(std::string directory, std::string path, FileDescriptor fd);

  void Discard();

  std::string directory_;
  std::string path_;  // Empty once moved from.
  FileDescriptor fd_;
  bool committed_ = false;
  int64_t size_ = 0;
  WriteCheck write_check_;
};

// Thread-compatible.
class Installer {
 public:
  explicit Installer(std::string directory);

  // Creates the directory if needed and checks it is writable.
  absl::Status Prepare();
  // Removes temp files left behind by an interrupted run. Call with the
  // directory lock held. Returns how many were removed.
  absl::StatusOr<int> RemoveStaleTempFiles();
  // A new, empty temp file whose name mentions `label`.
  absl::StatusOr<TempFile> CreateTemp(absl::string_view label);

  std::string PathOf(absl::string_view file_name) const;
  const std::string& directory() const { return directory_; }

 private:
  std::string directory_;
};

// fsync(2) of a directory, so that a rename in it is durable.
absl::Status SyncDirectory(const std::string& directory);

}  // namespace geo::updater

#endif  // UPDATER_INSTALLER_H_
