// MAINTENANCE.md's "Extending the API" recipe is true by construction: each
// step quotes the code of a real method (the model, ListDatabases) under a
// `<!-- recipe-excerpt file=PATH -->` marker, and
//   - every quoted line is in that file, in the order quoted ("..." skips
//     code), so a recipe step that the code no longer does fails here;
//   - every line of the server and the API that mentions the model is quoted
//     by some step, so a place a new method must touch (the gRPC base-class
//     chain, the metrics enum, the route list, ...) cannot go missing from
//     the recipe.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "tests/docs/markdown.h"
#include "tests/support/test_files.h"

namespace geo::docs {
namespace {

constexpr char kMaintenance[] = "MAINTENANCE.md";
constexpr char kSection[] = "extending-the-api";
constexpr char kModel[] = "ListDatabases";

// Every file in which a method of geo.v1.GeoService has code of its own.
const std::vector<std::string>& PerMethodFiles() {
  static const auto* files = new std::vector<std::string>{
      "api/geo/v1/geo.proto",         "geo/server/lookup_service.h",
      "geo/server/lookup_service.cc", "geo/server/server_metrics.h",
      "geo/server/server_metrics.cc", "geo/server/grpc_service.h",
      "geo/server/grpc_service.cc",   "geo/server/http_routes.h",
      "geo/server/http_routes.cc",
  };
  return *files;
}

// Lines compared without indentation or a trailing ',' (a later enum value
// adds one to the last).
std::string Normalize(absl::string_view line) {
  line = absl::StripAsciiWhitespace(line);
  line = absl::StripSuffix(line, ",");
  return std::string(absl::StripTrailingAsciiWhitespace(line));
}

std::vector<std::string> NormalizedLines(absl::string_view text) {
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    lines.push_back(Normalize(line));
  }
  return lines;
}

struct Excerpt {
  std::string file;
  std::vector<std::string> lines;  // Normalized; "..." kept as a separator.
  int line = 0;                    // Of the marker, 1-based.
};

std::vector<Excerpt> RecipeExcerpts() {
  std::vector<Excerpt> excerpts;
  const std::string text = testing::ReadFile(kMaintenance);
  if (text.empty()) {
    ADD_FAILURE() << "cannot read " << kMaintenance;
    return excerpts;
  }
  MarkdownDocument doc(text);
  const Heading* heading = doc.FindHeading(kSection);
  if (heading == nullptr) {
    ADD_FAILURE() << kMaintenance << " has no section #" << kSection;
    return excerpts;
  }
  auto [begin, end] = doc.SectionRange(*heading);
  for (int i = begin; i < end; ++i) {
    std::map<std::string, std::string> attributes;
    if (doc.InsideFence(i) ||
        !ParseMarker(doc.lines()[i], "recipe-excerpt", &attributes)) {
      continue;
    }
    std::vector<const FencedBlock*> blocks = doc.BlocksIn(i + 1, i + 3);
    if (blocks.empty()) {
      ADD_FAILURE() << kMaintenance << ":" << i + 1
                    << ": a recipe-excerpt marker without a code block";
      continue;
    }
    Excerpt excerpt;
    excerpt.file = attributes["file"];
    excerpt.line = i + 1;
    for (std::string& line : NormalizedLines(blocks[0]->content)) {
      if (!line.empty()) excerpt.lines.push_back(std::move(line));
    }
    excerpts.push_back(std::move(excerpt));
  }
  return excerpts;
}

TEST(AddMethodRecipeTest, EveryExcerptIsInItsFileInOrder) {
  std::vector<Excerpt> excerpts = RecipeExcerpts();
  ASSERT_GE(excerpts.size(), 8u) << "the recipe quotes too little";
  for (const Excerpt& excerpt : excerpts) {
    const std::string text = testing::ReadFile(excerpt.file);
    ASSERT_FALSE(text.empty())
        << kMaintenance << ":" << excerpt.line << ": cannot read "
        << excerpt.file << " (a file the test does not have as data?)";
    const std::vector<std::string> file_lines = NormalizedLines(text);
    // Runs of quoted lines between "..." must each appear as consecutive
    // lines, the runs in order.
    std::vector<std::vector<std::string>> runs(1);
    for (const std::string& line : excerpt.lines) {
      if (line == "...") {
        runs.emplace_back();
      } else {
        runs.back().push_back(line);
      }
    }
    size_t at = 0;
    for (const std::vector<std::string>& run : runs) {
      if (run.empty()) continue;
      size_t found = at;
      for (; found + run.size() <= file_lines.size(); ++found) {
        size_t i = 0;
        while (i < run.size() && file_lines[found + i] == run[i]) ++i;
        if (i == run.size()) break;
      }
      const bool ok = found + run.size() <= file_lines.size();
      EXPECT_TRUE(ok) << kMaintenance << ":" << excerpt.line
                      << ": the recipe quotes from " << excerpt.file
                      << " lines that are not there (in this order) any "
                         "more, starting with \""
                      << run.front()
                      << "\": update the recipe to what the code does now";
      if (!ok) break;
      at = found + run.size();
    }
  }
}

TEST(AddMethodRecipeTest, EveryLineOfTheModelMethodIsQuoted) {
  std::map<std::string, std::set<std::string>> quoted;
  for (const Excerpt& excerpt : RecipeExcerpts()) {
    quoted[excerpt.file].insert(excerpt.lines.begin(), excerpt.lines.end());
  }
  int model_lines = 0;
  for (const std::string& file : PerMethodFiles()) {
    const std::string text = testing::ReadFile(file);
    ASSERT_FALSE(text.empty()) << "cannot read " << file;
    int number = 0;
    for (const std::string& line : NormalizedLines(text)) {
      ++number;
      if (!absl::StrContains(line, kModel)) continue;
      ++model_lines;
      EXPECT_TRUE(quoted[file].count(line))
          << file << ":" << number << " is code every method has (it names "
          << kModel << ") but no step of " << kMaintenance << "#" << kSection
          << " shows it: \"" << line << "\"";
    }
  }
  EXPECT_GT(model_lines, 10);
}

}  // namespace
}  // namespace geo::docs
