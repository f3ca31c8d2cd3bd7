#include "tests/docs/markdown.h"

#include <map>
#include <string>
#include <utility>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace geo::docs {
namespace {

using ::testing::ElementsAre;

TEST(GithubAnchorTest, LikeGitHub) {
  // Heading text, and the anchor GitHub gives it.
  const std::pair<std::string, std::string> kCases[] = {
      {"GeoErrorRatioHigh", "geoerrorratiohigh"},
      {"Rolling back a database", "rolling-back-a-database"},
      {"Server (`geo_server`)", "server-geo_server"},
      {"1. Get a key: MaxMind!", "1-get-a-key-maxmind"},
      {"sidecar → CronJob", "sidecar-→-cronjob"},
  };
  for (const auto& [heading, anchor] : kCases) {
    EXPECT_EQ(GithubAnchor(heading), anchor) << heading;
  }
}

TEST(MarkdownDocumentTest, HeadingsSectionsTablesBlocks) {
  MarkdownDocument doc(
      "# Title\n"
      "## A\n"
      "| x | y |\n"
      "|---|---|\n"
      "| `--a` | `A_B`, `C\\|D` |\n"
      "```sh\n"
      "# not a heading\n"
      "| not | a row |\n"
      "```\n"
      "### A\n"
      "<!-- example status=200 vary=a,b partial -->\n"
      "## B\n");
  ASSERT_EQ(doc.headings().size(), 4u);
  EXPECT_EQ(doc.headings()[1].anchor, "a");
  EXPECT_EQ(doc.headings()[2].anchor, "a-1");
  auto [begin, end] = doc.SectionRange(doc.headings()[1]);
  EXPECT_EQ(begin, 2);
  EXPECT_EQ(end, 11);
  auto rows = doc.TableRows(begin, end);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_THAT(rows[0], ElementsAre("`--a`", "`A_B`, `C|D`"));
  EXPECT_THAT(CodeSpans(rows[0][1]), ElementsAre("A_B", "C|D"));
  ASSERT_EQ(doc.blocks().size(), 1u);
  EXPECT_EQ(doc.blocks()[0].info, "sh");
  EXPECT_EQ(doc.blocks()[0].content, "# not a heading\n| not | a row |\n");
  std::map<std::string, std::string> attributes;
  EXPECT_TRUE(ParseMarker(doc.lines()[10], "example", &attributes));
  EXPECT_EQ(attributes["status"], "200");
  EXPECT_EQ(attributes["vary"], "a,b");
  EXPECT_EQ(attributes.count("partial"), 1u);
  EXPECT_FALSE(ParseMarker(doc.lines()[10], "grpc-example", &attributes));
}

}  // namespace
}  // namespace geo::docs
