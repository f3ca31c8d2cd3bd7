// MAINTENANCE.md's "Environment variable map" against the code: every flag and
// environment variable of the server and the updater is in the map, and the
// map names nothing the programs do not read.
//
// Server: the settings table itself (ServerSettings(), ServerUsage() for the
// defaults). Updater (whose libraries are not visible to this package): its
// absl flags from `updater --helpfull` (the section for updater/cli.cc), and
// its environment variables from the binary's string constants plus the
// names its flag help gives (NAME_FILE variants are built at run time).
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "geo/data/test_data.h"
#include "geo/server/server_options.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/docs/markdown.h"

namespace geo::docs {
namespace {

// Paths in the runfiles tree (the test's working directory).
constexpr char kMaintenance[] = "MAINTENANCE.md";
constexpr char kUpdaterBinary[] = "updater/updater";
// The map's sections, by their GitHub anchors.
constexpr char kServerSection[] = "server-settings";
constexpr char kUpdaterSection[] = "updater-settings";

// One row of a map table: its flags (`--name`, dashes dropped) and its
// variables, and the default cell.
struct MapRow {
  std::vector<std::string> flags;
  std::vector<std::string> env;
  std::string default_cell;
  int line = 0;
};

bool IsVariableName(absl::string_view text) {
  if (text.empty() || !absl::ascii_isupper(text[0])) return false;
  bool underscore = false;
  for (char c : text) {
    if (c == '_') {
      underscore = true;
    } else if (!absl::ascii_isupper(c) && !absl::ascii_isdigit(c)) {
      return false;
    }
  }
  return underscore;
}

// The rows of the table(s) in the section `anchor` of MAINTENANCE.md. Column 1
// holds the flag(s), column 2 the variable(s), column 3 the default.
std::vector<MapRow> MapRows(const MarkdownDocument& doc,
                            absl::string_view anchor) {
  std::vector<MapRow> rows;
  const Heading* heading = doc.FindHeading(anchor);
  if (heading == nullptr) {
    ADD_FAILURE() << kMaintenance << " has no section #" << anchor;
    return rows;
  }
  auto [begin, end] = doc.SectionRange(*heading);
  for (const std::vector<std::string>& cells : doc.TableRows(begin, end)) {
    if (cells.size() < 3) {
      ADD_FAILURE() << "#" << anchor << ": a row with fewer than 3 cells: "
                    << absl::StrJoin(cells, " | ");
      continue;
    }
    MapRow row;
    for (const std::string& span : CodeSpans(cells[0])) {
      absl::string_view flag = span;
      flag = flag.substr(0, flag.find('='));
      if (absl::ConsumePrefix(&flag, "--")) row.flags.emplace_back(flag);
    }
    for (const std::string& span : CodeSpans(cells[1])) {
      if (IsVariableName(span)) row.env.push_back(span);
    }
    row.default_cell = cells[2];
    rows.push_back(std::move(row));
  }
  if (rows.empty()) ADD_FAILURE() << "#" << anchor << " has no table rows";
  return rows;
}

std::string Diff(const std::set<std::string>& code,
                 const std::set<std::string>& documented) {
  std::vector<std::string> missing, extra;
  for (const std::string& name : code) {
    if (!documented.count(name)) missing.push_back(name);
  }
  for (const std::string& name : documented) {
    if (!code.count(name)) extra.push_back(name);
  }
  return absl::StrCat(
      "in the code but not in the map: [", absl::StrJoin(missing, ", "),
      "]; in the map but not in the code: [", absl::StrJoin(extra, ", "), "]");
}

std::string RunCommand(const std::string& command) {
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return output;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0)
    output.append(buffer, n);
  pclose(pipe);
  return output;
}

class FlagMapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string text = testing::ReadFile(kMaintenance);
    ASSERT_FALSE(text.empty()) << "cannot read " << kMaintenance;
    doc_ = std::make_unique<MarkdownDocument>(text);
  }
  std::unique_ptr<MarkdownDocument> doc_;
};

// ServerUsage() lines: `  --flag (ENV, default "value")`.
std::map<std::string, std::string> ServerDefaults() {
  std::map<std::string, std::string> defaults;
  for (absl::string_view line : absl::StrSplit(ServerUsage(), '\n')) {
    line = absl::StripLeadingAsciiWhitespace(line);
    if (!absl::ConsumePrefix(&line, "--")) continue;
    size_t space = line.find(' ');
    size_t quote = line.find(", default \"");
    if (space == absl::string_view::npos || quote == absl::string_view::npos) {
      continue;
    }
    absl::string_view value = line.substr(quote + 11);
    value = value.substr(0, value.rfind('"'));
    defaults[std::string(line.substr(0, space))] = std::string(value);
  }
  return defaults;
}

TEST_F(FlagMapTest, ServerSettingsAreTheMap) {
  std::set<std::string> code_flags, code_env, doc_flags, doc_env;
  std::map<std::string, std::string> code_pairs;
  for (const SettingName& setting : ServerSettings()) {
    code_flags.insert(setting.flag);
    code_env.insert(setting.env);
    code_pairs[setting.flag] = setting.env;
  }
  ASSERT_FALSE(code_flags.empty());
  const std::map<std::string, std::string> defaults = ServerDefaults();
  for (const MapRow& row : MapRows(*doc_, kServerSection)) {
    doc_flags.insert(row.flags.begin(), row.flags.end());
    doc_env.insert(row.env.begin(), row.env.end());
    // A server row is one setting: its flag, its variable, its default.
    if (row.flags.size() != 1 || row.env.size() != 1) {
      ADD_FAILURE() << "#" << kServerSection
                    << ": each row names one flag and one variable, got "
                    << absl::StrJoin(row.flags, ",") << " / "
                    << absl::StrJoin(row.env, ",");
      continue;
    }
    auto pair = code_pairs.find(row.flags[0]);
    if (pair == code_pairs.end()) continue;  // Reported by the set diff.
    EXPECT_EQ(row.env[0], pair->second)
        << "--" << row.flags[0] << " is documented with the wrong variable";
    auto value = defaults.find(row.flags[0]);
    ASSERT_NE(value, defaults.end())
        << "--" << row.flags[0] << " missing from ServerUsage()";
    std::vector<std::string> spans = CodeSpans(row.default_cell);
    if (value->second.empty()) {
      EXPECT_TRUE(spans.empty())
          << "--" << row.flags[0] << " has no default, the map says "
          << row.default_cell;
    } else {
      EXPECT_THAT(spans, ::testing::ElementsAre(value->second))
          << "default of --" << row.flags[0] << " (cell: " << row.default_cell
          << ")";
    }
  }
  EXPECT_EQ(doc_flags, code_flags)
      << "server flags: " << Diff(code_flags, doc_flags);
  EXPECT_EQ(doc_env, code_env)
      << "server variables: " << Diff(code_env, doc_env);
}

// `updater --helpfull`: the flags listed under "Flags from updater/...".
std::set<std::string> UpdaterFlags(const std::string& helpfull) {
  std::set<std::string> flags;
  bool ours = false;
  for (absl::string_view line : absl::StrSplit(helpfull, '\n')) {
    if (absl::StartsWith(line, "  Flags from ")) {
      ours = absl::StartsWith(line, "  Flags from updater/");
      continue;
    }
    if (!ours || !absl::StartsWith(line, "    --")) continue;
    absl::string_view name = line.substr(6);
    flags.emplace(name.substr(0, name.find(' ')));
  }
  return flags;
}

// Upper-case identifiers with an underscore in `text`, e.g. the variable
// names in a flag's help ("env MAXMIND_ACCOUNT_ID[_FILE]", where "[_FILE]"
// means the name with and without the suffix).
std::set<std::string> VariableNames(absl::string_view text) {
  std::set<std::string> names;
  size_t i = 0;
  while (i < text.size()) {
    if (!absl::ascii_isupper(text[i]) ||
        (i > 0 && (absl::ascii_isalnum(text[i - 1]) || text[i - 1] == '_'))) {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < text.size() &&
           (absl::ascii_isupper(text[end]) || absl::ascii_isdigit(text[end]) ||
            text[end] == '_')) {
      ++end;
    }
    absl::string_view name = text.substr(i, end - i);
    if (IsVariableName(name)) {
      names.emplace(name);
      if (absl::StartsWith(text.substr(end), "[_FILE]")) {
        names.insert(absl::StrCat(name, "_FILE"));
      }
    }
    i = end;
  }
  return names;
}

// The help of the updater's own flags (the "Flags from updater/" section).
std::string UpdaterFlagHelp(const std::string& helpfull) {
  std::string help;
  bool ours = false;
  for (absl::string_view line : absl::StrSplit(helpfull, '\n')) {
    if (absl::StartsWith(line, "  Flags from ")) {
      ours = absl::StartsWith(line, "  Flags from updater/");
    } else if (ours) {
      absl::StrAppend(&help, line, "\n");
    }
  }
  return help;
}

// NUL-terminated strings in a binary file that are variable names of the
// updater's families (MAXMIND_*, GEOIPUPDATE_*, GEO_*): the names its
// configuration looks up. (Linker symbol versions such as CURL_OPENSSL_4 are
// upper-case too, hence the families.)
std::set<std::string> BinaryVariableNames(const std::string& binary) {
  std::set<std::string> names;
  size_t start = 0;
  for (size_t i = 0; i <= binary.size(); ++i) {
    if (i < binary.size() && binary[i] != '\0') continue;
    absl::string_view text(binary.data() + start, i - start);
    start = i + 1;
    if (text.size() > 64 || !IsVariableName(text)) continue;
    if (absl::StartsWith(text, "MAXMIND_") ||
        absl::StartsWith(text, "GEOIPUPDATE_") ||
        absl::StartsWith(text, "GEO_")) {
      names.emplace(text);
    }
  }
  return names;
}

TEST_F(FlagMapTest, UpdaterFlagsAndVariablesAreTheMap) {
  const std::string helpfull =
      RunCommand(absl::StrCat(kUpdaterBinary, " --helpfull 2>&1"));
  const std::set<std::string> code_flags = UpdaterFlags(helpfull);
  ASSERT_FALSE(code_flags.empty()) << "no updater flags in:\n" << helpfull;
  // Variables: those the binary looks up, and those its help names (the
  // NAME_FILE variants exist only there: the code appends the suffix).
  const std::string binary = testing::ReadFile(kUpdaterBinary);
  ASSERT_FALSE(binary.empty()) << "cannot read " << kUpdaterBinary;
  const std::set<std::string> in_binary = BinaryVariableNames(binary);
  ASSERT_FALSE(in_binary.empty());
  const std::set<std::string> in_help =
      VariableNames(UpdaterFlagHelp(helpfull));
  for (const std::string& name : in_help) {
    absl::string_view base = name;
    absl::ConsumeSuffix(&base, "_FILE");
    EXPECT_TRUE(in_binary.count(name) || in_binary.count(std::string(base)))
        << "the updater's --helpfull names " << name
        << ", which the binary does not look up";
  }
  std::set<std::string> code_env = in_binary;
  code_env.insert(in_help.begin(), in_help.end());

  std::set<std::string> doc_flags, doc_env;
  for (const MapRow& row : MapRows(*doc_, kUpdaterSection)) {
    EXPECT_FALSE(row.flags.empty() && row.env.empty())
        << "#" << kUpdaterSection << ": a row without a flag or variable";
    doc_flags.insert(row.flags.begin(), row.flags.end());
    doc_env.insert(row.env.begin(), row.env.end());
  }
  EXPECT_EQ(doc_flags, code_flags)
      << "updater flags: " << Diff(code_flags, doc_flags);
  EXPECT_EQ(doc_env, code_env)
      << "updater variables: " << Diff(code_env, doc_env);
}

// The extraction itself, on known input, so that a parser that silently finds
// nothing cannot pass the tests above.
TEST(VariableNamesTest, HelpTextAndBinaryStrings) {
  EXPECT_THAT(VariableNames("(env MAXMIND_A[_FILE], GEO_B; GeoIP.conf, "
                            "default 10s, TLS, X_Y)."),
              ::testing::UnorderedElementsAre("MAXMIND_A", "MAXMIND_A_FILE",
                                              "GEO_B", "X_Y"));
  const std::string binary("x\0GEO_B\0CURL_OPENSSL_4\0set GEO_C\0MAXMIND_A",
                           42);
  EXPECT_THAT(BinaryVariableNames(binary),
              ::testing::UnorderedElementsAre("GEO_B", "MAXMIND_A"));
  EXPECT_THAT(
      UpdaterFlags("  Flags from a.cc:\n    --no (x); default: \"\";\n"
                   "  Flags from updater/cli.cc:\n    --yes (y); default: "
                   "\"\";\n      --not-a-flag\n"),
      ::testing::ElementsAre("yes"));
}

}  // namespace
}  // namespace geo::docs
