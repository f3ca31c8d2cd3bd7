// docs/tls.md's claims that a reader copies: its settings table is the
// server's settings table (flag, variable, default, for every TLS setting and
// nothing else), and its key-check recipe, run with openssl on a matching and
// a mismatched pair, prints equal digests for the one and different digests
// for the other.
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "geo/server/server_options.h"
#include "geo/tls/test_certificates.h"
#include "gtest/gtest.h"
#include "tests/docs/markdown.h"
#include "tests/tls/tls_clients.h"

namespace geo {
namespace {

std::string Page() {
  absl::StatusOr<std::string> text = tls::testing::ReadFile("docs/tls.md");
  EXPECT_TRUE(text.ok()) << text.status();
  return text.ok() ? *text : "";
}

TEST(TlsDocsTest, SettingsTableIsTheServersTlsSettings) {
  const std::string page = Page();
  docs::MarkdownDocument document(page);
  const docs::Heading* heading = document.FindHeading("settings");
  ASSERT_NE(heading, nullptr);
  const auto [begin, end] = document.SectionRange(*heading);
  std::set<std::string> documented;
  for (const std::vector<std::string>& row : document.TableRows(begin, end)) {
    ASSERT_GE(row.size(), 3u);
    const std::vector<std::string> flag = docs::CodeSpans(row[0]);
    ASSERT_EQ(flag.size(), 1u) << row[0];
    bool found = false;
    for (const settings::SettingSpec& spec : ServerSettings().specs()) {
      if (absl::StrCat("--", spec.flag) != flag[0]) continue;
      found = true;
      EXPECT_EQ(docs::CodeSpans(row[1]),
                std::vector<std::string>{spec.EnvironmentNames().front()})
          << flag[0];
      const std::vector<std::string> value = docs::CodeSpans(row[2]);
      if (spec.default_value.has_value() && !spec.default_value->empty()) {
        EXPECT_EQ(value, std::vector<std::string>{*spec.default_value})
            << flag[0];
      } else {
        EXPECT_EQ(row[2], "—") << flag[0];
      }
    }
    EXPECT_TRUE(found) << flag[0] << " is not a server setting";
    documented.insert(flag[0]);
  }
  for (const settings::SettingSpec& spec : ServerSettings().specs()) {
    const std::string flag = absl::StrCat("--", spec.flag);
    const bool tls_setting = absl::StrContains(spec.flag, "tls") ||
                             absl::StrContains(spec.flag, "client_identities");
    if (tls_setting) {
      EXPECT_TRUE(documented.count(flag)) << flag << " is missing";
    }
  }
}

TEST(TlsDocsTest, KeyCheckRecipeTellsAMatchingPairFromAMismatchedOne) {
  const std::string page = Page();
  docs::MarkdownDocument document(page);
  std::string recipe;
  for (const docs::FencedBlock& block : document.blocks()) {
    if (absl::StrContains(block.content, "openssl pkey -in tls.key")) {
      recipe = block.content;
    }
  }
  ASSERT_FALSE(recipe.empty()) << "no key-check recipe in docs/tls.md";
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string root = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/docs");
  absl::StatusOr<tls::testing::TestCertificates> certificates =
      tls::testing::MakeTestCertificates(root + "/certificates");
  ASSERT_TRUE(certificates.ok()) << certificates.status();

  auto run = [&](const tls::testing::CertificateFiles& pair) {
    const std::string directory = absl::StrCat(
        root, "/", std::filesystem::path(pair.key).stem().string());
    std::filesystem::create_directories(directory);
    std::filesystem::copy_file(
        pair.certificate, directory + "/tls.crt",
        std::filesystem::copy_options::overwrite_existing);
    std::filesystem::copy_file(
        pair.key, directory + "/tls.key",
        std::filesystem::copy_options::overwrite_existing);
    tls::testing::CommandResult result = tls::testing::RunCommand(
        {"bash", "-euo", "pipefail", "-c",
         absl::StrCat("cd '", directory, "'\n", recipe)});
    EXPECT_EQ(result.exit_code, 0) << result.errors;
    return std::vector<std::string>(
        absl::StrSplit(result.output, '\n', absl::SkipEmpty()));
  };
  const std::vector<std::string> matching = run(certificates->server);
  ASSERT_GE(matching.size(), 4u);
  EXPECT_EQ(matching[0], matching[1]);
  EXPECT_TRUE(absl::StartsWith(matching[2], "serial=")) << matching[2];
  EXPECT_EQ(matching[2].substr(7),
            *tls::testing::SerialOf(certificates->server.certificate));
  EXPECT_TRUE(absl::StartsWith(matching[3], "notAfter=")) << matching[3];
  const std::vector<std::string> mismatched =
      run(certificates->wrong_key_server);
  ASSERT_GE(mismatched.size(), 2u);
  EXPECT_NE(mismatched[0], mismatched[1]);
}

}  // namespace
}  // namespace geo
