// Just enough Markdown for the documentation tests: headings and their GitHub
// anchors, sections, tables, fenced blocks and HTML-comment markers. Text
// inside fenced code blocks is never taken for a heading or a table.
#ifndef TESTS_DOCS_MARKDOWN_H_
#define TESTS_DOCS_MARKDOWN_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace geo::docs {

// The anchor GitHub gives a heading's text: lower case, punctuation other than
// '-' and '_' dropped, each space a '-'. ("GeoErrorRatioHigh" ->
// "geoerrorratiohigh", "Rolling back" -> "rolling-back".)
std::string GithubAnchor(absl::string_view heading_text);

struct Heading {
  int level = 0;       // 1 for "#", 2 for "##", ...
  std::string text;    // Without the leading '#'s.
  std::string anchor;  // Unique in the document, as GitHub makes it ("x-1").
  int line = 0;        // 0-based line index of the heading.
};

// One fenced code block: ```info ... ```.
struct FencedBlock {
  std::string info;     // The word after the opening fence, e.g. "sh".
  std::string content;  // The lines between the fences, each ending in '\n'.
  int line = 0;         // 0-based line index of the opening fence.
};

class MarkdownDocument {
 public:
  explicit MarkdownDocument(absl::string_view text);

  const std::vector<Heading>& headings() const { return headings_; }
  const std::vector<FencedBlock>& blocks() const { return blocks_; }
  const std::vector<std::string>& lines() const { return lines_; }

  // The heading with this anchor, or nullptr.
  const Heading* FindHeading(absl::string_view anchor) const;

  // The lines after `heading` up to the next heading of the same or a higher
  // level (or the end), as line indices [begin, end).
  std::pair<int, int> SectionRange(const Heading& heading) const;

  // Rows of the tables inside [begin, end): each row's cells, trimmed. The
  // header row and the |---| separator are skipped.
  std::vector<std::vector<std::string>> TableRows(int begin, int end) const;

  // Fenced blocks whose opening fence lies inside [begin, end).
  std::vector<const FencedBlock*> BlocksIn(int begin, int end) const;

  // True when line `line` lies inside a fenced block (fences included).
  bool InsideFence(int line) const { return in_fence_[line]; }

 private:
  std::vector<std::string> lines_;
  std::vector<bool> in_fence_;
  std::vector<Heading> headings_;
  std::vector<FencedBlock> blocks_;
};

// The Markdown file at `path` (relative to the runfiles tree, the test's
// working directory); NOT_FOUND when it cannot be read or is empty.
absl::StatusOr<MarkdownDocument> ReadMarkdownFile(const std::string& path);

// The `code spans` of a table cell or a line, in order.
std::vector<std::string> CodeSpans(absl::string_view text);

// Parses an HTML-comment marker line "<!-- NAME key=value key=value -->".
// Returns false when `line` is not a marker called `name`. Values run to the
// next space; a key without '=' maps to "".
bool ParseMarker(absl::string_view line, absl::string_view name,
                 std::map<std::string, std::string>* attributes);

}  // namespace geo::docs

#endif  // TESTS_DOCS_MARKDOWN_H_
