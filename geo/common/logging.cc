#include "geo/common/logging.h"

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "geo/common/enum_names.h"

namespace geo {
namespace {

std::atomic<int> min_level{static_cast<int>(LogLevel::kInfo)};

std::function<void(absl::string_view)>& Sink() {
  static auto* sink = new std::function<void(absl::string_view)>();
  return *sink;
}

void WriteAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    ssize_t written = ::write(fd, data.data(), data.size());
    if (written <= 0) return;  // Nowhere left to report a logging failure.
    data.remove_prefix(static_cast<size_t>(written));
  }
}

}  // namespace

// Each level's name, as logged and as --log_level takes it.
constexpr EnumName<LogLevel> kLogLevelNames[] = {
    {LogLevel::kDebug, "debug"},
    {LogLevel::kInfo, "info"},
    {LogLevel::kWarn, "warn"},
    {LogLevel::kError, "error"},
};

absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view text) {
  std::string lower = absl::AsciiStrToLower(text);
  if (lower == "warning") lower = "warn";
  if (std::optional<LogLevel> level = ValueNamed(kLogLevelNames, lower)) {
    return *level;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown log level \"", text, "\" (want debug, info, warn or error)"));
}

absl::string_view LogLevelName(LogLevel level) {
  return NameOf(kLogLevelNames, level, "info");
}

std::string JsonQuote(absl::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back('"');
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          absl::StrAppendFormat(&out, "\\u%04x", c);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
  return out;
}

LogField::LogField(absl::string_view key, absl::string_view value)
    : key_(key), json_value_(JsonQuote(value)) {}
LogField::LogField(absl::string_view key, int64_t value)
    : key_(key), json_value_(absl::StrCat(value)) {}
LogField::LogField(absl::string_view key, uint64_t value)
    : key_(key), json_value_(absl::StrCat(value)) {}
LogField::LogField(absl::string_view key, double value)
    : key_(key),
      json_value_(std::isfinite(value) ? absl::StrCat(value)
                                       : JsonQuote(absl::StrCat(value))) {}
LogField::LogField(absl::string_view key, bool value)
    : key_(key), json_value_(value ? "true" : "false") {}
LogField::LogField(absl::string_view key, absl::Duration value)
    : key_(key), json_value_(absl::StrCat(absl::ToDoubleSeconds(value))) {}
LogField::LogField(absl::string_view key, const absl::Status& status)
    : key_(key), json_value_(JsonQuote(status.ToString())) {}

void Log(LogLevel level, absl::string_view message,
         absl::Span<const LogField> fields) {
  if (static_cast<int>(level) < min_level.load(std::memory_order_relaxed)) {
    return;
  }
  std::string line = absl::StrCat(
      "{\"ts\":",
      JsonQuote(absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(),
                                 absl::UTCTimeZone())),
      ",\"level\":\"", LogLevelName(level), "\",\"msg\":", JsonQuote(message));
  for (const LogField& field : fields) {
    absl::StrAppend(&line, ",", JsonQuote(field.key()), ":",
                    field.json_value());
  }
  line += "}\n";
  if (Sink()) {
    Sink()(line);
  } else {
    WriteAll(STDERR_FILENO, line);
  }
}

void SetMinLogLevel(LogLevel level) {
  min_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

LogLevel MinLogLevel() {
  return static_cast<LogLevel>(min_level.load(std::memory_order_relaxed));
}

void SetLogSinkForTesting(std::function<void(absl::string_view line)> sink) {
  Sink() = std::move(sink);
}

}  // namespace geo
