// A file being written in the data directory, and how it is made durable.
//
// The file is created by Installer::CreateTemp in the directory it will be
// installed in (same filesystem, so the final rename is atomic) and removed
// when the object goes, unless Commit renamed it into place.
#ifndef UPDATER_TEMP_FILE_H_
#define UPDATER_TEMP_FILE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "geo/common/file_descriptor.h"

namespace geo::updater {

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

// fsync(2) of a directory, so that a rename in it is durable.
absl::Status SyncDirectory(const std::string& directory);

}  // namespace geo::updater

#endif  // UPDATER_TEMP_FILE_H_
