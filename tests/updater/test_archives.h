// Test data for the updater: MaxMind's test databases (from
// @maxmind_testdata), tar.gz archives built with libarchive's write side, and
// scratch directories.
#ifndef TESTS_UPDATER_TEST_ARCHIVES_H_
#define TESTS_UPDATER_TEST_ARCHIVES_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace geo::updater::testing {

struct TarMember {
  std::string path;
  std::string contents;
  bool directory = false;
};

// A gzip-compressed ustar archive of `members`, in memory.
std::string MakeTarGz(const std::vector<TarMember>& members);

// MaxMind's layout: `<edition>_20240507/<edition>.mmdb` plus a licence file.
std::string MakeMaxMindArchive(absl::string_view edition,
                               const std::string& mmdb);

// Contents of test-data/<name> in MaxMind's test databases, e.g.
// "GeoIP2-City-Test.mmdb" (whose database_type is "GeoIP2-City").
std::string ReadTestDatabase(absl::string_view name);

std::string ReadFileOrDie(const std::string& path);
void WriteFileOrDie(const std::string& path, absl::string_view contents);
bool FileExists(const std::string& path);
// Names in `directory`, sorted, without "." and "..".
std::vector<std::string> ListDirectory(const std::string& directory);

// A fresh empty directory under TEST_TMPDIR.
std::string MakeTempDirectory();

std::string Md5Hex(absl::string_view data);
std::string Sha256Hex(absl::string_view data);

}  // namespace geo::updater::testing

#endif  // TESTS_UPDATER_TEST_ARCHIVES_H_
