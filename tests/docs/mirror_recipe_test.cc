// MAINTENANCE.md's recipe for dropping files in by hand in the sidecar
// topology works as written: its `sha256sum` line, run in a directory holding
// two editions, produces a checksum file with which the real updater installs
// both editions from a mirror with the recipe's URL layout.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/docs/markdown.h"
#include "tests/support/child_process.h"
#include "tests/support/test_files.h"
#include "tests/updater/fake_maxmind_server.h"

namespace geo::docs {
namespace {

using ::geo::testing::AddSanitizerOptions;
using ::geo::testing::ChildProcess;
using ::geo::testing::MaxmindTestDataFile;
using ::geo::testing::NewTempDir;
using ::geo::testing::ReadFile;
using ::geo::testing::UpdaterBinary;
using ::geo::updater::testing::FakeMaxMindServer;

struct Recipe {
  std::string sha256sum_command;
  std::string mirror_url;
  std::string sha256_url;
};

Recipe ReadRecipe() {
  Recipe recipe;
  const absl::StatusOr<MarkdownDocument> maintenance =
      ReadMarkdownFile("MAINTENANCE.md");
  if (!maintenance.ok()) {
    ADD_FAILURE() << maintenance.status();
    return recipe;
  }
  const MarkdownDocument& doc = *maintenance;
  for (size_t i = 0; i < doc.lines().size(); ++i) {
    std::map<std::string, std::string> attributes;
    if (doc.InsideFence(static_cast<int>(i)) ||
        !ParseMarker(doc.lines()[i], "mirror-recipe", &attributes)) {
      continue;
    }
    std::vector<const FencedBlock*> blocks =
        doc.BlocksIn(static_cast<int>(i) + 1, static_cast<int>(i) + 3);
    if (blocks.empty()) break;
    std::smatch match;
    for (absl::string_view line : absl::StrSplit(blocks[0]->content, '\n')) {
      line = absl::StripAsciiWhitespace(line);
      if (absl::StartsWith(line, "sha256sum ")) {
        recipe.sha256sum_command = std::string(line.substr(0, line.find('#')));
      }
      const std::string text(line);
      if (std::regex_search(text, match,
                            std::regex("GEO_MIRROR_URL='([^']*)'"))) {
        recipe.mirror_url = match[1];
      }
      if (std::regex_search(text, match,
                            std::regex("GEO_MIRROR_SHA256_URL='([^']*)'"))) {
        recipe.sha256_url = match[1];
      }
    }
  }
  return recipe;
}

// "https://files.example.internal/geo/SHA256SUMS" -> "SHA256SUMS".
std::string LastSegment(const std::string& url) {
  return url.substr(url.rfind('/') + 1);
}

TEST(MirrorRecipeTest, TheRecipeInstallsEveryEditionFromOneChecksumFile) {
  const Recipe recipe = ReadRecipe();
  ASSERT_FALSE(recipe.sha256sum_command.empty())
      << "MAINTENANCE.md: no `sha256sum` line after <!-- mirror-recipe -->";
  ASSERT_TRUE(absl::StartsWith(recipe.mirror_url, "https://"))
      << "the recipe's GEO_MIRROR_URL should be HTTPS (the NetworkPolicy "
         "allows 443 only): "
      << recipe.mirror_url;
  ASSERT_TRUE(absl::StrContains(recipe.mirror_url, "{edition}"));
  ASSERT_FALSE(recipe.sha256_url.empty());

  // Two editions, as the manifests install them. MaxMind's test data has
  // no GeoLite2-City, so the City edition is GeoIP2-City here.
  const std::map<std::string, std::string> editions = {
      {"GeoIP2-City", ReadFile(MaxmindTestDataFile("GeoIP2-City-Test.mmdb"))},
      {"GeoLite2-ASN", ReadFile(MaxmindTestDataFile("GeoLite2-ASN-Test.mmdb"))},
  };
  const std::string published = NewTempDir();
  FakeMaxMindServer mirror;
  for (const auto& [edition, bytes] : editions) {
    const std::string name = LastSegment(
        absl::StrReplaceAll(recipe.mirror_url, {{"{edition}", edition}}));
    std::ofstream(published + "/" + name, std::ios::binary) << bytes;
    mirror.SetFile(name, bytes, absl::FromUnixSeconds(1715000000));
  }
  // The recipe's own command, in the published directory.
  const std::string command =
      absl::StrCat("cd '", published, "' && ", recipe.sha256sum_command);
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  const std::string checksums =
      ReadFile(published + "/" + LastSegment(recipe.sha256_url));
  ASSERT_EQ(std::count(checksums.begin(), checksums.end(), '\n'), 2)
      << "one line per edition expected:\n"
      << checksums;
  mirror.SetFile(LastSegment(recipe.sha256_url), checksums,
                 absl::FromUnixSeconds(1715000000));

  // The recipe's URLs with the mirror's origin and directory swapped for the
  // local server's.
  auto local = [&](const std::string& url) {
    return absl::StrCat(mirror.url(), "/files/", LastSegment(url));
  };
  const std::string data_dir = NewTempDir();
  std::map<std::string, std::string> env = {
      {"GEO_MIRROR_URL", local(recipe.mirror_url)},
      {"GEO_MIRROR_SHA256_URL", local(recipe.sha256_url)},
      {"MAXMIND_EDITION_IDS", "GeoIP2-City,GeoLite2-ASN"},
      {"GEO_DATA_DIR", data_dir},
  };
  AddSanitizerOptions(&env);
  absl::StatusOr<ChildProcess> updater =
      ChildProcess::Start({{UpdaterBinary(), "--once", "--retries=1"}, env});
  ASSERT_TRUE(updater.ok()) << updater.status();
  std::optional<int> exit_code = updater->Wait(absl::Seconds(60));
  ASSERT_TRUE(exit_code.has_value()) << "the updater did not finish";
  EXPECT_EQ(*exit_code, 0) << updater->Stderr();
  for (const auto& [edition, bytes] : editions) {
    EXPECT_EQ(ReadFile(data_dir + "/" + edition + ".mmdb"), bytes)
        << edition << " was not installed:\n"
        << updater->Stderr();
  }
}

}  // namespace
}  // namespace geo::docs
