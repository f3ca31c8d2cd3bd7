// docs/architecture.md's Threads section is the list of every thread a
// running geo_server has: the real server (two HTTP io threads, a database
// and a policy file watched) is started and /proc/PID/task/*/comm is read.
// Every name the server shows must be in the section's table, and the
// threads that are geo's own come in the numbers the table states.
#include <dirent.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/base/config.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/docs/markdown.h"
#include "tests/support/server_process.h"
#include "tests/support/test_files.h"

namespace geo::docs {
namespace {

using ::geo::testing::CopyMaxmindTestDatabase;
using ::geo::testing::GeoServerBinary;
using ::geo::testing::NewTempDir;
using ::geo::testing::ReadFile;
using ::geo::testing::ServerProcess;
using ::geo::testing::WriteFile;

constexpr int kHttpThreads = 2;

// ThreadSanitizer's runtime runs one background thread in every process it
// instruments, geo_server included (the table's last row).
#ifdef ABSL_HAVE_THREAD_SANITIZER
constexpr int kSanitizerThreads = 1;
#else
constexpr int kSanitizerThreads = 0;
#endif

// Thread names (comm) -> how many threads carry each.
std::map<std::string, int> ThreadNames(pid_t pid) {
  std::map<std::string, int> names;
  const std::string tasks = absl::StrCat("/proc/", pid, "/task");
  DIR* dir = opendir(tasks.c_str());
  if (dir == nullptr) return names;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    const std::string comm =
        ReadFile(absl::StrCat(tasks, "/", entry->d_name, "/comm"));
    ++names[std::string(absl::StripTrailingAsciiWhitespace(comm))];
  }
  closedir(dir);
  return names;
}

// The names in the first column of the Threads section's table.
std::set<std::string> DocumentedNames() {
  std::set<std::string> names;
  const absl::StatusOr<MarkdownDocument> doc =
      ReadMarkdownFile("docs/architecture.md");
  if (!doc.ok()) {
    ADD_FAILURE() << doc.status();
    return names;
  }
  const Heading* heading = doc->FindHeading("threads");
  if (heading == nullptr) {
    ADD_FAILURE() << "docs/architecture.md has no Threads section";
    return names;
  }
  const auto [begin, end] = doc->SectionRange(*heading);
  for (const std::vector<std::string>& row : doc->TableRows(begin, end)) {
    if (row.empty()) continue;
    for (const std::string& name : CodeSpans(row[0])) names.insert(name);
  }
  return names;
}

TEST(ThreadsDocTest, EveryThreadOfTheServerIsDocumented) {
  const std::set<std::string> documented = DocumentedNames();
  ASSERT_FALSE(documented.empty());

  const std::string dir = NewTempDir();
  const std::string database = dir + "/City.mmdb";
  ASSERT_TRUE(CopyMaxmindTestDatabase("GeoIP2-City-Test.mmdb", database));
  const std::string policy = dir + "/policy.yaml";
  ASSERT_TRUE(WriteFile(policy, "default_action: allow\n"));
  absl::StatusOr<ServerProcess> server = ServerProcess::Start(
      GeoServerBinary(), {"--db=" + database, "--policy=" + policy,
                          absl::StrCat("--http_threads=", kHttpThreads)});
  ASSERT_TRUE(server.ok()) << server.status();
  // The watchers start last; the first poll has run once it logged nothing
  // new for a moment, and gRPC has started its pools by "Serving".
  absl::SleepFor(absl::Milliseconds(300));

  const std::map<std::string, int> names = ThreadNames(server->pid());
  ASSERT_FALSE(names.empty());
  std::vector<std::string> listing;
  for (const auto& [name, count] : names) {
    listing.push_back(absl::StrCat(name, " x", count));
  }
  SCOPED_TRACE(absl::StrCat("threads: ", absl::StrJoin(listing, ", ")));
  for (const auto& [name, count] : names) {
    EXPECT_TRUE(documented.count(name) == 1)
        << "thread \"" << name << "\" (x" << count
        << ") is not in docs/architecture.md#threads";
  }
  // geo's own threads, as the table counts them: the main thread, the API's
  // io threads, one for /metrics and one for the health listener carry the
  // process name; one watcher per watched file.
  auto count = [&names](const std::string& name) {
    auto it = names.find(name);
    return it == names.end() ? 0 : it->second;
  };
  EXPECT_EQ(count("geo-watch"), 2) << "one per watched file (database, policy)";
  EXPECT_EQ(count("geo_server"), 1 + kHttpThreads + 1 + 1 + kSanitizerThreads);
}

}  // namespace
}  // namespace geo::docs
