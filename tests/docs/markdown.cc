#include "tests/docs/markdown.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tests/support/test_files.h"

namespace geo::docs {

std::string GithubAnchor(absl::string_view heading_text) {
  std::string anchor;
  for (char c : heading_text) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u >= 0x80) {
      anchor.push_back(c);  // Non-ASCII letters stay, as on GitHub.
    } else if (absl::ascii_isalnum(u) || c == '-' || c == '_') {
      anchor.push_back(absl::ascii_tolower(u));
    } else if (c == ' ') {
      anchor.push_back('-');
    }
  }
  return anchor;
}

MarkdownDocument::MarkdownDocument(absl::string_view text) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    lines_.emplace_back(line);
  }
  in_fence_.assign(lines_.size(), false);
  std::map<std::string, int> seen_anchors;
  FencedBlock* open = nullptr;
  std::string fence;
  for (int i = 0; i < static_cast<int>(lines_.size()); ++i) {
    absl::string_view line = lines_[i];
    absl::string_view stripped = absl::StripLeadingAsciiWhitespace(line);
    if (open != nullptr) {
      in_fence_[i] = true;
      if (absl::StartsWith(stripped, fence) &&
          absl::StripAsciiWhitespace(stripped.substr(fence.size())).empty()) {
        open = nullptr;
      } else {
        // Indentation up to the fence's is not part of the content; keep it
        // simple and take the line as written.
        absl::StrAppend(&open->content, line, "\n");
      }
      continue;
    }
    if (absl::StartsWith(stripped, "```") ||
        absl::StartsWith(stripped, "~~~")) {
      size_t n = 0;
      while (n < stripped.size() && stripped[n] == stripped[0]) ++n;
      fence = std::string(stripped.substr(0, n));
      in_fence_[i] = true;
      FencedBlock block;
      block.info = std::string(absl::StripAsciiWhitespace(stripped.substr(n)));
      block.info = block.info.substr(0, block.info.find(' '));
      block.line = i;
      blocks_.push_back(std::move(block));
      open = &blocks_.back();
      continue;
    }
    if (absl::StartsWith(line, "#")) {
      size_t level = 0;
      while (level < line.size() && line[level] == '#') ++level;
      if (level <= 6 && (level == line.size() || line[level] == ' ')) {
        Heading heading;
        heading.level = static_cast<int>(level);
        heading.text = std::string(absl::StripAsciiWhitespace(
            absl::StripTrailingAsciiWhitespace(line.substr(level))));
        heading.line = i;
        std::string anchor = GithubAnchor(heading.text);
        int& count = seen_anchors[anchor];
        heading.anchor = count == 0 ? anchor : absl::StrCat(anchor, "-", count);
        ++count;
        headings_.push_back(std::move(heading));
      }
    }
  }
}

const Heading* MarkdownDocument::FindHeading(absl::string_view anchor) const {
  for (const Heading& heading : headings_) {
    if (heading.anchor == anchor) return &heading;
  }
  return nullptr;
}

std::pair<int, int> MarkdownDocument::SectionRange(
    const Heading& heading) const {
  int end = static_cast<int>(lines_.size());
  for (const Heading& next : headings_) {
    if (next.line > heading.line && next.level <= heading.level) {
      end = next.line;
      break;
    }
  }
  return {heading.line + 1, end};
}

std::vector<std::vector<std::string>> MarkdownDocument::TableRows(
    int begin, int end) const {
  std::vector<std::vector<std::string>> rows;
  bool header_pending = true;
  for (int i = begin; i < end; ++i) {
    absl::string_view line = absl::StripAsciiWhitespace(lines_[i]);
    if (in_fence_[i] || !absl::StartsWith(line, "|")) {
      header_pending = true;  // A new table starts with a header again.
      continue;
    }
    if (header_pending) {  // The header row.
      header_pending = false;
      continue;
    }
    line = absl::StripPrefix(line, "|");
    line = absl::StripSuffix(line, "|");
    std::vector<std::string> cells;
    // A '|' inside a code span is written "\|".
    std::string cell;
    bool in_code = false;
    for (size_t k = 0; k < line.size(); ++k) {
      char c = line[k];
      if (c == '`') in_code = !in_code;
      if (c == '\\' && k + 1 < line.size() && line[k + 1] == '|') {
        cell.push_back('|');
        ++k;
        continue;
      }
      if (c == '|' && !in_code) {
        cells.emplace_back(absl::StripAsciiWhitespace(cell));
        cell.clear();
        continue;
      }
      cell.push_back(c);
    }
    cells.emplace_back(absl::StripAsciiWhitespace(cell));
    bool separator = true;
    for (const std::string& c : cells) {
      if (c.find_first_not_of(":- ") != std::string::npos) separator = false;
    }
    if (!separator) rows.push_back(std::move(cells));
  }
  return rows;
}

std::vector<const FencedBlock*> MarkdownDocument::BlocksIn(int begin,
                                                           int end) const {
  std::vector<const FencedBlock*> blocks;
  for (const FencedBlock& block : blocks_) {
    if (block.line >= begin && block.line < end) blocks.push_back(&block);
  }
  return blocks;
}

absl::StatusOr<MarkdownDocument> ReadMarkdownFile(const std::string& path) {
  const std::string text = testing::ReadFile(path);
  if (text.empty()) {
    return absl::NotFoundError(absl::StrCat("cannot read ", path));
  }
  return MarkdownDocument(text);
}

std::vector<std::string> CodeSpans(absl::string_view text) {
  std::vector<std::string> spans;
  size_t pos = 0;
  while (true) {
    size_t open = text.find('`', pos);
    if (open == absl::string_view::npos) break;
    size_t close = text.find('`', open + 1);
    if (close == absl::string_view::npos) break;
    spans.emplace_back(text.substr(open + 1, close - open - 1));
    pos = close + 1;
  }
  return spans;
}

bool ParseMarker(absl::string_view line, absl::string_view name,
                 std::map<std::string, std::string>* attributes) {
  line = absl::StripAsciiWhitespace(line);
  if (!absl::ConsumePrefix(&line, "<!--") ||
      !absl::ConsumeSuffix(&line, "-->")) {
    return false;
  }
  std::vector<absl::string_view> words =
      absl::StrSplit(line, ' ', absl::SkipEmpty());
  if (words.empty()) return false;
  absl::string_view first = absl::StripSuffix(words[0], ":");
  if (first != name) return false;
  attributes->clear();
  for (size_t i = 1; i < words.size(); ++i) {
    std::pair<std::string, std::string> kv =
        absl::StrSplit(words[i], absl::MaxSplits('=', 1));
    (*attributes)[kv.first] = kv.second;
  }
  return true;
}

}  // namespace geo::docs
