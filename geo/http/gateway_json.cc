#include "geo/http/gateway_json.h"

#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"

namespace geo::http {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Code points at or above U+0080 that the library prints unescaped and we do
// too. Outside these ranges it escapes some characters (C1 controls, U+00AD,
// format characters such as U+200B-U+200F, U+2028-U+202E, U+FEFF); rather than
// mirror that table, anything else sends the message to the library printer.
// The ranges cover the scripts of MaxMind's name languages (Latin, Greek,
// Cyrillic, kana, CJK ideographs, Hangul).
bool PrintedVerbatim(uint32_t code_point) {
  return (code_point >= 0xA0 && code_point <= 0x5FF && code_point != 0xAD) ||
         (code_point >= 0x3000 && code_point <= 0xD7FF);
}

// Appends `text` as a JSON string the way the library escapes it; false on
// a character outside what we reproduce (see PrintedVerbatim) or bad UTF-8.
bool AppendString(absl::string_view text, std::string* out) {
  out->push_back('"');
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out->append("\\\"");
          break;
        case '\\':
          out->append("\\\\");
          break;
        // For HTML safety, as the library does.
        case '<':
          out->append("\\u003c");
          break;
        case '>':
          out->append("\\u003e");
          break;
        case '\b':
          out->append("\\b");
          break;
        case '\t':
          out->append("\\t");
          break;
        case '\n':
          out->append("\\n");
          break;
        case '\f':
          out->append("\\f");
          break;
        case '\r':
          out->append("\\r");
          break;
        default:
          if (c < 0x20) {
            static constexpr char kHex[] = "0123456789abcdef";
            out->append("\\u00");
            out->push_back(kHex[c >> 4]);
            out->push_back(kHex[c & 0xF]);
          } else if (c == 0x7F) {
            return false;
          } else {
            out->push_back(static_cast<char>(c));
          }
      }
      continue;
    }
    // Two- and three-byte UTF-8 sequences only (the verbatim ranges lie
    // below U+10000).
    uint32_t code_point = 0;
    size_t length = 0;
    if ((c & 0xE0) == 0xC0) {
      code_point = c & 0x1F;
      length = 2;
    } else if ((c & 0xF0) == 0xE0) {
      code_point = c & 0x0F;
      length = 3;
    } else {
      return false;
    }
    if (i + length > text.size()) return false;
    for (size_t k = 1; k < length; ++k) {
      const unsigned char next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code_point = (code_point << 6) | (next & 0x3F);
    }
    // Overlong forms never land in the verbatim ranges for their length.
    if (!PrintedVerbatim(code_point) || (length == 3 && code_point < 0x800)) {
      return false;
    }
    out->append(text.data() + i, length);
    i += length - 1;
  }
  out->push_back('"');
  return true;
}

// The library's SimpleDtoa: the shortest of %.15g and %.17g that reads back
// as the same double.
bool AppendDouble(double value, std::string* out) {
  if (!std::isfinite(value)) return false;
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.*g", DBL_DIG, value);
  if (std::strtod(buffer, nullptr) != value) {
    std::snprintf(buffer, sizeof buffer, "%.*g", DBL_DIG + 2, value);
  }
  out->append(buffer);
  return true;
}

bool AppendMessage(const Message& message, std::string* out);

bool AppendValue(const Message& message, const Reflection& reflection,
                 const FieldDescriptor& field, int index, std::string* out) {
  const bool repeated = index >= 0;
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      absl::StrAppend(
          out, repeated ? reflection.GetRepeatedInt32(message, &field, index)
                        : reflection.GetInt32(message, &field));
      return true;
    case FieldDescriptor::CPPTYPE_UINT32:
      absl::StrAppend(
          out, repeated ? reflection.GetRepeatedUInt32(message, &field, index)
                        : reflection.GetUInt32(message, &field));
      return true;
    // 64-bit integers are strings in the JSON mapping.
    case FieldDescriptor::CPPTYPE_INT64:
      absl::StrAppend(out, "\"",
                      repeated
                          ? reflection.GetRepeatedInt64(message, &field, index)
                          : reflection.GetInt64(message, &field),
                      "\"");
      return true;
    case FieldDescriptor::CPPTYPE_UINT64:
      absl::StrAppend(out, "\"",
                      repeated
                          ? reflection.GetRepeatedUInt64(message, &field, index)
                          : reflection.GetUInt64(message, &field),
                      "\"");
      return true;
    case FieldDescriptor::CPPTYPE_BOOL:
      out->append((repeated ? reflection.GetRepeatedBool(message, &field, index)
                            : reflection.GetBool(message, &field))
                      ? "true"
                      : "false");
      return true;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return AppendDouble(
          repeated ? reflection.GetRepeatedDouble(message, &field, index)
                   : reflection.GetDouble(message, &field),
          out);
    case FieldDescriptor::CPPTYPE_STRING: {
      if (field.type() == FieldDescriptor::TYPE_BYTES) return false;
      std::string scratch;
      const std::string& text =
          repeated ? reflection.GetRepeatedStringReference(message, &field,
                                                           index, &scratch)
                   : reflection.GetStringReference(message, &field, &scratch);
      return AppendString(text, out);
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return AppendMessage(
          repeated ? reflection.GetRepeatedMessage(message, &field, index)
                   : reflection.GetMessage(message, &field),
          out);
    default:  // float, enum
      return false;
  }
}

bool AppendMessage(const Message& message, std::string* out) {
  const Descriptor& descriptor = *message.GetDescriptor();
  // Well-known types have their own JSON forms.
  if (descriptor.file()->package() == "google.protobuf") return false;
  // proto2 field presence changes what "unpopulated" means; ours are proto3.
  if (descriptor.file()->syntax() !=
      google::protobuf::FileDescriptor::SYNTAX_PROTO3) {
    return false;
  }
  const Reflection& reflection = *message.GetReflection();
  out->push_back('{');
  bool first = true;
  // Declaration order, as the library prints.
  for (int i = 0; i < descriptor.field_count(); ++i) {
    const FieldDescriptor& field = *descriptor.field(i);
    // Maps and oneofs (proto3 `optional` included) print differently.
    if (field.is_map() || field.containing_oneof() != nullptr) return false;
    const bool is_message = field.message_type() != nullptr;
    if (!field.is_repeated() && is_message &&
        !reflection.HasField(message, &field)) {
      continue;  // Unset message fields are omitted.
    }
    if (!first) out->push_back(',');
    first = false;
    out->push_back('"');
    out->append(field.json_name());
    out->append("\":");
    if (field.is_repeated()) {
      const int size = reflection.FieldSize(message, &field);
      if (size > 0 && is_message &&
          field.message_type()->file()->package() == "google.protobuf") {
        return false;
      }
      out->push_back('[');
      for (int k = 0; k < size; ++k) {
        if (k > 0) out->push_back(',');
        if (!AppendValue(message, reflection, field, k, out)) return false;
      }
      out->push_back(']');
    } else if (!AppendValue(message, reflection, field, -1, out)) {
      return false;
    }
  }
  out->push_back('}');
  return true;
}

}  // namespace

bool AppendGatewayJson(const google::protobuf::Message& message,
                       std::string* out) {
  const size_t start = out->size();
  if (AppendMessage(message, out)) return true;
  out->resize(start);
  return false;
}

}  // namespace geo::http
