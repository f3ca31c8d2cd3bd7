#include "tests/support/test_files.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace geo::testing {
namespace {

// Bazel 4 puts an external repository's runfiles at $TEST_SRCDIR/<repo>, and
// also under the main workspace's external/ directory in some layouts.
std::string RepositoryDir(const std::string& repository) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  if (srcdir == nullptr) return "";
  for (const std::string& candidate :
       {absl::StrCat(srcdir, "/", repository),
        absl::StrCat(srcdir, "/geo/external/", repository)}) {
    struct stat info;
    if (stat(absl::StrCat(candidate, "/ROOT").c_str(), &info) == 0) {
      return candidate;
    }
  }
  return "";
}

std::string DataDir(const std::string& repository) {
  const std::string dir = RepositoryDir(repository);
  if (dir.empty()) return "";
  const std::string root = ReadFile(absl::StrCat(dir, "/ROOT"));
  if (absl::StripAsciiWhitespace(root) != "present") return "";
  return absl::StrCat(dir, "/data");
}

void Walk(const std::string& dir, const std::string& suffix,
          std::vector<std::string>* out) {
  DIR* handle = opendir(dir.c_str());
  if (handle == nullptr) return;
  while (dirent* entry = readdir(handle)) {
    const std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    const std::string path = absl::StrCat(dir, "/", name);
    struct stat info;
    if (stat(path.c_str(), &info) != 0) continue;
    if (S_ISDIR(info.st_mode)) {
      Walk(path, suffix, out);
    } else if (S_ISREG(info.st_mode) && absl::EndsWith(name, suffix)) {
      out->push_back(path);
    }
  }
  closedir(handle);
}

}  // namespace

std::string MaxmindTestDataDir() { return DataDir("maxmind_testdata"); }

std::string MaxmindTestDataFile(const std::string& name) {
  return absl::StrCat(MaxmindTestDataDir(), "/test-data/", name);
}

std::string SharedMaxmindTestDataDir() {
  return DataDir("shared_maxmind_testdata");
}

std::string GeoLite2CityPath() {
  const std::string dir = DataDir("geolite2");
  if (dir.empty()) return "";
  return absl::StrCat(dir, "/GeoLite2-City.mmdb");
}

std::vector<std::string> FilesUnder(const std::string& dir,
                                    const std::string& suffix) {
  std::vector<std::string> files;
  Walk(dir, suffix, &files);
  std::sort(files.begin(), files.end());
  return files;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

bool WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  return static_cast<bool>(out);
}

bool CopyMaxmindTestDatabase(const std::string& name, const std::string& path) {
  const std::string content = ReadFile(MaxmindTestDataFile(name));
  return !content.empty() && ReplaceFile(path, content);
}

TestDatabaseCopy CopyMaxmindTestDatabaseToTempDir(const std::string& name) {
  TestDatabaseCopy copy;
  copy.path = absl::StrCat(NewTempDir(), "/", name);
  copy.content = ReadFile(MaxmindTestDataFile(name));
  if (!ReplaceFile(copy.path, copy.content)) copy.content.clear();
  return copy;
}

bool ReplaceFile(const std::string& path, const std::string& content) {
  const std::string temporary = absl::StrCat(path, ".tmp");
  if (!WriteFile(temporary, content)) return false;
  return std::rename(temporary.c_str(), path.c_str()) == 0;
}

std::string NewTempDir() {
  static std::atomic<int> counter{0};
  const char* base = std::getenv("TEST_TMPDIR");
  std::string dir = absl::StrCat(base != nullptr ? base : "/tmp", "/geo_test_",
                                 getpid(), "_", counter.fetch_add(1));
  mkdir(dir.c_str(), 0755);
  return dir;
}

std::string RunfilesPath(const std::string& path) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  return absl::StrCat(srcdir != nullptr ? srcdir : ".", "/",
                      workspace != nullptr ? workspace : "geo", "/", path);
}

std::string GeoServerBinary() { return RunfilesPath("geo/geo_server"); }

std::string UpdaterBinary() { return RunfilesPath("updater/updater"); }

}  // namespace geo::testing
