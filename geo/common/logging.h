// Structured logging: one JSON object per line on stderr, with a level.
//
//   Log(LogLevel::kInfo, "Database reloaded",
//       {{"path", path}, {"type", type}, {"build_epoch", epoch}});
//   -> {"ts":"2026-11-22T08:00:00.123Z","level":"info","msg":"Database
//   reloaded",
//       "path":"/data/GeoLite2-City.mmdb","type":"GeoLite2-City","build_epoch":1700000000}
//
// Why not glog or spdlog: see docs/adr/0003-structured-json-logging.md. Never
// pass a secret (license key, Authorization header) as a field.
#ifndef GEO_COMMON_LOGGING_H_
#define GEO_COMMON_LOGGING_H_

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "geo/common/settings.h"

namespace geo {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// "debug", "info", "warn" (or "warning"), "error".
absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view text);

// The settings-table value type of a log level, shared by both binaries.
template <typename Options>
settings::ValueType<Options> LogLevelValue(LogLevel Options::*field) {
  return settings::Parsed<Options, LogLevel>(
      field, "debug, info, warn or error", ParseLogLevel);
}
absl::string_view LogLevelName(LogLevel level);

// One key/value of a log line. Strings are JSON-quoted; numbers and booleans
// are written bare.
class LogField {
 public:
  LogField(absl::string_view key, absl::string_view value);
  LogField(absl::string_view key, const std::string& value)
      : LogField(key, absl::string_view(value)) {}
  LogField(absl::string_view key, const char* value)
      : LogField(key, absl::string_view(value)) {}
  LogField(absl::string_view key, int64_t value);
  LogField(absl::string_view key, uint64_t value);
  LogField(absl::string_view key, int value)
      : LogField(key, static_cast<int64_t>(value)) {}
  LogField(absl::string_view key, unsigned value)
      : LogField(key, static_cast<uint64_t>(value)) {}
  LogField(absl::string_view key, double value);
  LogField(absl::string_view key, bool value);
  // Seconds, as a number.
  LogField(absl::string_view key, absl::Duration value);
  // Code name and message.
  LogField(absl::string_view key, const absl::Status& status);

  const std::string& key() const { return key_; }
  // Already JSON-encoded.
  const std::string& json_value() const { return json_value_; }

 private:
  std::string key_;
  std::string json_value_;
};

// Writes one line if `level` is at or above the minimum level. Thread-safe;
// each line is written with a single write(2), so lines never interleave.
// `fields` is usually a braced list; a Span lets a caller add fields that
// only some lines have.
void Log(LogLevel level, absl::string_view message,
         absl::Span<const LogField> fields = {});

void SetMinLogLevel(LogLevel level);
LogLevel MinLogLevel();

// Replaces stderr as the destination (tests capture lines with it); nullptr
// restores stderr. Not for use while other threads log.
void SetLogSinkForTesting(std::function<void(absl::string_view line)> sink);

// JSON string literal for `text`, quotes included (RFC 8259 escaping).
std::string JsonQuote(absl::string_view text);

}  // namespace geo

#endif  // GEO_COMMON_LOGGING_H_
