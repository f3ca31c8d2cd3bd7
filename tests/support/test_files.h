// Test data and scratch files: MaxMind's test databases in the runfiles,
// fresh temporary directories, whole-file reads and writes.
#ifndef TESTS_SUPPORT_TEST_FILES_H_
#define TESTS_SUPPORT_TEST_FILES_H_

#include <string>
#include <vector>

namespace geo::testing {

// MaxMind's maxmind-db tree from Debian's libmaxminddb source (test-data/,
// source-data/, bad-data/). Empty when the repository is missing from the
// runfiles (a BUILD mistake: callers fail the test).
std::string MaxmindTestDataDir();

// `name` in MaxMind's test-data/ directory, e.g. "GeoIP2-City-Test.mmdb".
std::string MaxmindTestDataFile(const std::string& name);

// The newer copy in ../shared/testdata/maxmind, or empty when it is absent
// (its ROOT file says "absent"). Callers say so in the test log.
std::string SharedMaxmindTestDataDir();

// The real GeoLite2-City.mmdb, or empty when absent.
std::string GeoLite2CityPath();

// Regular files under `dir` (recursively, following symlinks) whose names end
// with `suffix`, sorted.
std::vector<std::string> FilesUnder(const std::string& dir,
                                    const std::string& suffix);

// Whole file; empty on error.
std::string ReadFile(const std::string& path);

// Writes `content` to `path` directly (not atomically). False on error.
bool WriteFile(const std::string& path, const std::string& content);

// Writes to a temporary sibling, then renames it over `path` (a new inode,
// the way the updater installs a database). False on error.
bool ReplaceFile(const std::string& path, const std::string& content);

// Copies MaxMind's test database `name` (e.g. "GeoIP2-City-Test.mmdb") to
// `path` the way ReplaceFile writes, so a server may watch, replace or lose
// the copy. False on error, also when the test data is missing.
bool CopyMaxmindTestDatabase(const std::string& name, const std::string& path);

// A copy of one of MaxMind's test databases and the bytes it holds, so a
// test can install the same bytes again (a new inode, as the updater does)
// or put other content in its place.
struct TestDatabaseCopy {
  std::string path;
  // Empty when the copy failed, also when the test data is missing.
  std::string content;
};

// Copies MaxMind's test database `name` into a fresh temporary directory
// under the same name, the way ReplaceFile writes.
TestDatabaseCopy CopyMaxmindTestDatabaseToTempDir(const std::string& name);

// A fresh, empty directory under $TEST_TMPDIR (/tmp outside Bazel).
std::string NewTempDir();

// A file in `$TEST_SRCDIR/<workspace>/`, e.g. RunfilesPath("geo/geo_server").
std::string RunfilesPath(const std::string& path);

// The binaries in the test's runfiles (data dependencies //geo:geo_server and
// //updater).
std::string GeoServerBinary();
std::string UpdaterBinary();

}  // namespace geo::testing

#endif  // TESTS_SUPPORT_TEST_FILES_H_
