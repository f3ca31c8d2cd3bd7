#include "geo/http/grpc_gateway_mapping.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/status.pb.h"

namespace geo::http {

int HttpStatusFromGrpcCode(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kCancelled:
      return 499;
    case absl::StatusCode::kUnknown:
      return 500;
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
      return 409;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kFailedPrecondition:
      return 400;
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kInternal:
      return 500;
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kDataLoss:
      return 500;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    default:
      return 500;
  }
}

int HttpStatusFromGrpcCode(grpc::StatusCode code) {
  // gRPC and absl share the numbering of the canonical codes.
  return HttpStatusFromGrpcCode(static_cast<absl::StatusCode>(code));
}

std::string GatewayErrorBody(absl::StatusCode code, absl::string_view message) {
  google::rpc::Status status;
  status.set_code(static_cast<int32_t>(code));
  status.set_message(std::string(message));
  return MessageToGatewayJson(status);
}

std::string GatewayErrorBody(const absl::Status& status) {
  return GatewayErrorBody(status.code(), status.message());
}

HttpErrorBody GatewayHttpErrorBody(absl::StatusCode code,
                                   absl::string_view message) {
  HttpErrorBody error;
  error.content_type = "application/json";
  error.body = GatewayErrorBody(code, message);
  return error;
}

namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// A JSON string as Go's protojson writes it: only '"', '\\' and control
// characters are escaped (\b \f \n \r \t, else \u00XX); everything else,
// '<', '>', '&' and non-ASCII included, is copied as is.
void AppendJsonString(absl::string_view text, std::string* out) {
  out->push_back('"');
  size_t copied = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(text.data() + copied, i - copied);
    copied = i + 1;
    // The characters with a two-character escape, and the letter after
    // the backslash of each; the rest are written \u00XX.
    constexpr absl::string_view kShortEscaped = "\"\\\b\f\n\r\t";
    constexpr absl::string_view kShortEscapeLetters = "\"\\bfnrt";
    const size_t short_escape = kShortEscaped.find(static_cast<char>(c));
    if (short_escape != absl::string_view::npos) {
      const char escaped[] = {'\\', kShortEscapeLetters[short_escape]};
      out->append(escaped, sizeof escaped);
    } else {
      constexpr char kHex[] = "0123456789abcdef";
      const char escaped[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
      out->append(escaped, sizeof escaped);
    }
  }
  out->append(text.data() + copied, text.size() - copied);
  out->push_back('"');
}

// A float or double as protojson writes it: the shortest text that reads
// back as the same value, in fixed notation unless the magnitude is below
// 1e-6 or at least 1e21 (then e-notation, "1e-07" shortened to "1e-7");
// NaN and infinities as quoted names.
template <typename Float>
void AppendJsonFloat(Float value, std::string* out) {
  if (std::isnan(value)) {
    out->append("\"NaN\"");
    return;
  }
  if (std::isinf(value)) {
    out->append(value > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    return;
  }
  const Float magnitude = std::fabs(value);
  const bool scientific =
      magnitude != 0 && (magnitude < Float(1e-6) || magnitude >= Float(1e21));
  char text[64];
  const auto [end, error] = std::to_chars(
      text, text + sizeof text, value,
      scientific ? std::chars_format::scientific : std::chars_format::fixed);
  size_t length = error == std::errc() ? static_cast<size_t>(end - text) : 0;
  if (scientific && length >= 4 && text[length - 4] == 'e' &&
      text[length - 3] == '-' && text[length - 2] == '0') {
    text[length - 2] = text[length - 1];
    --length;
  }
  out->append(text, length);
}

void AppendMessageJson(const Message& message, std::string* out);

// One value of `field` (element `index` when repeated, -1 when singular).
void AppendValueJson(const Message& message, const FieldDescriptor* field,
                     int index, std::string* out) {
  const Reflection* reflection = message.GetReflection();
  const bool repeated = index >= 0;
  // The value through Reflection's getter for a singular field or its
  // getter for a repeated one.
  const auto value = [&](auto get, auto get_repeated) {
    return repeated ? (reflection->*get_repeated)(message, field, index)
                    : (reflection->*get)(message, field);
  };
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      absl::StrAppend(
          out, value(&Reflection::GetInt32, &Reflection::GetRepeatedInt32));
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
      absl::StrAppend(
          out, value(&Reflection::GetUInt32, &Reflection::GetRepeatedUInt32));
      break;
    // 64-bit integers are strings in protojson.
    case FieldDescriptor::CPPTYPE_INT64:
      absl::StrAppend(
          out, "\"",
          value(&Reflection::GetInt64, &Reflection::GetRepeatedInt64), "\"");
      break;
    case FieldDescriptor::CPPTYPE_UINT64:
      absl::StrAppend(
          out, "\"",
          value(&Reflection::GetUInt64, &Reflection::GetRepeatedUInt64), "\"");
      break;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      AppendJsonFloat(
          value(&Reflection::GetDouble, &Reflection::GetRepeatedDouble), out);
      break;
    case FieldDescriptor::CPPTYPE_FLOAT:
      AppendJsonFloat(
          value(&Reflection::GetFloat, &Reflection::GetRepeatedFloat), out);
      break;
    case FieldDescriptor::CPPTYPE_BOOL:
      out->append(value(&Reflection::GetBool, &Reflection::GetRepeatedBool)
                      ? "true"
                      : "false");
      break;
    case FieldDescriptor::CPPTYPE_ENUM: {
      const int number =
          value(&Reflection::GetEnumValue, &Reflection::GetRepeatedEnumValue);
      if (field->enum_type()->full_name() == "google.protobuf.NullValue") {
        out->append("null");
        break;
      }
      const auto* enum_value = field->enum_type()->FindValueByNumber(number);
      if (enum_value != nullptr) {
        AppendJsonString(enum_value->name(), out);
      } else {
        absl::StrAppend(out, number);  // An unknown value: its number.
      }
      break;
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string scratch;
      const std::string& text =
          repeated ? reflection->GetRepeatedStringReference(message, field,
                                                            index, &scratch)
                   : reflection->GetStringReference(message, field, &scratch);
      if (field->type() == FieldDescriptor::TYPE_BYTES) {
        out->push_back('"');
        out->append(absl::Base64Escape(text));
        out->push_back('"');
      } else {
        AppendJsonString(text, out);
      }
      break;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      AppendMessageJson(
          repeated ? reflection->GetRepeatedMessage(message, field, index)
                   : reflection->GetMessage(message, field),
          out);
      break;
  }
}

// A map field as protojson writes it: an object keyed by the keys' text,
// in key order (false before true, numbers ascending, strings by code point).
void AppendMapJson(const Message& message, const FieldDescriptor* field,
                   std::string* out) {
  const Reflection* reflection = message.GetReflection();
  const FieldDescriptor* key_field = field->message_type()->map_key();
  const FieldDescriptor* value_field = field->message_type()->map_value();
  struct Entry {
    const Message* entry;
    std::string text;
    int64_t signed_key = 0;
    uint64_t unsigned_key = 0;
  };
  std::vector<Entry> entries;
  const int size = reflection->FieldSize(message, field);
  entries.reserve(size);
  for (int i = 0; i < size; ++i) {
    const Message& entry = reflection->GetRepeatedMessage(message, field, i);
    const Reflection* entry_reflection = entry.GetReflection();
    Entry item{&entry, ""};
    switch (key_field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        item.text = entry_reflection->GetString(entry, key_field);
        break;
      case FieldDescriptor::CPPTYPE_BOOL:
        item.unsigned_key = entry_reflection->GetBool(entry, key_field);
        item.text = item.unsigned_key ? "true" : "false";
        break;
      case FieldDescriptor::CPPTYPE_INT32:
        item.signed_key = entry_reflection->GetInt32(entry, key_field);
        item.text = absl::StrCat(item.signed_key);
        break;
      case FieldDescriptor::CPPTYPE_INT64:
        item.signed_key = entry_reflection->GetInt64(entry, key_field);
        item.text = absl::StrCat(item.signed_key);
        break;
      case FieldDescriptor::CPPTYPE_UINT32:
        item.unsigned_key = entry_reflection->GetUInt32(entry, key_field);
        item.text = absl::StrCat(item.unsigned_key);
        break;
      default:
        item.unsigned_key = entry_reflection->GetUInt64(entry, key_field);
        item.text = absl::StrCat(item.unsigned_key);
        break;
    }
    entries.push_back(std::move(item));
  }
  const auto cpp_type = key_field->cpp_type();
  std::sort(entries.begin(), entries.end(),
            [cpp_type](const Entry& a, const Entry& b) {
              switch (cpp_type) {
                case FieldDescriptor::CPPTYPE_STRING:
                  return a.text < b.text;
                case FieldDescriptor::CPPTYPE_INT32:
                case FieldDescriptor::CPPTYPE_INT64:
                  return a.signed_key < b.signed_key;
                default:
                  return a.unsigned_key < b.unsigned_key;
              }
            });
  out->push_back('{');
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendJsonString(entries[i].text, out);
    out->push_back(':');
    AppendValueJson(*entries[i].entry, value_field, -1, out);
  }
  out->push_back('}');
}

// A well-known type (Any, Timestamp, Struct, wrappers, ...) has a JSON form
// of its own; protobuf's printer writes it.
bool IsWellKnownType(const Descriptor* descriptor) {
  return descriptor->file()->package() == "google.protobuf";
}

// A message as protojson with EmitUnpopulated writes it: fields in
// declaration order under their JSON names; an unset singular message field
// is null; an unset field of a oneof (proto3 `optional` included) is left
// out; other unset fields print their default; repeated fields are lists.
void AppendMessageJson(const Message& message, std::string* out) {
  const Descriptor* descriptor = message.GetDescriptor();
  if (IsWellKnownType(descriptor)) {
    google::protobuf::util::JsonPrintOptions options;
    options.always_print_primitive_fields = true;
    std::string json;
    if (google::protobuf::util::MessageToJsonString(message, &json, options)
            .ok()) {
      out->append(json);
    } else {
      out->append("null");
    }
    return;
  }
  const Reflection* reflection = message.GetReflection();
  out->push_back('{');
  bool first = true;
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    const bool is_message =
        field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE;
    if (!field->is_repeated() && field->containing_oneof() != nullptr &&
        !reflection->HasField(message, field)) {
      continue;
    }
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(field->json_name(), out);
    out->push_back(':');
    if (field->is_map()) {
      AppendMapJson(message, field, out);
    } else if (field->is_repeated()) {
      out->push_back('[');
      const int size = reflection->FieldSize(message, field);
      for (int j = 0; j < size; ++j) {
        if (j > 0) out->push_back(',');
        AppendValueJson(message, field, j, out);
      }
      out->push_back(']');
    } else if (is_message && !reflection->HasField(message, field)) {
      out->append("null");
    } else {
      AppendValueJson(message, field, -1, out);
    }
  }
  out->push_back('}');
}

}  // namespace

std::string MessageToGatewayJson(const google::protobuf::Message& message) {
  std::string json;
  AppendMessageJson(message, &json);
  return json;
}

absl::Status GatewayJsonToMessage(absl::string_view body,
                                  google::protobuf::Message* message) {
  message->Clear();
  if (body.find_first_not_of(" \t\r\n") == absl::string_view::npos) {
    return absl::OkStatus();
  }
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(body.data(), body.size()), message,
      options);
  if (!status.ok()) {
    message->Clear();
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid JSON request body: ", status.message().ToString()));
  }
  return absl::OkStatus();
}

}  // namespace geo::http
