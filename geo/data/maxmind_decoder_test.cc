// The decoder on data sections written byte by byte: fields land where the
// API puts them, names fall back to English, pointers are followed, and a
// record that is malformed or over the budget fails with the reason.
#include "geo/data/maxmind_decoder.h"

#include <maxminddb.h>

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "geo/data/test_mmdb_writer.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace geo {
namespace {

using ::geo::testing::MmdbDataWriter;
using ::google::protobuf::util::MessageDifferencer;
using ::testing::HasSubstr;

// libmaxminddb reads values through an MMDB_s: one that views `data` as its
// data section.
MMDB_s Section(const MmdbDataWriter& data) {
  MMDB_s section{};
  section.data_section = reinterpret_cast<const uint8_t*>(data.bytes().data());
  section.data_section_size = static_cast<uint32_t>(data.bytes().size());
  return section;
}

// Decodes the record at `offset` of `data` in English with the default
// budget, for what the status says.
absl::Status DecodeStatus(const MmdbDataWriter& data, uint32_t offset) {
  DecodedFields decoded;
  return MaxmindDecoder().Decode(Section(data), offset, "en", &decoded);
}

void ExpectDecodeFailure(const absl::Status& status,
                         RecordDecodeFailure failure,
                         absl::string_view message) {
  EXPECT_EQ(RecordDecodeFailureOf(status), failure);
  EXPECT_THAT(status.message(), HasSubstr(message));
}

// {"de": german, "en": english}
void WriteNames(MmdbDataWriter* data, const std::string& german,
                const std::string& english) {
  data->Map(2).String("de").String(german).String("en").String(english);
}

// A record with a key of every kind the decoder reads at the top level.
uint32_t WriteCityRecord(MmdbDataWriter* data) {
  const uint32_t offset = data->offset();
  data->Map(9).String("continent").Map(2).String("code").String("EU");
  data->String("names");
  WriteNames(data, "Europa", "Europe");
  data->String("country")
      .Map(4)
      .String("iso_code")
      .String("DE")
      .String("geoname_id")
      .Uint32(2921044)
      .String("is_in_european_union")
      .Bool(true)
      .String("names");
  WriteNames(data, "Deutschland", "Germany");
  data->String("subdivisions")
      .Array(1)
      .Map(2)
      .String("iso_code")
      .String("BE")
      .String("names");
  WriteNames(data, "Berlin", "Land Berlin");
  data->String("city").Map(1).String("names");
  WriteNames(data, "Berlin", "Berlin");
  data->String("location")
      .Map(3)
      .String("latitude")
      .Double(52.5)
      .String("longitude")
      .Double(13.4)
      .String("time_zone")
      .String("Europe/Berlin");
  data->String("postal").Map(1).String("code").String("10115");
  data->String("traits")
      .Map(2)
      .String("is_anycast")
      .Bool(true)
      .String("is_tor_exit_node")
      .Bool(true);
  data->String("autonomous_system_number").Uint32(3320);
  data->String("isp").String("Deutsche Telekom");
  return offset;
}

TEST(MaxmindDecoderTest, DecodesEveryKindOfFieldInTheLanguageAsked) {
  MmdbDataWriter data;
  const uint32_t record = WriteCityRecord(&data);
  const MMDB_s section = Section(data);
  DecodedFields german;
  ASSERT_TRUE(MaxmindDecoder().Decode(section, record, "de", &german).ok());
  const geo::v1::LookupResponse& fields = german.fields;
  EXPECT_EQ(fields.continent().code(), "EU");
  EXPECT_EQ(fields.continent().name(), "Europa");
  EXPECT_EQ(fields.country().iso_code(), "DE");
  EXPECT_EQ(fields.country().geoname_id(), 2921044u);
  EXPECT_TRUE(fields.country().is_in_european_union());
  EXPECT_EQ(fields.country().name(), "Deutschland");
  ASSERT_EQ(fields.subdivisions_size(), 1);
  EXPECT_EQ(fields.subdivisions(0).iso_code(), "BE");
  EXPECT_EQ(fields.subdivisions(0).name(), "Berlin");
  EXPECT_EQ(fields.city().name(), "Berlin");
  EXPECT_DOUBLE_EQ(fields.location().latitude(), 52.5);
  EXPECT_DOUBLE_EQ(fields.location().longitude(), 13.4);
  EXPECT_EQ(fields.location().time_zone(), "Europe/Berlin");
  EXPECT_EQ(fields.postal().code(), "10115");
  EXPECT_TRUE(fields.traits().is_anycast());
  EXPECT_TRUE(fields.anonymizer().is_tor_exit_node());
  EXPECT_EQ(fields.autonomous_system().number(), 3320u);
  EXPECT_EQ(fields.traits().isp(), "Deutsche Telekom");
  EXPECT_TRUE(german.has_subdivisions);
  EXPECT_TRUE(german.language_found);
  EXPECT_NE(german.name_languages & NameLanguageBit("de"), 0u);
  EXPECT_NE(german.name_languages & NameLanguageBit("en"), 0u);
}

TEST(NameLanguageBitTest, TheDefaultLanguageSharesItsBitWithNoOther) {
  const uint64_t default_bit = NameLanguageBit("");
  std::string tag;
  for (char first = 'a'; first <= 'z'; ++first) {
    for (char second = 'a'; second <= 'z'; ++second) {
      for (const std::string& suffix : {"", "-BR", "-CN", "-Hant"}) {
        tag = absl::StrCat(std::string{first, second}, suffix);
        EXPECT_NE(NameLanguageBit(tag), default_bit) << tag;
      }
    }
  }
}

TEST(MaxmindDecoderTest, ALanguageWithoutNamesDecodesAsEnglish) {
  MmdbDataWriter data;
  const uint32_t record = WriteCityRecord(&data);
  const MMDB_s section = Section(data);
  const MaxmindDecoder decoder;
  DecodedFields english;
  DecodedFields french;
  ASSERT_TRUE(decoder.Decode(section, record, "en", &english).ok());
  ASSERT_TRUE(decoder.Decode(section, record, "fr", &french).ok());
  EXPECT_FALSE(french.language_found);
  EXPECT_EQ(french.fields.country().name(), "Germany");
  EXPECT_TRUE(MessageDifferencer::Equals(french.fields, english.fields))
      << french.fields.ShortDebugString();
  EXPECT_EQ(french.name_languages, english.name_languages);
}

TEST(MaxmindDecoderTest, PointersAreFollowedToSharedValues) {
  MmdbDataWriter data;
  const uint32_t country = data.offset();
  data.Map(1).String("iso_code").String("FR");
  const uint32_t pointing = data.offset();
  data.Map(2)
      .String("country")
      .Pointer(country)
      .String("registered_country")
      .Pointer(country);
  DecodedFields decoded;
  ASSERT_TRUE(
      MaxmindDecoder().Decode(Section(data), pointing, "en", &decoded).ok());
  EXPECT_EQ(decoded.fields.country().iso_code(), "FR");
  EXPECT_EQ(decoded.fields.registered_country().iso_code(), "FR");
  EXPECT_FALSE(decoded.has_subdivisions);
}

TEST(MaxmindDecoderTest, AnEmptySubdivisionsKeyStillReplaces) {
  MmdbDataWriter data;
  const uint32_t record = data.offset();
  data.Map(1).String("subdivisions").Array(0);
  DecodedFields decoded;
  ASSERT_TRUE(
      MaxmindDecoder().Decode(Section(data), record, "en", &decoded).ok());
  EXPECT_TRUE(decoded.has_subdivisions);
  EXPECT_EQ(decoded.fields.subdivisions_size(), 0);
}

TEST(MaxmindDecoderTest, AFieldOfTheWrongTypeFailsInItsFields) {
  MmdbDataWriter data;
  const uint32_t record = data.offset();
  data.Map(1).String("location").Map(1).String("latitude").String("north");
  DecodedFields decoded;
  bool failed_in_fields = false;
  const absl::Status status = MaxmindDecoder().Decode(
      Section(data), record, "en", &decoded, &failed_in_fields);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(status.message(),
              HasSubstr("location.latitude is a string, want double"));
  EXPECT_EQ(RecordDecodeFailureOf(status), RecordDecodeFailure::kInvalidData);
  EXPECT_TRUE(failed_in_fields);
}

TEST(MaxmindDecoderTest, AFlagOfTheWrongTypeIsNamedWhereItStands) {
  MmdbDataWriter data;
  const uint32_t in_traits = data.offset();
  data.Map(1).String("traits").Map(1).String("is_anycast").String("yes");
  const uint32_t at_top = data.offset();
  data.Map(1).String("is_tor_exit_node").Uint32(1);
  ExpectDecodeFailure(DecodeStatus(data, in_traits),
                      RecordDecodeFailure::kInvalidData,
                      "field traits.is_anycast is a string, want boolean");
  ExpectDecodeFailure(DecodeStatus(data, at_top),
                      RecordDecodeFailure::kInvalidData,
                      "field is_tor_exit_node is a uint32, want boolean");
}

TEST(MaxmindDecoderTest, DataPastTheSectionFailsInTheWalk) {
  MmdbDataWriter data;
  const uint32_t record = data.offset();
  data.Map(2).String("city");  // Two entries promised, one key written.
  DecodedFields decoded;
  bool failed_in_fields = true;
  const absl::Status status = MaxmindDecoder().Decode(
      Section(data), record, "en", &decoded, &failed_in_fields);
  EXPECT_EQ(RecordDecodeFailureOf(status), RecordDecodeFailure::kInvalidData);
  EXPECT_FALSE(failed_in_fields);
  // An offset outside the section.
  EXPECT_EQ(RecordDecodeFailureOf(MaxmindDecoder().Decode(
                Section(data), record + 4096, "en", &decoded)),
            RecordDecodeFailure::kInvalidData);
}

TEST(MaxmindDecoderTest, PointerFanOutStopsAtTheEntryBudget) {
  MmdbDataWriter data;
  const uint32_t bomb = testing::WritePointerFanOut(&data, 30);
  const absl::Status status = DecodeStatus(data, bomb);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  ExpectDecodeFailure(status, RecordDecodeFailure::kEntryBudget,
                      "decode budget of 4096 entries");
  // 2^7 - 1 + 2 entries: inside the default budget, over a budget of 64.
  MmdbDataWriter small;
  const uint32_t small_bomb = testing::WritePointerFanOut(&small, 6);
  EXPECT_NE(RecordDecodeFailureOf(DecodeStatus(small, small_bomb)),
            RecordDecodeFailure::kEntryBudget);
  DecodedFields decoded;
  EXPECT_EQ(RecordDecodeFailureOf(
                MaxmindDecoder(DecodeBudget{64, size_t{1} << 20})
                    .Decode(Section(small), small_bomb, "en", &decoded)),
            RecordDecodeFailure::kEntryBudget);
}

TEST(MaxmindDecoderTest, RepeatedLongStringsStopAtTheByteBudget) {
  MmdbDataWriter data;
  const uint32_t record = testing::WriteRepeatedLongStrings(&data);
  ExpectDecodeFailure(DecodeStatus(data, record),
                      RecordDecodeFailure::kByteBudget, "1048576 bytes");
}

TEST(MaxmindDecoderTest, NestingDeeperThanLibmaxminddbAllowsFails) {
  MmdbDataWriter data;
  const uint32_t record = data.offset();
  data.Map(1).String("city");
  for (int i = 0; i < 600; ++i) data.Array(1);
  data.Uint32(1);
  ExpectDecodeFailure(DecodeStatus(data, record),
                      RecordDecodeFailure::kInvalidData, "deeper than 512");
}

TEST(MaxmindDecoderTest, CheckWithinBudgetWalksWithoutReadingFields) {
  MmdbDataWriter data;
  // Fields of the wrong shape are no concern of the walk.
  const uint32_t odd = data.offset();
  data.Map(1).String("city").Uint32(7);
  const uint32_t bomb = testing::WritePointerFanOut(&data, 30);
  const auto* bytes = reinterpret_cast<const uint8_t*>(data.bytes().data());
  const MaxmindDecoder decoder;
  EXPECT_TRUE(decoder.CheckWithinBudget(bytes, data.bytes().size(), odd).ok());
  EXPECT_EQ(RecordDecodeFailureOf(
                decoder.CheckWithinBudget(bytes, data.bytes().size(), bomb)),
            RecordDecodeFailure::kEntryBudget);
}

TEST(RecordDecodeFailureTest, SurvivesAddedContextAndOnlyMarksDecodeErrors) {
  MmdbDataWriter data;
  const uint32_t bomb = testing::WritePointerFanOut(&data, 20);
  const absl::Status status = DecodeStatus(data, bomb);
  absl::Status wrapped(status.code(),
                       absl::StrCat("lookup of 10.0.0.1: ", status.message()));
  status.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
    wrapped.SetPayload(url, payload);
  });
  EXPECT_EQ(RecordDecodeFailureOf(wrapped), RecordDecodeFailure::kEntryBudget);
  EXPECT_EQ(RecordDecodeFailureOf(absl::DataLossError("tree damaged")),
            std::nullopt);
  EXPECT_EQ(RecordDecodeFailureOf(absl::OkStatus()), std::nullopt);
  EXPECT_EQ(RecordDecodeFailureName(RecordDecodeFailure::kByteBudget),
            "byte_budget");
}

}  // namespace
}  // namespace geo
