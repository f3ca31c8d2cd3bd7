#include "geo/http/json_array_length.h"

#include <cstddef>
#include <cstdint>

#include "absl/strings/str_cat.h"

namespace geo::http {
namespace {

// Positions are indices into the text; kEnd means "malformed or truncated":
// the scan gives up and lets the real parser say what is wrong.
constexpr size_t kEnd = absl::string_view::npos;

bool IsJsonSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

size_t SkipSpace(absl::string_view json, size_t i) {
  while (i < json.size() && IsJsonSpace(json[i])) ++i;
  return i;
}

// `i` is at an opening quote; returns the index after the closing one.
size_t SkipString(absl::string_view json, size_t i) {
  for (++i; i < json.size(); ++i) {
    if (json[i] == '\\') {
      ++i;  // Whatever is escaped, it is not the closing quote.
    } else if (json[i] == '"') {
      return i + 1;
    }
  }
  return kEnd;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Whether the string body `raw` (between the quotes, still escaped) reads
// `expected` once unescaped. `expected` is ASCII, so a \u escape matches
// only a code point below 0x80.
bool UnescapedEquals(absl::string_view raw, absl::string_view expected) {
  size_t matched = 0;
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '\\') {
      if (++i >= raw.size()) return false;
      switch (raw[i]) {
        case '"':
        case '\\':
        case '/':
          c = raw[i];
          break;
        case 'b':
          c = '\b';
          break;
        case 'f':
          c = '\f';
          break;
        case 'n':
          c = '\n';
          break;
        case 'r':
          c = '\r';
          break;
        case 't':
          c = '\t';
          break;
        case 'u': {
          if (i + 4 >= raw.size()) return false;
          int code_point = 0;
          for (size_t k = 1; k <= 4; ++k) {
            const int digit = HexValue(raw[i + k]);
            if (digit < 0) return false;
            code_point = code_point * 16 + digit;
          }
          if (code_point >= 0x80) return false;
          c = static_cast<char>(code_point);
          i += 4;
          break;
        }
        default:
          return false;
      }
    }
    if (matched >= expected.size() || expected[matched] != c) return false;
    ++matched;
  }
  return matched == expected.size();
}

// `i` is at the first character of a value; returns the index after it.
// Nested arrays and objects are skipped by counting brackets (no recursion);
// strings inside them are skipped whole, so brackets in strings do not count.
size_t SkipValue(absl::string_view json, size_t i) {
  if (i >= json.size()) return kEnd;
  if (json[i] == '"') return SkipString(json, i);
  if (json[i] == '[' || json[i] == '{') {
    int64_t depth = 0;
    while (i < json.size()) {
      const char c = json[i];
      if (c == '"') {
        i = SkipString(json, i);
        if (i == kEnd) return kEnd;
        continue;
      }
      if (c == '[' || c == '{') ++depth;
      if (c == ']' || c == '}') {
        if (--depth == 0) return i + 1;
      }
      ++i;
    }
    return kEnd;
  }
  // A number, true, false or null: up to the next delimiter.
  const size_t start = i;
  while (i < json.size() && !IsJsonSpace(json[i]) && json[i] != ',' &&
         json[i] != ']' && json[i] != '}') {
    ++i;
  }
  return i == start ? kEnd : i;
}

}  // namespace

absl::Status CheckJsonArrayLength(absl::string_view json,
                                  absl::string_view field, int max_items) {
  int64_t items = 0;
  auto too_many = [max_items] {
    return absl::InvalidArgumentError(absl::StrCat(
        "a batch holds at most ", max_items, " addresses; got more"));
  };
  size_t i = SkipSpace(json, 0);
  if (i >= json.size() || json[i] != '{') return absl::OkStatus();
  i = SkipSpace(json, i + 1);
  if (i < json.size() && json[i] == '}') return absl::OkStatus();
  while (true) {
    // A member: "name" : value
    if (i >= json.size() || json[i] != '"') return absl::OkStatus();
    const size_t name_end = SkipString(json, i);
    if (name_end == kEnd) return absl::OkStatus();
    const bool counted =
        UnescapedEquals(json.substr(i + 1, name_end - i - 2), field);
    i = SkipSpace(json, name_end);
    if (i >= json.size() || json[i] != ':') return absl::OkStatus();
    i = SkipSpace(json, i + 1);
    if (counted && i < json.size() && json[i] == '[') {
      i = SkipSpace(json, i + 1);
      if (i < json.size() && json[i] == ']') {
        ++i;
      } else {
        while (true) {
          // An element must start here ("[1,]" is for the parser to refuse).
          if (i >= json.size() || json[i] == ',' || json[i] == ']') {
            return absl::OkStatus();
          }
          if (++items > max_items) return too_many();
          i = SkipValue(json, i);
          if (i == kEnd) return absl::OkStatus();
          i = SkipSpace(json, i);
          if (i >= json.size()) return absl::OkStatus();
          if (json[i] == ']') {
            ++i;
            break;
          }
          if (json[i] != ',') return absl::OkStatus();
          i = SkipSpace(json, i + 1);
        }
      }
    } else {
      i = SkipValue(json, i);
      if (i == kEnd) return absl::OkStatus();
    }
    i = SkipSpace(json, i);
    if (i >= json.size() || json[i] != ',') return absl::OkStatus();
    i = SkipSpace(json, i + 1);
  }
}

}  // namespace geo::http
