#include "tests/edge/doc_config.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/docs/markdown.h"

namespace geo::testing {
namespace {

bool IsWordChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_';
}

// GEO_ADDRESS, LOAD_BALANCER_CIDR: upper case, digits, at least one '_'.
bool LooksLikePlaceholder(absl::string_view word) {
  if (word.empty() || !absl::ascii_isupper(static_cast<unsigned char>(word[0])))
    return false;
  bool underscore = false;
  for (char c : word) {
    if (c == '_') {
      underscore = true;
    } else if (!absl::ascii_isupper(static_cast<unsigned char>(c)) &&
               !absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return underscore && word.back() != '_';
}

}  // namespace

absl::StatusOr<std::string> DocConfig(
    absl::string_view markdown, absl::string_view name,
    const std::map<std::string, std::string>& placeholders) {
  const docs::MarkdownDocument doc(markdown);
  const std::vector<std::string>& lines = doc.lines();
  const docs::FencedBlock* found = nullptr;
  for (int i = 0; i < static_cast<int>(lines.size()) && found == nullptr; ++i) {
    std::map<std::string, std::string> attributes;
    if (doc.InsideFence(i) ||
        !docs::ParseMarker(lines[i], "edge-test", &attributes) ||
        attributes["config"] != name) {
      continue;
    }
    int next = i + 1;
    while (next < static_cast<int>(lines.size()) &&
           absl::StripAsciiWhitespace(lines[next]).empty()) {
      ++next;
    }
    for (const docs::FencedBlock& block : doc.blocks()) {
      if (block.line == next) found = &block;
    }
    if (found == nullptr) {
      return absl::NotFoundError(
          absl::StrCat("the <!-- edge-test config=", name,
                       " --> marker is not followed by a fenced block"));
    }
  }
  if (found == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("no <!-- edge-test config=", name, " --> marker"));
  }

  // Whole words only, so that one placeholder never matches inside another.
  const std::string& text = found->content;
  std::string out;
  std::set<std::string> used;
  std::set<std::string> left;
  for (size_t i = 0; i < text.size();) {
    if (!IsWordChar(text[i])) {
      out.push_back(text[i++]);
      continue;
    }
    size_t end = i;
    while (end < text.size() && IsWordChar(text[end])) ++end;
    const std::string word = text.substr(i, end - i);
    auto it = placeholders.find(word);
    if (it != placeholders.end()) {
      out += it->second;
      used.insert(word);
    } else {
      if (LooksLikePlaceholder(word)) left.insert(word);
      out += word;
    }
    i = end;
  }
  std::vector<std::string> unused;
  for (const auto& [placeholder, value] : placeholders) {
    if (!used.count(placeholder)) unused.push_back(placeholder);
  }
  if (!unused.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "config ", name, " no longer uses ", absl::StrJoin(unused, ", ")));
  }
  if (!left.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("config ", name, " has placeholders the test does not ",
                     "know: ", absl::StrJoin(left, ", ")));
  }
  return out;
}

}  // namespace geo::testing
