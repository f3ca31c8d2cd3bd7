// Links between the pages this package checks resolve: every `](#anchor)` and
// `](other.md#anchor)` among MAINTENANCE.md, docs/api.md,
// docs/architecture.md and docs/edge.md names a heading that exists. (Links to
// other files are left to their owners; their existence is not checked here.)
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/docs/markdown.h"
#include "tests/support/test_files.h"

namespace geo::docs {
namespace {

const std::vector<std::string>& Pages() {
  static const auto* pages = new std::vector<std::string>{
      "MAINTENANCE.md", "docs/api.md", "docs/architecture.md", "docs/edge.md"};
  return *pages;
}

// "docs/x.md" + "../MAINTENANCE.md" -> "MAINTENANCE.md".
std::string Resolve(const std::string& from, const std::string& target) {
  std::vector<std::string> parts = absl::StrSplit(from, '/');
  parts.pop_back();
  for (absl::string_view part : absl::StrSplit(target, '/')) {
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (part != ".") {
      parts.emplace_back(part);
    }
  }
  return absl::StrJoin(parts, "/");
}

TEST(LinksTest, AnchorsBetweenCheckedPagesExist) {
  std::map<std::string, std::unique_ptr<MarkdownDocument>> docs;
  for (const std::string& page : Pages()) {
    const std::string text = testing::ReadFile(page);
    ASSERT_FALSE(text.empty()) << "cannot read " << page;
    docs[page] = std::make_unique<MarkdownDocument>(text);
  }
  int checked = 0;
  for (const auto& [page, doc] : docs) {
    for (size_t i = 0; i < doc->lines().size(); ++i) {
      if (doc->InsideFence(static_cast<int>(i))) continue;
      absl::string_view line = doc->lines()[i];
      for (size_t at = line.find("]("); at != absl::string_view::npos;
           at = line.find("](", at + 2)) {
        absl::string_view target = line.substr(at + 2);
        target = target.substr(0, target.find(')'));
        if (absl::StrContains(target, "://")) continue;
        size_t hash = target.find('#');
        if (hash == absl::string_view::npos) continue;
        const std::string file =
            hash == 0 ? page
                      : Resolve(page, std::string(target.substr(0, hash)));
        auto linked = docs.find(file);
        if (linked == docs.end()) continue;
        ++checked;
        const std::string anchor(target.substr(hash + 1));
        EXPECT_NE(linked->second->FindHeading(anchor), nullptr)
            << page << ":" << i + 1 << ": link to " << target << ": " << file
            << " has no heading #" << anchor;
      }
    }
  }
  EXPECT_GT(checked, 0);
}

}  // namespace
}  // namespace geo::docs
