// MaxmindDecoder on arbitrary data sections, without a file or a search tree
// around them: the input's first 4 bytes are the record's offset (big-endian,
// taken modulo the section's size), the rest is the data section. Oracle: a
// failure is DATA_LOSS carrying its RecordDecodeFailure; decoding again gives
// the same answer; a language whose name bit is clear decodes exactly as
// English; the budgeted walk alone fails with the same budget failure a
// decode does; every offset of the section reads as libmaxminddb reads it
// (ReadDataValue against MMDB_aget_value). The default budget (4096 entries, 1
// MiB of strings) bounds every decode, so a memory limit on the fuzzer
// (-malloc_limit_mb) catches a decode that is not bounded.
#include <maxminddb.h>

#include <cstddef>
#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "geo/data/maxmind_decoder.h"
#include "geo/data/mmdb_value_testing.h"
#include "google/protobuf/util/message_differencer.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using ::google::protobuf::util::MessageDifferencer;

bool SameDecode(const absl::Status& status, const geo::DecodedFields& a,
                const absl::Status& again, const geo::DecodedFields& b) {
  if (status != again) return false;
  if (!status.ok()) return true;
  return a.has_subdivisions == b.has_subdivisions &&
         a.name_languages == b.name_languages &&
         a.language_found == b.language_found &&
         MessageDifferencer::Equals(a.fields, b.fields);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 5) return 0;
  const uint8_t* section = data + 4;
  const size_t section_size = size - 4;
  const uint32_t offset =
      ((uint32_t{data[0]} << 24) | (uint32_t{data[1]} << 16) |
       (uint32_t{data[2]} << 8) | uint32_t{data[3]}) %
      static_cast<uint32_t>(section_size);
  MMDB_s mmdb{};
  mmdb.data_section = section;
  mmdb.data_section_size = static_cast<uint32_t>(section_size);
  const geo::MaxmindDecoder decoder;

  geo::DecodedFields english;
  const absl::Status english_status =
      decoder.Decode(mmdb, offset, "en", &english);
  const absl::Status walked =
      decoder.CheckWithinBudget(section, section_size, offset);
  if (english_status.ok()) {
    FUZZ_CHECK(walked.ok(), walked.ToString());
  } else {
    const std::optional<geo::RecordDecodeFailure> failure =
        geo::RecordDecodeFailureOf(english_status);
    FUZZ_CHECK(failure.has_value(), english_status.ToString());
    if (*failure != geo::RecordDecodeFailure::kInvalidData) {
      FUZZ_CHECK(geo::RecordDecodeFailureOf(walked) == failure,
                 walked.ToString());
    }
  }
  for (const char* language : {"en", "de", "", "zh-CN"}) {
    geo::DecodedFields decoded;
    bool failed_in_fields = false;
    const absl::Status status =
        decoder.Decode(mmdb, offset, language, &decoded, &failed_in_fields);
    FUZZ_CHECK(status.ok() || status.code() == absl::StatusCode::kDataLoss,
               status.ToString());
    FUZZ_CHECK(status.ok() || geo::RecordDecodeFailureOf(status).has_value(),
               status.ToString());
    // A walk failure holds for every language.
    if (!english_status.ok() && !failed_in_fields) {
      FUZZ_CHECK(!status.ok(), "walk failed in en only");
    }
    geo::DecodedFields again;
    const absl::Status repeated =
        decoder.Decode(mmdb, offset, language, &again);
    FUZZ_CHECK(SameDecode(status, decoded, repeated, again),
               repeated.ToString());
    if (status.ok() &&
        (decoded.name_languages & geo::NameLanguageBit(language)) == 0) {
      FUZZ_CHECK(english_status.ok(), english_status.ToString());
      FUZZ_CHECK(MessageDifferencer::Equals(decoded.fields, english.fields),
                 decoded.fields.ShortDebugString());
    }
  }
  // libmaxminddb's bounds checks subtract from the section's size, which
  // wraps (and reads past the end) below three bytes.
  if (section_size >= 3) {
    for (uint32_t at = 0; at < section_size; ++at) {
      const geo::testing::ValueComparison read =
          geo::testing::CompareWithLibmaxminddb(mmdb, at);
      FUZZ_CHECK(read.difference.empty(), read.difference);
    }
  }
  return 0;
}
