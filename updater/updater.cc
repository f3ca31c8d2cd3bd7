#include "updater/updater.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "geo/common/logging.h"
#include "geo/common/status_macros.h"
#include "updater/archive.h"
#include "updater/digest.h"
#include "updater/directory_lock.h"

namespace geo::updater {
namespace {

constexpr char kNoHash[] = "00000000000000000000000000000000";
// After a failed pass the loop tries again sooner than a full interval.
constexpr absl::Duration kRetryAfterFailedPass = absl::Minutes(15);

std::string EtagFileName(absl::string_view edition) {
  return absl::StrCat(".geo-updater.", edition, ".etag");
}

std::string ReadEtag(const std::string& path) {
  std::ifstream in(path);
  std::string etag;
  std::getline(in, etag);
  return std::string(absl::StripAsciiWhitespace(etag));
}

}  // namespace

std::string SummaryJson(const std::vector<EditionSummary>& editions) {
  std::string out = "[";
  for (size_t i = 0; i < editions.size(); ++i) {
    const EditionSummary& summary = editions[i];
    absl::StrAppend(&out, i == 0 ? "" : ",",
                    "{\"edition_id\":", JsonQuote(summary.edition),
                    ",\"old_hash\":", JsonQuote(summary.old_hash),
                    ",\"new_hash\":", JsonQuote(summary.new_hash));
    if (summary.modified_at.has_value()) {
      absl::StrAppend(
          &out, ",\"modified_at\":", absl::ToUnixSeconds(*summary.modified_at));
    }
    absl::StrAppend(
        &out, ",\"checked_at\":", absl::ToUnixSeconds(summary.checked_at));
    if (!summary.status.ok()) {
      absl::StrAppend(&out,
                      ",\"error\":", JsonQuote(summary.status.ToString()));
    }
    out += "}";
  }
  out += "]";
  return out;
}

Updater::Updater(UpdaterOptions options, UpdaterDependencies dependencies)
    : options_(std::move(options)),
      deps_(std::move(dependencies)),
      installer_(options_.data_dir),
      free_space_(deps_.free_space != nullptr ? deps_.free_space : &statvfs_),
      started_(deps_.clock->Now()) {}

TempFile::WriteCheck Updater::DownloadCheck(int64_t installed_bytes) const {
  struct State {
    bool started = false;
    int64_t limit = 0;
    absl::Status exceeded;
  };
  auto state = std::make_shared<State>();
  return [this, installed_bytes, state](int64_t size) -> absl::Status {
    if (!state->started) {
      absl::StatusOr<int64_t> free =
          free_space_->AvailableBytes(installer_.directory());
      if (!free.ok()) return WithFailureReason(free.status(), "disk");
      const int64_t margin = options_.free_space_margin_bytes;
      const int64_t needed = 2 * installed_bytes + margin;
      if (*free < needed) {
        return WithFailureReason(
            absl::ResourceExhaustedError(absl::StrCat(
                "not enough free space in ", installer_.directory(), ": ",
                FormatBytes(needed), " needed (twice the installed database, ",
                FormatBytes(installed_bytes), ", plus a ", FormatBytes(margin),
                " margin), ", FormatBytes(*free), " free")),
            "disk");
      }
      state->started = true;
      const int64_t room = *free - margin;
      if (room < options_.max_download_bytes) {
        state->limit = room;
        state->exceeded = WithFailureReason(
            absl::ResourceExhaustedError(absl::StrCat(
                "not enough free space in ", installer_.directory(),
                ": the download needs more than ", FormatBytes(room), ", ",
                FormatBytes(*free), " free (keeping a ", FormatBytes(margin),
                " margin)")),
            "disk");
      } else {
        state->limit = options_.max_download_bytes;
        state->exceeded = absl::OutOfRangeError(
            absl::StrCat("download larger than --max_download_bytes (",
                         FormatBytes(options_.max_download_bytes), ")"));
      }
    }
    if (size > state->limit) return state->exceeded;
    return absl::OkStatus();
  };
}

absl::Status Updater::ExtractionLimit(int64_t* max_bytes,
                                      absl::Status* exceeded) const {
  absl::StatusOr<int64_t> free =
      free_space_->AvailableBytes(installer_.directory());
  if (!free.ok()) return WithFailureReason(free.status(), "disk");
  const int64_t margin = options_.free_space_margin_bytes;
  const int64_t room = *free - margin;
  if (room < options_.max_database_bytes) {
    *max_bytes = std::max<int64_t>(room, 0);
    *exceeded = WithFailureReason(
        absl::ResourceExhaustedError(
            absl::StrCat("not enough free space in ", installer_.directory(),
                         ": the extracted database needs more than ",
                         FormatBytes(*max_bytes), ", ", FormatBytes(*free),
                         " free (keeping a ", FormatBytes(margin), " margin)")),
        "disk");
    if (room <= 0) return *exceeded;
  } else {
    *max_bytes = options_.max_database_bytes;
    *exceeded = absl::OutOfRangeError(
        absl::StrCat("database larger than --max_database_bytes (",
                     FormatBytes(options_.max_database_bytes), ")"));
  }
  return absl::OkStatus();
}

bool Updater::Healthy() const {
  absl::MutexLock lock(&mu_);
  absl::Time since = last_success_.value_or(started_);
  return deps_.clock->Now() - since <=
         2 * options_.interval + options_.health_grace;
}

std::optional<absl::Time> Updater::last_success() const {
  absl::MutexLock lock(&mu_);
  return last_success_;
}

PassResult Updater::RunPass() {
  PassResult result;
  auto fail_all = [&](const absl::Status& status) {
    for (const std::string& edition : options_.editions) {
      EditionSummary summary;
      summary.edition = edition;
      summary.checked_at = deps_.clock->Now();
      summary.status = status;
      if (deps_.metrics != nullptr) {
        deps_.metrics->RecordCheck(edition, CheckResult::kFailed);
        deps_.metrics->RecordFailure(edition, FailureReasonOf(status));
      }
      result.editions.push_back(std::move(summary));
    }
    result.status = status;
    Log(LogLevel::kError, "Update failed", {{"error", status}});
    return result;
  };

  absl::Status prepared = installer_.Prepare();
  if (!prepared.ok()) return fail_all(WithFailureReason(prepared, "disk"));
  absl::StatusOr<DirectoryLock> lock =
      options_.lock_file.empty()
          ? DirectoryLock::Acquire(options_.data_dir, options_.lock_timeout,
                                   deps_.clock, deps_.cancel)
          : DirectoryLock::AcquireFile(options_.lock_file,
                                       options_.lock_timeout, deps_.clock,
                                       deps_.cancel);
  if (!lock.ok()) return fail_all(lock.status());
  absl::StatusOr<int> removed = installer_.RemoveStaleTempFiles();
  if (!removed.ok()) {
    Log(LogLevel::kWarn, "Cannot clean stale temp files",
        {{"error", removed.status()}});
  }

  for (EditionSummary& summary : UpdateEditions()) {
    if (!summary.status.ok() && result.status.ok()) {
      result.status = summary.status;
    }
    result.editions.push_back(std::move(summary));
  }
  if (result.status.ok()) {
    absl::Time now = deps_.clock->Now();
    {
      absl::MutexLock guard(&mu_);
      last_success_ = now;
    }
    if (deps_.metrics != nullptr) deps_.metrics->RecordSuccess(now);
  }
  return result;
}

std::vector<EditionSummary> Updater::UpdateEditions() {
  const size_t count = options_.editions.size();
  const size_t workers = std::min<size_t>(
      count, static_cast<size_t>(std::max(options_.parallelism, 1)));
  auto cancelled = [this] {
    return deps_.cancel != nullptr && deps_.cancel->HasBeenNotified();
  };
  // Slots in edition order, so the summary does not depend on timing;
  // editions not started because of a cancellation stay empty.
  std::vector<std::optional<EditionSummary>> slots(count);
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t index = next++; index < count && !cancelled(); index = next++) {
      slots[index] = UpdateEdition(options_.editions[index]);
    }
  };
  std::vector<std::thread> threads;
  for (size_t i = 1; i < workers; ++i) threads.emplace_back(work);
  work();
  for (std::thread& thread : threads) thread.join();
  std::vector<EditionSummary> summaries;
  for (std::optional<EditionSummary>& slot : slots) {
    if (slot.has_value()) summaries.push_back(*std::move(slot));
  }
  return summaries;
}

EditionSummary Updater::UpdateEdition(const std::string& edition) {
  EditionSummary summary;
  summary.edition = edition;
  const std::string final_path =
      installer_.PathOf(absl::StrCat(edition, ".mmdb"));

  FetchRequest request;
  request.edition = edition;
  absl::StatusOr<std::string> local_md5 =
      FileDigestHex(final_path, DigestAlgorithm::kMd5);
  int64_t installed_bytes = 0;
  if (local_md5.ok()) {
    request.local_md5 = *local_md5;
    struct stat info;
    if (::stat(final_path.c_str(), &info) == 0) {
      request.local_modified_at = absl::TimeFromTimespec(info.st_mtim);
      installed_bytes = static_cast<int64_t>(info.st_size);
    }
    request.local_etag = ReadEtag(installer_.PathOf(EtagFileName(edition)));
  } else if (!absl::IsNotFound(local_md5.status())) {
    Log(LogLevel::kWarn, "Cannot read the installed database",
        {{"path", final_path}, {"error", local_md5.status()}});
  }
  summary.old_hash = request.local_md5.empty() ? kNoHash : request.local_md5;
  summary.new_hash = summary.old_hash;

  absl::Status status;
  FetchResult fetched;
  absl::StatusOr<TempFile> payload =
      installer_.CreateTemp(absl::StrCat(edition, ".download"));
  if (!payload.ok()) {
    status = WithFailureReason(payload.status(), "disk");
  } else {
    payload->SetWriteCheck(DownloadCheck(installed_bytes));
    absl::StatusOr<FetchResult> result =
        deps_.source->Fetch(request, &*payload);
    if (result.ok()) {
      fetched = *std::move(result);
      if (!fetched.up_to_date) {
        status =
            InstallPayload(edition, fetched, *std::move(payload), &summary);
        if (deps_.metrics != nullptr) {
          deps_.metrics->RecordDownload(edition, status.ok(), fetched.bytes);
        }
      }
    } else {
      status = result.status();
      if (deps_.metrics != nullptr && !absl::IsCancelled(status)) {
        deps_.metrics->RecordDownload(edition, false, 0);
      }
    }
  }
  summary.checked_at = deps_.clock->Now();
  summary.status = status;

  CheckResult check = !status.ok()      ? CheckResult::kFailed
                      : summary.updated ? CheckResult::kUpdated
                                        : CheckResult::kUnchanged;
  if (deps_.metrics != nullptr) {
    deps_.metrics->RecordCheck(edition, check);
    if (!status.ok()) {
      deps_.metrics->RecordFailure(edition, FailureReasonOf(status));
    }
  }
  if (!status.ok()) {
    Log(absl::IsCancelled(status) ? LogLevel::kWarn : LogLevel::kError,
        "Update failed",
        {{"edition", edition},
         {"reason", FailureReasonOf(status)},
         {"error", status}});
    return summary;
  }
  if (!summary.updated) {
    struct stat info;
    if (::stat(final_path.c_str(), &info) == 0) {
      summary.modified_at = absl::TimeFromTimespec(info.st_mtim);
    }
    Log(LogLevel::kInfo, "Database is up to date",
        {{"edition", edition},
         {"path", final_path},
         {"md5", summary.new_hash}});
  }
  if (summary.modified_at.has_value() && deps_.metrics != nullptr) {
    deps_.metrics->SetDatabaseBuildTime(edition, *summary.modified_at);
  }
  return summary;
}

absl::Status Updater::InstallPayload(const std::string& edition,
                                     const FetchResult& fetched,
                                     TempFile payload,
                                     EditionSummary* summary) {
  if (!fetched.expected_payload_sha256.empty()) {
    GEO_ASSIGN_OR_RETURN(
        std::string sha256,
        FileDigestHex(payload.path(), DigestAlgorithm::kSha256));
    if (!DigestsEqual(sha256, fetched.expected_payload_sha256)) {
      return WithFailureReason(
          absl::DataLossError(
              absl::StrCat("SHA-256 mismatch for ", edition, ": expected ",
                           fetched.expected_payload_sha256, ", got ", sha256)),
          "checksum");
    }
  }

  // The database itself: the payload as is, or its .mmdb member.
  TempFile database = std::move(payload);
  std::string md5;
  if (fetched.format == PayloadFormat::kTarGz) {
    int64_t max_bytes = 0;
    absl::Status too_large;
    absl::Status limited = ExtractionLimit(&max_bytes, &too_large);
    if (!limited.ok()) return limited;
    absl::StatusOr<TempFile> extracted =
        installer_.CreateTemp(absl::StrCat(edition, ".mmdb"));
    if (!extracted.ok()) return WithFailureReason(extracted.status(), "disk");
    extracted->SetWriteCheck([&](int64_t size) {
      return size > max_bytes ? too_large : absl::OkStatus();
    });
    Hasher hasher(DigestAlgorithm::kMd5);
    absl::StatusOr<std::string> entry =
        ExtractMmdb(database.path(), max_bytes, [&](absl::string_view chunk) {
          hasher.Update(chunk);
          return extracted->Write(chunk);
        });
    if (!entry.ok()) {
      absl::Status status = entry.status();
      // The archive's own "larger than" names no setting: say which limit.
      if (absl::IsOutOfRange(status)) {
        return WithFailureReason(
            absl::Status(
                too_large.code(),
                absl::StrCat(too_large.message(), ": ", status.message())),
            FailureReasonOf(too_large));
      }
      return absl::IsDataLoss(status)
                 ? WithFailureReason(status, "invalid_database")
                 : status;
    }
    md5 = hasher.FinishHex();
    database = *std::move(extracted);  // Removes the archive.
  } else {
    GEO_ASSIGN_OR_RETURN(md5,
                         FileDigestHex(database.path(), DigestAlgorithm::kMd5));
  }

  if (!fetched.expected_mmdb_md5.empty() &&
      !DigestsEqual(md5, fetched.expected_mmdb_md5)) {
    return WithFailureReason(
        absl::DataLossError(absl::StrCat(
            "MD5 mismatch for ", edition, ": metadata says ",
            fetched.expected_mmdb_md5, ", downloaded database has ", md5)),
        "checksum");
  }
  const std::string final_path =
      installer_.PathOf(absl::StrCat(edition, ".mmdb"));
  if (DigestsEqual(md5, summary->old_hash)) {
    // A mirror without validators served the same file again.
    summary->new_hash = md5;
    return absl::OkStatus();
  }
  absl::Status valid = deps_.validator(database.path(), edition);
  if (!valid.ok()) {
    return WithFailureReason(
        absl::DataLossError(
            absl::StrCat("downloaded ", edition,
                         " is not a usable database: ", valid.message())),
        "invalid_database");
  }
  absl::Status committed = database.Commit(
      final_path,
      options_.preserve_file_times ? fetched.modified_at : std::nullopt);
  if (!committed.ok()) return committed;

  const std::string etag_path = installer_.PathOf(EtagFileName(edition));
  if (!fetched.etag.empty()) {
    absl::StatusOr<TempFile> etag = installer_.CreateTemp("etag");
    if (etag.ok() && etag->Write(fetched.etag).ok()) {
      (void)etag->Commit(etag_path, std::nullopt);
    }
  } else {
    ::unlink(etag_path.c_str());
  }

  summary->updated = true;
  summary->new_hash = md5;
  summary->modified_at = fetched.modified_at;
  Log(LogLevel::kInfo, "Database installed",
      {{"edition", edition},
       {"path", final_path},
       {"old_md5", summary->old_hash},
       {"md5", md5},
       {"bytes_downloaded", fetched.bytes}});
  return absl::OkStatus();
}

void Updater::RunLoop(const std::function<void(const PassResult&)>& on_pass) {
  while (deps_.cancel == nullptr || !deps_.cancel->HasBeenNotified()) {
    PassResult result = RunPass();
    if (on_pass) on_pass(result);
    absl::Duration wait = options_.interval;
    if (!result.status.ok()) wait = std::min(wait, kRetryAfterFailedPass);
    double u = deps_.uniform01 ? deps_.uniform01() : 0.5;
    wait = wait * (1.0 + options_.interval_jitter * (2.0 * u - 1.0));
    Log(LogLevel::kInfo, "Next update check",
        {{"in_seconds", wait}, {"last_pass_ok", result.status.ok()}});
    if (deps_.clock->WaitFor(wait, deps_.cancel)) break;
  }
}

}  // namespace geo::updater
