// What the updater's serve mode serves: for each edition, the database file
// installed in the data directory, opened once and verified (the same full
// open the geo server does, plus its MD5 and SHA-256), and its MaxMind-style
// tar.gz. Each snapshot maps the very file it verified (by descriptor, so
// by inode) and every response is sent from that mapping, shared by all
// responses in flight: an install that renames a new file over the old one
// mid-download cannot mix the two (a client gets the old file whole or the
// new file whole), and memory holds one copy however many clients download.
// Trap: the updater replaces files by rename, never in place; a program that
// truncated a served file in place would fault this process (and geo_server,
// which maps the same file).
#ifndef UPDATER_INSTALLED_DATABASES_H_
#define UPDATER_INSTALLED_DATABASES_H_

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "geo/common/file_descriptor.h"
#include "updater/database_validator.h"

namespace geo::updater {

// One verified database. Immutable once built.
class InstalledDatabase {
 public:
  // Opens `path`, reads it whole through the descriptor to digest it,
  // validates it as `edition` through /proc/self/fd (the very inode that is
  // kept open) and builds its tar.gz. DATA_LOSS when it is not a valid
  // database of that edition, NOT_FOUND when the file does not exist.
  static absl::StatusOr<std::shared_ptr<const InstalledDatabase>> Open(
      const std::string& path, const std::string& edition,
      const DatabaseValidator& validator);

  const std::string& edition() const { return edition_; }
  int64_t size() const { return size_; }
  // The file's mtime, which the updater sets from the upstream
  // Last-Modified (or the release date).
  absl::Time modified_at() const { return modified_at_; }
  // YYYY-MM-DD (UTC) of modified_at: MaxMind's metadata `date`.
  const std::string& date() const { return date_; }
  const std::string& md5() const { return md5_; }
  const std::string& sha256() const { return sha256_; }
  // `<edition>_<YYYYMMDD>/<edition>.mmdb`, gzip-compressed tar.
  const std::string& archive() const { return archive_; }

  // The whole database file, from the read-only mapping of the verified
  // inode; valid while this snapshot lives.
  absl::string_view contents() const {
    return absl::string_view(static_cast<const char*>(mapping_.address),
                             mapping_.length);
  }

  // (device, inode, size, mtime) of the file this snapshot was opened from.
  bool SameFileAs(const struct stat& info) const;

 private:
  InstalledDatabase() = default;

  // A read-only shared mapping, unmapped on destruction (none for an empty
  // file, which verification rejects anyway).
  struct Mapping {
    Mapping() = default;
    Mapping(const Mapping&) = delete;
    Mapping& operator=(const Mapping&) = delete;
    ~Mapping();
    void* address = nullptr;
    size_t length = 0;
  };

  std::string edition_;
  FileDescriptor fd_;
  Mapping mapping_;
  dev_t device_ = 0;
  ino_t inode_ = 0;
  int64_t size_ = 0;
  absl::Time modified_at_;
  std::string date_;
  std::string md5_;
  std::string sha256_;
  std::string archive_;
};

// The served set. Thread-safe: Refresh from one thread (the update loop),
// Find/All from any (the serving threads).
class InstalledDatabases {
 public:
  InstalledDatabases(std::string directory, std::vector<std::string> editions,
                     DatabaseValidator validator);

  // Looks at `<directory>/<edition>.mmdb` of every edition and opens each
  // file that changed since the last look (by device, inode, size and mtime);
  // a file that is missing or fails verification keeps the previous snapshot
  // of its edition (logged). Returns the first such failure.
  absl::Status Refresh() ABSL_LOCKS_EXCLUDED(refresh_mu_, mu_);

  // The snapshot of `edition`, or null when none is served.
  std::shared_ptr<const InstalledDatabase> Find(
      const std::string& edition) const ABSL_LOCKS_EXCLUDED(mu_);
  // Every served snapshot, in edition order.
  std::vector<std::shared_ptr<const InstalledDatabase>> All() const
      ABSL_LOCKS_EXCLUDED(mu_);

  const std::vector<std::string>& editions() const { return editions_; }

 private:
  const std::string directory_;
  const std::vector<std::string> editions_;
  const DatabaseValidator validator_;
  // Serialises refreshes, so a slow verification never holds `mu_`.
  absl::Mutex refresh_mu_;
  mutable absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<const InstalledDatabase>> served_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace geo::updater

#endif  // UPDATER_INSTALLED_DATABASES_H_
