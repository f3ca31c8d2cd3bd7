#include "updater/installed_databases.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "geo/common/logging.h"
#include "updater/archive_writer.h"
#include "updater/digest.h"

namespace geo::updater {
absl::StatusOr<std::shared_ptr<const InstalledDatabase>>
InstalledDatabase::Open(const std::string& path, const std::string& edition,
                        const DatabaseValidator& validator) {
  std::shared_ptr<InstalledDatabase> database(new InstalledDatabase());
  database->edition_ = edition;
  database->fd_ = FileDescriptor(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!database->fd_.valid()) {
    const int error = errno;
    std::string message = absl::StrCat("open ", path, ": ", strerror(error));
    if (error == ENOENT) return absl::NotFoundError(message);
    return absl::InternalError(message);
  }
  struct stat info;
  if (::fstat(database->fd_.get(), &info) != 0) {
    return absl::InternalError(
        absl::StrCat("fstat ", path, ": ", strerror(errno)));
  }
  if (!S_ISREG(info.st_mode)) {
    return absl::DataLossError(absl::StrCat(path, " is not a regular file"));
  }
  database->device_ = info.st_dev;
  database->inode_ = info.st_ino;
  database->size_ = static_cast<int64_t>(info.st_size);
  database->modified_at_ = absl::FromUnixSeconds(info.st_mtim.tv_sec);
  database->date_ =
      absl::FormatTime("%Y-%m-%d", database->modified_at_, absl::UTCTimeZone());

  if (database->size_ > 0) {
    void* address = ::mmap(nullptr, static_cast<size_t>(database->size_),
                           PROT_READ, MAP_SHARED, database->fd_.get(), 0);
    if (address == MAP_FAILED) {
      return absl::InternalError(
          absl::StrCat("mmap ", path, ": ", strerror(errno)));
    }
    database->mapping_.address = address;
    database->mapping_.length = static_cast<size_t>(database->size_);
  }

  Hasher md5(DigestAlgorithm::kMd5);
  Hasher sha256(DigestAlgorithm::kSha256);
  md5.Update(database->contents());
  sha256.Update(database->contents());
  database->md5_ = md5.FinishHex();
  database->sha256_ = sha256.FinishHex();

  // The path of the descriptor, not `path`: what is validated is the inode
  // that will be served, even if a new file was renamed over `path` since.
  absl::Status valid =
      validator(absl::StrCat("/proc/self/fd/", database->fd_.get()), edition);
  if (!valid.ok()) {
    return absl::DataLossError(absl::StrCat(path, " is not a usable ", edition,
                                            ": ", valid.message()));
  }
  absl::StatusOr<std::string> archive = MakeMaxMindTarGz(
      edition, absl::StrReplaceAll(database->date_, {{"-", ""}}),
      database->fd_.get(), database->size_, database->modified_at_);
  if (!archive.ok()) return archive.status();
  database->archive_ = *std::move(archive);
  return std::shared_ptr<const InstalledDatabase>(std::move(database));
}

InstalledDatabase::Mapping::~Mapping() {
  if (address != nullptr) ::munmap(address, length);
}

bool InstalledDatabase::SameFileAs(const struct stat& info) const {
  return info.st_dev == device_ && info.st_ino == inode_ &&
         static_cast<int64_t>(info.st_size) == size_ &&
         absl::FromUnixSeconds(info.st_mtim.tv_sec) == modified_at_;
}

InstalledDatabases::InstalledDatabases(std::string directory,
                                       std::vector<std::string> editions,
                                       DatabaseValidator validator)
    : directory_(std::move(directory)),
      editions_(std::move(editions)),
      validator_(std::move(validator)) {}

absl::Status InstalledDatabases::Refresh() {
  absl::MutexLock refresh(&refresh_mu_);
  absl::Status first_failure;
  for (const std::string& edition : editions_) {
    const std::string path = absl::StrCat(directory_, "/", edition, ".mmdb");
    std::shared_ptr<const InstalledDatabase> current = Find(edition);
    struct stat info;
    if (current != nullptr && ::stat(path.c_str(), &info) == 0 &&
        current->SameFileAs(info)) {
      continue;
    }
    absl::StatusOr<std::shared_ptr<const InstalledDatabase>> opened =
        InstalledDatabase::Open(path, edition, validator_);
    if (!opened.ok()) {
      if (first_failure.ok()) first_failure = opened.status();
      Log(current != nullptr ? LogLevel::kWarn : LogLevel::kInfo,
          current != nullptr ? "Serving the previous database"
                             : "Nothing to serve yet",
          {{"edition", edition}, {"error", opened.status()}});
      continue;
    }
    Log(LogLevel::kInfo, "Serving database",
        {{"edition", edition},
         {"path", path},
         {"md5", (*opened)->md5()},
         {"date", (*opened)->date()},
         {"bytes", (*opened)->size()},
         {"archive_bytes", static_cast<int64_t>((*opened)->archive().size())}});
    absl::MutexLock lock(&mu_);
    served_[edition] = *std::move(opened);
  }
  return first_failure;
}

std::shared_ptr<const InstalledDatabase> InstalledDatabases::Find(
    const std::string& edition) const {
  absl::MutexLock lock(&mu_);
  auto it = served_.find(edition);
  return it == served_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<const InstalledDatabase>> InstalledDatabases::All()
    const {
  absl::MutexLock lock(&mu_);
  std::vector<std::shared_ptr<const InstalledDatabase>> all;
  for (const auto& [edition, database] : served_) all.push_back(database);
  return all;
}

}  // namespace geo::updater
