#include "tests/updater/test_archives.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "updater/digest.h"

namespace geo::updater::testing {
namespace {

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "test_archives: %s\n", message.c_str());
  std::abort();
}

la_ssize_t Append(struct archive*, void* user, const void* data, size_t size) {
  static_cast<std::string*>(user)->append(static_cast<const char*>(data), size);
  return static_cast<la_ssize_t>(size);
}

std::string TestDataDirectory() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  if (srcdir == nullptr) Die("TEST_SRCDIR is not set");
  for (const char* candidate :
       {"/maxmind_testdata/data/test-data",
        "/geo/external/maxmind_testdata/data/test-data"}) {
    std::string path = absl::StrCat(srcdir, candidate);
    if (FileExists(path + "/GeoIP2-City-Test.mmdb")) return path;
  }
  Die("MaxMind test data not found in runfiles (add "
      "@maxmind_testdata//:files)");
}

}  // namespace

std::string MakeTarGz(const std::vector<TarMember>& members) {
  std::string out;
  struct archive* writer = archive_write_new();
  archive_write_add_filter_gzip(writer);
  archive_write_set_format_pax_restricted(writer);
  archive_write_set_bytes_in_last_block(writer, 1);
  if (archive_write_open(writer, &out, nullptr, &Append, nullptr) !=
      ARCHIVE_OK) {
    Die(archive_error_string(writer));
  }
  for (const TarMember& member : members) {
    struct archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, member.path.c_str());
    archive_entry_set_filetype(entry, member.directory ? AE_IFDIR : AE_IFREG);
    archive_entry_set_perm(entry, member.directory ? 0755 : 0644);
    archive_entry_set_size(
        entry,
        member.directory ? 0 : static_cast<la_int64_t>(member.contents.size()));
    archive_entry_set_mtime(entry, 1715083200, 0);
    if (archive_write_header(writer, entry) != ARCHIVE_OK) {
      Die(archive_error_string(writer));
    }
    if (!member.directory && !member.contents.empty()) {
      archive_write_data(writer, member.contents.data(),
                         member.contents.size());
    }
    archive_entry_free(entry);
  }
  archive_write_close(writer);
  archive_write_free(writer);
  return out;
}

std::string MakeMaxMindArchive(absl::string_view edition,
                               const std::string& mmdb) {
  std::string dir = absl::StrCat(edition, "_20240507");
  return MakeTarGz({{dir, "", true},
                    {absl::StrCat(dir, "/COPYRIGHT.txt"), "test data\n"},
                    {absl::StrCat(dir, "/LICENSE.txt"), "test licence\n"},
                    {absl::StrCat(dir, "/", edition, ".mmdb"), mmdb}});
}

std::string ReadTestDatabase(absl::string_view name) {
  return ReadFileOrDie(absl::StrCat(TestDataDirectory(), "/", name));
}

std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Die("cannot read " + path);
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

void WriteFileOrDie(const std::string& path, absl::string_view contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  if (!out) Die("cannot write " + path);
}

bool FileExists(const std::string& path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0;
}

std::vector<std::string> ListDirectory(const std::string& directory) {
  std::vector<std::string> names;
  DIR* dir = ::opendir(directory.c_str());
  if (dir == nullptr) return names;
  while (struct dirent* entry = ::readdir(dir)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

std::string MakeTempDirectory() {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string pattern =
      absl::StrCat(base != nullptr ? base : "/tmp", "/updater-XXXXXX");
  if (::mkdtemp(pattern.data()) == nullptr) Die("mkdtemp failed");
  return pattern;
}

std::string Md5Hex(absl::string_view data) {
  Hasher hasher(DigestAlgorithm::kMd5);
  hasher.Update(data);
  return hasher.FinishHex();
}

std::string Sha256Hex(absl::string_view data) {
  Hasher hasher(DigestAlgorithm::kSha256);
  hasher.Update(data);
  return hasher.FinishHex();
}

}  // namespace geo::updater::testing
