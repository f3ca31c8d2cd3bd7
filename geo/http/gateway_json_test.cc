#include "geo/http/gateway_json.h"

#include <cmath>
#include <limits>
#include <random>
#include <string>

#include "api/geo/v1/geo.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"

namespace geo::http {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// The reference: the library printer with grpc-gateway's options.
std::string LibraryJson(const Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = false;
  std::string json;
  EXPECT_TRUE(
      google::protobuf::util::MessageToJsonString(message, &json, options)
          .ok());
  return json;
}

// Strings from an alphabet of what names, codes and errors hold, and what a
// JSON writer gets wrong: quotes, backslashes, HTML characters, controls,
// Latin/Cyrillic/CJK/Hangul, and characters the library escapes or we decline
// (U+00AD, U+200B, U+2028, U+FEFF, emoji, DEL).
std::string RandomString(std::mt19937* random) {
  static const char* const kPieces[] = {"a",
                                        "Z",
                                        "0",
                                        " ",
                                        "-",
                                        "/",
                                        "\"",
                                        "\\",
                                        "<",
                                        ">",
                                        "&",
                                        "'",
                                        "=",
                                        "\n",
                                        "\t",
                                        "\r",
                                        "\b",
                                        "\f",
                                        "\x01",
                                        "\x1f",
                                        "\x7f",
                                        "é",
                                        "ü",
                                        "ß",
                                        "Ж",
                                        "я",
                                        "東",
                                        "京",
                                        "ヶ",
                                        "・",
                                        "한",
                                        "\xc2\xa0",
                                        "\xc2\xad",
                                        "\xe2\x80\x8b",
                                        "\xe2\x80\xa8",
                                        "\xef\xbb\xbf",
                                        "\xf0\x9f\x98\x80",
                                        "München",
                                        "São Paulo"};
  std::string text;
  const int length = static_cast<int>((*random)() % 8);
  for (int i = 0; i < length; ++i) {
    text += kPieces[(*random)() % (sizeof kPieces / sizeof kPieces[0])];
  }
  return text;
}

double RandomDouble(std::mt19937* random) {
  switch ((*random)() % 6) {
    case 0:
      return 0;
    case 1:
      return static_cast<double>(static_cast<int>((*random)() % 2000) - 1000);
    case 2:
      return std::uniform_real_distribution<double>(-180, 180)(*random);
    case 3:
      return static_cast<int>((*random)() % 1800000) / 10000.0 - 90;
    case 4:
      return std::ldexp(static_cast<double>((*random)()),
                        static_cast<int>((*random)() % 200) - 100);
    default:
      return std::numeric_limits<double>::quiet_NaN();
  }
}

// Sets a random subset of fields, recursively.
void Fill(Message* message, std::mt19937* random, int depth) {
  const Descriptor& descriptor = *message->GetDescriptor();
  const Reflection& reflection = *message->GetReflection();
  for (int i = 0; i < descriptor.field_count(); ++i) {
    const FieldDescriptor* field = descriptor.field(i);
    if ((*random)() % 3 == 0) continue;
    const int count =
        field->is_repeated() ? static_cast<int>((*random)() % 3) : 1;
    for (int k = 0; k < count; ++k) {
      const bool repeated = field->is_repeated();
      switch (field->cpp_type()) {
        case FieldDescriptor::CPPTYPE_INT32: {
          const int32_t v = static_cast<int32_t>((*random)());
          repeated ? reflection.AddInt32(message, field, v)
                   : reflection.SetInt32(message, field, v);
          break;
        }
        case FieldDescriptor::CPPTYPE_UINT32: {
          const uint32_t v = (*random)() >> ((*random)() % 32);
          repeated ? reflection.AddUInt32(message, field, v)
                   : reflection.SetUInt32(message, field, v);
          break;
        }
        case FieldDescriptor::CPPTYPE_INT64: {
          const int64_t v = static_cast<int64_t>(
              (static_cast<uint64_t>((*random)()) << 32) | (*random)());
          repeated ? reflection.AddInt64(message, field, v)
                   : reflection.SetInt64(message, field, v);
          break;
        }
        case FieldDescriptor::CPPTYPE_BOOL: {
          const bool v = (*random)() % 2;
          repeated ? reflection.AddBool(message, field, v)
                   : reflection.SetBool(message, field, v);
          break;
        }
        case FieldDescriptor::CPPTYPE_DOUBLE: {
          const double v = RandomDouble(random);
          repeated ? reflection.AddDouble(message, field, v)
                   : reflection.SetDouble(message, field, v);
          break;
        }
        case FieldDescriptor::CPPTYPE_STRING: {
          const std::string v = RandomString(random);
          repeated ? reflection.AddString(message, field, v)
                   : reflection.SetString(message, field, v);
          break;
        }
        case FieldDescriptor::CPPTYPE_MESSAGE:
          // Any (google.rpc.Status details) stays empty: the library needs a
          // type resolver for its content.
          if (depth < 3 &&
              field->message_type()->full_name() != "google.protobuf.Any") {
            Fill(repeated ? reflection.AddMessage(message, field)
                          : reflection.MutableMessage(message, field),
                 random, depth + 1);
          }
          break;
        default:
          break;
      }
    }
  }
}

template <typename T>
void ExpectSameAsLibrary(int rounds, uint32_t seed, int* fast_count) {
  std::mt19937 random(seed);
  for (int round = 0; round < rounds; ++round) {
    T message;
    Fill(&message, &random, 0);
    std::string fast;
    if (AppendGatewayJson(message, &fast)) {
      ++*fast_count;
      ASSERT_EQ(fast, LibraryJson(message)) << message.ShortDebugString();
    } else {
      EXPECT_TRUE(fast.empty());
    }
  }
}

TEST(GatewayJsonTest, PrintsWhatTheLibraryPrintsOrDeclines) {
  int fast = 0;
  ExpectSameAsLibrary<geo::v1::LookupResponse>(3000, 1, &fast);
  ExpectSameAsLibrary<geo::v1::BatchLookupResponse>(500, 2, &fast);
  ExpectSameAsLibrary<geo::v1::CheckResponse>(1000, 3, &fast);
  ExpectSameAsLibrary<geo::v1::ListDatabasesResponse>(1000, 4, &fast);
  ExpectSameAsLibrary<google::rpc::Status>(1000, 5, &fast);
  // Most random messages take the fast path (the rest hold a declined
  // character or NaN).
  EXPECT_GT(fast, 1000);
}

TEST(GatewayJsonTest, UnpopulatedFieldsAndTypicalRecord) {
  geo::v1::LookupResponse response;
  std::string json;
  ASSERT_TRUE(AppendGatewayJson(response, &json));
  EXPECT_EQ(json, LibraryJson(response));
  EXPECT_EQ(json, R"({"ip":"","network":"","found":false,"subdivisions":[]})");

  response.set_ip("81.2.69.160");
  response.set_network("81.2.69.128/25");
  response.set_found(true);
  response.mutable_country()->set_iso_code("GB");
  response.mutable_country()->set_name("Vereinigtes Königreich");
  response.mutable_city()->set_name("東京");
  response.mutable_location()->set_latitude(51.5142);
  response.mutable_location()->set_longitude(-0.0931);
  response.mutable_location()->set_time_zone("Europe/London");
  response.add_subdivisions()->set_iso_code("ENG");
  json.clear();
  ASSERT_TRUE(AppendGatewayJson(response, &json));
  EXPECT_EQ(json, LibraryJson(response));
}

TEST(GatewayJsonTest, DeclinesWithoutTouchingOutput) {
  geo::v1::LookupResponse response;
  response.mutable_city()->set_name("zero\xe2\x80\x8bwidth");
  std::string json = "prefix";
  EXPECT_FALSE(AppendGatewayJson(response, &json));
  EXPECT_EQ(json, "prefix");
  response.mutable_city()->set_name("ok");
  response.mutable_location()->set_latitude(
      std::numeric_limits<double>::infinity());
  EXPECT_FALSE(AppendGatewayJson(response, &json));
  EXPECT_EQ(json, "prefix");
}

}  // namespace
}  // namespace geo::http
