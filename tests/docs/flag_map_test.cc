// MAINTENANCE.md's "Environment variable map" against the settings tables of
// the server (ServerSettings()) and the updater (UpdaterSettings()): every
// setting has a row, each row names the table's flag, variables (in
// precedence order, NAME_FILE variants included), GeoIP.conf keys and
// default, and the map names nothing the programs do not read.
#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "geo/common/settings.h"
#include "geo/server/server_options.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/docs/markdown.h"
#include "updater/config.h"

namespace geo::docs {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// Paths in the runfiles tree (the test's working directory).
constexpr char kMaintenance[] = "MAINTENANCE.md";
// The map's sections, by their GitHub anchors.
constexpr char kServerSection[] = "server-settings";
constexpr char kUpdaterSection[] = "updater-settings";

// Which column of a section's table holds what (0-based); -1: none.
struct Columns {
  int env = 1;
  int conf = -1;
  int default_value = 2;
};
constexpr Columns kServerColumns{1, -1, 2};
constexpr Columns kUpdaterColumns{1, 2, 3};

// One row of a map table, as code spans: flags (`--name`, dashes dropped),
// variables, GeoIP.conf keys, and the default.
struct MapRow {
  std::vector<std::string> flags;
  std::vector<std::string> env;
  std::vector<std::string> conf;
  std::vector<std::string> default_spans;
};

std::vector<MapRow> MapRows(const MarkdownDocument& doc,
                            absl::string_view anchor, const Columns& columns,
                            std::vector<std::string>* problems) {
  std::vector<MapRow> rows;
  const Heading* heading = doc.FindHeading(anchor);
  if (heading == nullptr) {
    problems->push_back(absl::StrCat("no section #", anchor));
    return rows;
  }
  const int needed =
      std::max({columns.env, columns.conf, columns.default_value}) + 1;
  auto [begin, end] = doc.SectionRange(*heading);
  for (const std::vector<std::string>& cells : doc.TableRows(begin, end)) {
    if (static_cast<int>(cells.size()) < needed) {
      problems->push_back(
          absl::StrCat("#", anchor, ": a row with fewer than ", needed,
                       " cells: ", absl::StrJoin(cells, " | ")));
      continue;
    }
    MapRow row;
    for (const std::string& span : CodeSpans(cells[0])) {
      absl::string_view flag = span;
      flag = flag.substr(0, flag.find('='));
      if (absl::ConsumePrefix(&flag, "--")) row.flags.emplace_back(flag);
    }
    row.env = CodeSpans(cells[columns.env]);
    if (columns.conf >= 0) row.conf = CodeSpans(cells[columns.conf]);
    row.default_spans = CodeSpans(cells[columns.default_value]);
    rows.push_back(std::move(row));
  }
  if (rows.empty()) {
    problems->push_back(absl::StrCat("#", anchor, " has no table rows"));
  }
  return rows;
}

// Every difference between a section's rows and a settings table.
std::vector<std::string> CompareWithTable(
    const std::vector<MapRow>& rows,
    const std::vector<settings::SettingSpec>& specs, const Columns& columns) {
  std::vector<std::string> problems;
  std::set<std::string> documented;
  for (const MapRow& row : rows) {
    if (row.flags.size() != 1) {
      problems.push_back(
          absl::StrCat("a row names ", row.flags.size(),
                       " flags: ", absl::StrJoin(row.flags, ", ")));
      continue;
    }
    const std::string& flag = row.flags[0];
    if (!documented.insert(flag).second) {
      problems.push_back(absl::StrCat("--", flag, " has two rows"));
    }
    const settings::SettingSpec* spec = nullptr;
    for (const settings::SettingSpec& candidate : specs) {
      if (candidate.flag == flag) spec = &candidate;
    }
    if (spec == nullptr) {
      problems.push_back(
          absl::StrCat("--", flag, " is in the map but not in the table"));
      continue;
    }
    if (row.env != spec->EnvironmentNames()) {
      problems.push_back(absl::StrCat(
          "--", flag, ": the map lists the variables [",
          absl::StrJoin(row.env, ", "), "], the table reads [",
          absl::StrJoin(spec->EnvironmentNames(), ", "), "] in that order"));
    }
    if (columns.conf >= 0 && row.conf != spec->conf_keys) {
      problems.push_back(
          absl::StrCat("--", flag, ": the map lists the GeoIP.conf keys [",
                       absl::StrJoin(row.conf, ", "), "], the table [",
                       absl::StrJoin(spec->conf_keys, ", "), "]"));
    }
    if (columns.conf < 0 && !spec->conf_keys.empty()) {
      problems.push_back(
          absl::StrCat("--", flag, " has GeoIP.conf keys and no column"));
    }
    // A default is one code span; no default (or an empty one), none.
    std::vector<std::string> expected;
    if (spec->default_value.has_value() && !spec->default_value->empty()) {
      expected.push_back(*spec->default_value);
    }
    if (row.default_spans != expected) {
      problems.push_back(absl::StrCat("--", flag, ": the map's default is [",
                                      absl::StrJoin(row.default_spans, ", "),
                                      "], the table's [",
                                      absl::StrJoin(expected, ", "), "]"));
    }
  }
  for (const settings::SettingSpec& spec : specs) {
    if (spec.flag.empty()) {
      problems.push_back(absl::StrCat(
          spec.DisplayName(), " has no flag; the map's rows are by flag"));
    } else if (!documented.count(spec.flag)) {
      problems.push_back(
          absl::StrCat("--", spec.flag, " is in the table but not the map"));
    }
  }
  return problems;
}

class FlagMapTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(doc_.ok()) << doc_.status(); }

  void ExpectSectionIsTheTable(absl::string_view anchor,
                               const std::vector<settings::SettingSpec>& specs,
                               const Columns& columns) {
    ASSERT_FALSE(specs.empty());
    std::vector<std::string> problems;
    std::vector<MapRow> rows = MapRows(*doc_, anchor, columns, &problems);
    std::vector<std::string> differences =
        CompareWithTable(rows, specs, columns);
    problems.insert(problems.end(), differences.begin(), differences.end());
    EXPECT_THAT(problems, IsEmpty())
        << kMaintenance << " #" << anchor << ":\n  "
        << absl::StrJoin(problems, "\n  ");
  }

  const absl::StatusOr<MarkdownDocument> doc_ = ReadMarkdownFile(kMaintenance);
};

TEST_F(FlagMapTest, ServerSettingsAreTheMap) {
  ExpectSectionIsTheTable(kServerSection, ServerSettings().specs(),
                          kServerColumns);
}

TEST_F(FlagMapTest, UpdaterSettingsAreTheMap) {
  ExpectSectionIsTheTable(kUpdaterSection, updater::UpdaterSettings().specs(),
                          kUpdaterColumns);
}

// The comparison itself, on known input, so that a parser or a comparison
// that silently finds nothing cannot pass the tests above.
TEST(CompareWithTableTest, ReportsEveryKindOfDifference) {
  const MarkdownDocument doc(
      "# Map\n\n## Settings\n\n"
      "| flag | environment variables | GeoIP.conf | default | effect |\n"
      "|---|---|---|---|---|\n"
      "| `--port` | `P_PORT` | — | `80` | a port |\n"
      "| `--key_file` | `P_KEY`, `P_KEY_FILE` | `Key` | — | a key |\n"
      "| `--gone` | — | — | — | not in the table |\n");
  std::vector<std::string> problems;
  std::vector<MapRow> rows =
      MapRows(doc, "settings", kUpdaterColumns, &problems);
  ASSERT_THAT(problems, IsEmpty());
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_THAT(rows[1].env, ElementsAre("P_KEY", "P_KEY_FILE"));

  settings::SettingSpec port;
  port.flag = "port";
  port.env = {"P_PORT"};
  port.default_value = "8080";
  settings::SettingSpec key;
  key.flag = "key_file";
  key.env = {"P_KEY"};
  key.conf_keys = {"Key", "OldKey"};
  key.secret = true;
  settings::SettingSpec missing;
  missing.flag = "missing";
  const std::string all = absl::StrJoin(
      CompareWithTable(rows, {port, key, missing}, kUpdaterColumns), "\n");
  EXPECT_THAT(all, HasSubstr("--port: the map's default is [80]"));
  EXPECT_THAT(all, HasSubstr("--key_file: the map lists the GeoIP.conf keys"));
  EXPECT_THAT(all, HasSubstr("--gone is in the map but not in the table"));
  EXPECT_THAT(all, HasSubstr("--missing is in the table but not the map"));
  EXPECT_THAT(all, Not(HasSubstr("--key_file: the map lists the variables")));

  key.conf_keys = {"Key"};
  port.default_value = "80";
  port.env = {"P_PORT", "P_PORT_OLD"};
  const std::string order =
      absl::StrJoin(CompareWithTable(rows, {port, key}, kUpdaterColumns), "\n");
  EXPECT_THAT(order, HasSubstr("--port: the map lists the variables [P_PORT]"));
  EXPECT_THAT(order, HasSubstr("--gone"));
  EXPECT_THAT(order, Not(HasSubstr("--key_file")));
}

}  // namespace
}  // namespace geo::docs
