#include "geo/http/grpc_gateway_mapping.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
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

// The JSON being written, appended to a string through a pointer: the
// string is grown ahead of the writes (at least doubling, and first to its
// capacity) and cut back to what was written when the JsonOutput goes away.
// Each write is then a bounds check and a copy, with no call into the
// string.
class JsonOutput {
 public:
  explicit JsonOutput(std::string* out) : out_(out), used_(out->size()) {}
  JsonOutput(const JsonOutput&) = delete;
  JsonOutput& operator=(const JsonOutput&) = delete;
  ~JsonOutput() { out_->resize(used_); }

  // Where the next character goes, with room for `size` of them; the
  // writer says where it stopped with Commit.
  char* Room(size_t size) {
    if (out_->size() - used_ < size) {
      out_->resize(
          std::max({2 * out_->size(), used_ + size, out_->capacity()}));
    }
    return out_->data() + used_;
  }
  void Commit(const char* end) {
    used_ = static_cast<size_t>(end - out_->data());
  }

  void Append(absl::string_view text) {
    char* at = Room(text.size());
    std::memcpy(at, text.data(), text.size());
    used_ += text.size();
  }
  void Append(char c) {
    *Room(1) = c;
    ++used_;
  }

 private:
  std::string* const out_;
  size_t used_;  // out_'s characters past this one are not written yet.
};

// Whether protojson escapes `c` in a string: '"', '\\' and controls.
bool NeedsJsonEscape(unsigned char c) {
  return c < 0x20 || c == '"' || c == '\\';
}

// A JSON string as Go's protojson writes it: only '"', '\\' and control
// characters are escaped (\b \f \n \r \t, else \u00XX); everything else,
// '<', '>', '&' and non-ASCII included, is copied as is.
void AppendJsonString(absl::string_view text, JsonOutput* out) {
  size_t copied = 0;
  while (copied < text.size() &&
         !NeedsJsonEscape(static_cast<unsigned char>(text[copied]))) {
    ++copied;
  }
  if (copied == text.size()) {  // Nothing to escape: one copy.
    char* at = out->Room(text.size() + 2);
    *at++ = '"';
    std::memcpy(at, text.data(), text.size());
    at += text.size();
    *at++ = '"';
    out->Commit(at);
    return;
  }
  out->Append('"');
  out->Append(text.substr(0, copied));
  for (size_t i = copied; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (!NeedsJsonEscape(c)) continue;
    out->Append(text.substr(copied, i - copied));
    copied = i + 1;
    // The characters with a two-character escape, and the letter after
    // the backslash of each; the rest are written \u00XX.
    constexpr absl::string_view kShortEscaped = "\"\\\b\f\n\r\t";
    constexpr absl::string_view kShortEscapeLetters = "\"\\bfnrt";
    const size_t short_escape = kShortEscaped.find(static_cast<char>(c));
    if (short_escape != absl::string_view::npos) {
      const char escaped[] = {'\\', kShortEscapeLetters[short_escape]};
      out->Append(absl::string_view(escaped, sizeof escaped));
    } else {
      constexpr char kHex[] = "0123456789abcdef";
      const char escaped[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
      out->Append(absl::string_view(escaped, sizeof escaped));
    }
  }
  out->Append(text.substr(copied));
  out->Append('"');
}

// `prefix`, then an integer's decimal text, in quotes when `quoted` (64-bit
// integers are strings in protojson).
template <typename Integer>
void AppendJsonInteger(absl::string_view prefix, Integer value, bool quoted,
                       JsonOutput* out) {
  constexpr size_t kMaxDigits = 20;  // With the sign.
  char* at = out->Room(prefix.size() + kMaxDigits + 2);
  std::memcpy(at, prefix.data(), prefix.size());
  at += prefix.size();
  if (quoted) *at++ = '"';
  at = std::to_chars(at, at + kMaxDigits, value).ptr;
  if (quoted) *at++ = '"';
  out->Commit(at);
}

// A float or double as protojson writes it: the shortest text that reads
// back as the same value, in fixed notation unless the magnitude is below
// 1e-6 or at least 1e21 (then e-notation, "1e-07" shortened to "1e-7");
// NaN and infinities as quoted names.
template <typename Float>
void AppendJsonFloat(Float value, JsonOutput* out) {
  if (std::isnan(value)) {
    out->Append("\"NaN\"");
    return;
  }
  if (std::isinf(value)) {
    out->Append(value > 0 ? "\"Infinity\"" : "\"-Infinity\"");
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
  out->Append(absl::string_view(text, length));
}

// How one value of a field is written, decided once per field.
enum class ValueKind : uint8_t {
  // The scalars, numbered as the FieldDescriptor::CppType each is read as.
  kInt32 = FieldDescriptor::CPPTYPE_INT32,
  kInt64 = FieldDescriptor::CPPTYPE_INT64,  // A string in protojson.
  kUInt32 = FieldDescriptor::CPPTYPE_UINT32,
  kUInt64 = FieldDescriptor::CPPTYPE_UINT64,  // A string in protojson.
  kDouble = FieldDescriptor::CPPTYPE_DOUBLE,
  kFloat = FieldDescriptor::CPPTYPE_FLOAT,
  kBool = FieldDescriptor::CPPTYPE_BOOL,
  // The rest, past the CppType numbers.
  kEnum = FieldDescriptor::MAX_CPPTYPE + 1,  // By name, else its number.
  kNullValue,  // google.protobuf.NullValue: always `null`.
  kString,
  kBytes,  // Base64.
  kMessage,
  kWellKnownMessage,  // Any, Timestamp, Struct, wrappers, ...: their own JSON.
};

struct MessagePlan;

// What writes one value of a field: the field, its kind and, for a message,
// the plan of its type.
struct ValuePlan {
  const FieldDescriptor* field = nullptr;
  ValueKind kind = ValueKind::kInt32;
  const MessagePlan* message = nullptr;  // Set for kMessage only.
};

// Where protojson with EmitUnpopulated differs by field: which members are
// written when unset, and how.
enum class FieldShape : uint8_t {
  kSingular,        // Always written; unset prints the default.
  kOmittedIfUnset,  // A field of a oneof (proto3 `optional` too).
  kNullIfUnset,     // A singular message field.
  kRepeated,        // A list, `[]` when empty.
  kMap,             // An object in key order.
};

struct FieldPlan {
  const FieldDescriptor* field = nullptr;
  // `,"jsonName":`, the name escaped; the first member written drops the
  // comma.
  std::string member_prefix;
  FieldShape shape = FieldShape::kSingular;
  // The field's value (a map's: the entry's value field).
  ValuePlan value;
  const FieldDescriptor* map_key = nullptr;  // Set for kMap only.
};

// Everything about writing a message type that does not depend on the
// message: fixed per type, so it is built once per type and shared by all
// threads (read-only after the build, but for the size hint).
struct MessagePlan {
  const Descriptor* descriptor = nullptr;
  // The Reflection of the generated C++ class of the type, null when it has
  // none. A message of a generated class holds only generated sub-messages,
  // so a walk that starts at one takes each sub-message's Reflection from
  // its plan instead of asking the message (a virtual call that checks the
  // descriptors are assigned, every time). Any other message of the type (a
  // DynamicMessage) has a Reflection of its own and is asked.
  const Reflection* generated_reflection = nullptr;
  bool well_known = false;
  std::vector<FieldPlan> fields;
  // The size of the last JSON of this type written as a whole document: the
  // next one reserves it. Only a hint; relaxed.
  mutable std::atomic<size_t> last_json_size{0};
};

// A well-known type has a JSON form of its own; protobuf's printer writes
// it.
bool IsWellKnownType(const Descriptor* descriptor) {
  return descriptor->file()->package() == "google.protobuf";
}

// The plans of one message type and of every type its fields reach (cycles
// included), owning them all.
class PlanSet {
 public:
  explicit PlanSet(const Descriptor* descriptor) : root_(PlanOf(descriptor)) {}

  const MessagePlan& root() const { return *root_; }

 private:
  const MessagePlan* PlanOf(const Descriptor* descriptor) {
    std::unique_ptr<MessagePlan>& slot = plans_[descriptor];
    if (slot != nullptr) return slot.get();
    slot = std::make_unique<MessagePlan>();
    // `slot` may move when the recursion below adds plans; the plan does not.
    MessagePlan* plan = slot.get();
    plan->descriptor = descriptor;
    const Message* prototype =
        google::protobuf::MessageFactory::generated_factory()->GetPrototype(
            descriptor);
    if (prototype != nullptr) {
      plan->generated_reflection = prototype->GetReflection();
    }
    plan->well_known = IsWellKnownType(descriptor);
    if (plan->well_known) return plan;
    plan->fields.reserve(descriptor->field_count());
    for (int i = 0; i < descriptor->field_count(); ++i) {
      const FieldDescriptor* field = descriptor->field(i);
      FieldPlan field_plan;
      field_plan.field = field;
      {
        JsonOutput prefix(&field_plan.member_prefix);
        prefix.Append(',');
        AppendJsonString(field->json_name(), &prefix);
        prefix.Append(':');
      }
      if (field->is_map()) {
        field_plan.shape = FieldShape::kMap;
        field_plan.map_key = field->message_type()->map_key();
        field_plan.value = ValuePlanOf(field->message_type()->map_value());
      } else {
        if (field->is_repeated()) {
          field_plan.shape = FieldShape::kRepeated;
        } else if (field->containing_oneof() != nullptr) {
          field_plan.shape = FieldShape::kOmittedIfUnset;
        } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
          field_plan.shape = FieldShape::kNullIfUnset;
        }
        field_plan.value = ValuePlanOf(field);
      }
      plan->fields.push_back(std::move(field_plan));
    }
    return plan;
  }

  ValuePlan ValuePlanOf(const FieldDescriptor* field) {
    ValuePlan value;
    value.field = field;
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_ENUM:
        value.kind =
            field->enum_type()->full_name() == "google.protobuf.NullValue"
                ? ValueKind::kNullValue
                : ValueKind::kEnum;
        break;
      case FieldDescriptor::CPPTYPE_STRING:
        value.kind = field->type() == FieldDescriptor::TYPE_BYTES
                         ? ValueKind::kBytes
                         : ValueKind::kString;
        break;
      case FieldDescriptor::CPPTYPE_MESSAGE:
        if (IsWellKnownType(field->message_type())) {
          value.kind = ValueKind::kWellKnownMessage;
        } else {
          value.kind = ValueKind::kMessage;
          value.message = PlanOf(field->message_type());
        }
        break;
      default:  // A scalar: its kind has its CppType's number.
        value.kind = static_cast<ValueKind>(field->cpp_type());
        break;
    }
    return value;
  }

  absl::flat_hash_map<const Descriptor*, std::unique_ptr<MessagePlan>> plans_;
  const MessagePlan* root_;
};

// The plans of the types of the generated pool, built on first use of each
// type and kept for the life of the process, as those types are.
// Thread-safe. A lookup takes no lock: it reads the current index, which is
// never changed once published. Adding a type builds its plans with no lock
// held, then, under the lock, publishes a copy of the index with the type
// added.
class GeneratedPlans {
 public:
  static GeneratedPlans& Get() {
    static GeneratedPlans* const plans = new GeneratedPlans();
    return *plans;
  }

  const MessagePlan& PlanOf(const Descriptor* descriptor)
      ABSL_LOCKS_EXCLUDED(mu_) {
    const PlanIndex& index = *index_.load(std::memory_order_acquire);
    const auto found = index.find(descriptor);
    if (found != index.end()) return *found->second;
    return Add(descriptor);
  }

 private:
  using PlanIndex = absl::flat_hash_map<const Descriptor*, const MessagePlan*>;

  GeneratedPlans() {
    indexes_.push_back(std::make_unique<const PlanIndex>());
    index_.store(indexes_.back().get(), std::memory_order_release);
  }

  const MessagePlan& Add(const Descriptor* descriptor)
      ABSL_LOCKS_EXCLUDED(mu_) {
    auto built = std::make_unique<const PlanSet>(descriptor);
    absl::MutexLock lock(&mu_);
    const PlanIndex& current = *index_.load(std::memory_order_relaxed);
    // Another thread may have added the type meanwhile: its plans win.
    const auto found = current.find(descriptor);
    if (found != current.end()) return *found->second;
    auto next = std::make_unique<PlanIndex>(current);
    next->emplace(descriptor, &built->root());
    plan_sets_.push_back(std::move(built));
    indexes_.push_back(std::move(next));
    index_.store(indexes_.back().get(), std::memory_order_release);
    return plan_sets_.back()->root();
  }

  absl::Mutex mu_;
  std::vector<std::unique_ptr<const PlanSet>> plan_sets_ ABSL_GUARDED_BY(mu_);
  // Every index published: a lookup may still be reading an earlier one.
  // One per type added, each no larger than the number of types.
  std::vector<std::unique_ptr<const PlanIndex>> indexes_ ABSL_GUARDED_BY(mu_);
  // The last of indexes_, read without the lock.
  std::atomic<const PlanIndex*> index_{nullptr};
};

// A message of a well-known type, as protobuf's printer writes it.
void AppendWellKnownJson(const Message& message, JsonOutput* out) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  std::string json;
  if (google::protobuf::util::MessageToJsonString(message, &json, options)
          .ok()) {
    out->Append(json);
  } else {
    out->Append("null");
  }
}

// Writes messages from their plans. `generated` says that the message
// written is of a generated class, so each sub-message's Reflection is its
// plan's.
class PlannedJsonWriter {
 public:
  PlannedJsonWriter(bool generated, JsonOutput* out)
      : generated_(generated), out_(out) {}

  // A message as protojson with EmitUnpopulated writes it: fields in
  // declaration order under their JSON names; an unset singular message
  // field is null; an unset field of a oneof (proto3 `optional` included) is
  // left out; other unset fields print their default; repeated fields are
  // lists.
  void WriteMessage(const MessagePlan& plan, const Message& message,
                    const Reflection* reflection) {
    if (plan.well_known) {
      AppendWellKnownJson(message, out_);
      return;
    }
    out_->Append('{');
    bool first = true;
    for (const FieldPlan& field : plan.fields) {
      const FieldDescriptor* descriptor = field.field;
      if (field.shape == FieldShape::kOmittedIfUnset &&
          !reflection->HasField(message, descriptor)) {
        continue;
      }
      const absl::string_view prefix =
          absl::string_view(field.member_prefix).substr(first ? 1 : 0);
      first = false;
      switch (field.shape) {
        case FieldShape::kSingular:
        case FieldShape::kOmittedIfUnset:
          WriteValue(prefix, field.value, message, reflection, -1);
          break;
        case FieldShape::kNullIfUnset:
          if (reflection->HasField(message, descriptor)) {
            WriteValue(prefix, field.value, message, reflection, -1);
          } else {
            out_->Append(prefix);
            out_->Append("null");
          }
          break;
        case FieldShape::kRepeated: {
          const int size = reflection->FieldSize(message, descriptor);
          out_->Append(prefix);
          out_->Append('[');
          for (int i = 0; i < size; ++i) {
            WriteValue(i == 0 ? "" : ",", field.value, message, reflection, i);
          }
          out_->Append(']');
          break;
        }
        case FieldShape::kMap:
          out_->Append(prefix);
          WriteMap(field, message, reflection);
          break;
      }
    }
    out_->Append('}');
  }

 private:
  // `prefix`, then one value of `value.field` (element `index` when
  // repeated, -1 when singular).
  void WriteValue(absl::string_view prefix, const ValuePlan& value,
                  const Message& message, const Reflection* reflection,
                  int index) {
    const FieldDescriptor* field = value.field;
    const bool repeated = index >= 0;
    // The value through Reflection's getter for a singular field or its
    // getter for a repeated one.
    const auto get = [&](auto singular, auto repeated_getter) {
      return repeated ? (reflection->*repeated_getter)(message, field, index)
                      : (reflection->*singular)(message, field);
    };
    switch (value.kind) {
      case ValueKind::kInt32:
        AppendJsonInteger(
            prefix, get(&Reflection::GetInt32, &Reflection::GetRepeatedInt32),
            false, out_);
        break;
      case ValueKind::kUInt32:
        AppendJsonInteger(
            prefix, get(&Reflection::GetUInt32, &Reflection::GetRepeatedUInt32),
            false, out_);
        break;
      case ValueKind::kInt64:
        AppendJsonInteger(
            prefix, get(&Reflection::GetInt64, &Reflection::GetRepeatedInt64),
            true, out_);
        break;
      case ValueKind::kUInt64:
        AppendJsonInteger(
            prefix, get(&Reflection::GetUInt64, &Reflection::GetRepeatedUInt64),
            true, out_);
        break;
      case ValueKind::kDouble:
        out_->Append(prefix);
        AppendJsonFloat(
            get(&Reflection::GetDouble, &Reflection::GetRepeatedDouble), out_);
        break;
      case ValueKind::kFloat:
        out_->Append(prefix);
        AppendJsonFloat(
            get(&Reflection::GetFloat, &Reflection::GetRepeatedFloat), out_);
        break;
      case ValueKind::kBool:
        out_->Append(prefix);
        out_->Append(get(&Reflection::GetBool, &Reflection::GetRepeatedBool)
                         ? "true"
                         : "false");
        break;
      case ValueKind::kNullValue:
        out_->Append(prefix);
        out_->Append("null");
        break;
      case ValueKind::kEnum: {
        const int number =
            get(&Reflection::GetEnumValue, &Reflection::GetRepeatedEnumValue);
        const auto* enum_value = field->enum_type()->FindValueByNumber(number);
        if (enum_value != nullptr) {
          out_->Append(prefix);
          AppendJsonString(enum_value->name(), out_);
        } else {  // An unknown value: its number.
          AppendJsonInteger(prefix, number, false, out_);
        }
        break;
      }
      case ValueKind::kString:
      case ValueKind::kBytes: {
        std::string scratch;
        const std::string& text =
            repeated ? reflection->GetRepeatedStringReference(message, field,
                                                              index, &scratch)
                     : reflection->GetStringReference(message, field, &scratch);
        out_->Append(prefix);
        if (value.kind == ValueKind::kBytes) {
          out_->Append('"');
          out_->Append(absl::Base64Escape(text));
          out_->Append('"');
        } else {
          AppendJsonString(text, out_);
        }
        break;
      }
      case ValueKind::kMessage:
      case ValueKind::kWellKnownMessage: {
        const Message& nested =
            repeated ? reflection->GetRepeatedMessage(message, field, index)
                     : reflection->GetMessage(message, field);
        out_->Append(prefix);
        if (value.kind == ValueKind::kWellKnownMessage) {
          AppendWellKnownJson(nested, out_);
        } else {
          const MessagePlan& plan = *value.message;
          WriteMessage(plan, nested,
                       generated_ && plan.generated_reflection != nullptr
                           ? plan.generated_reflection
                           : nested.GetReflection());
        }
        break;
      }
    }
  }

  // A map field as protojson writes it: an object keyed by the keys' text,
  // in key order (false before true, numbers ascending, strings by code
  // point).
  void WriteMap(const FieldPlan& map, const Message& message,
                const Reflection* reflection) {
    const FieldDescriptor* key_field = map.map_key;
    struct Entry {
      const Message* entry;
      const Reflection* reflection;
      std::string text;
      int64_t signed_key = 0;
      uint64_t unsigned_key = 0;
    };
    std::vector<Entry> entries;
    const int size = reflection->FieldSize(message, map.field);
    entries.reserve(size);
    for (int i = 0; i < size; ++i) {
      const Message& entry =
          reflection->GetRepeatedMessage(message, map.field, i);
      const Reflection* entry_reflection = entry.GetReflection();
      Entry item{&entry, entry_reflection, ""};
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
    out_->Append('{');
    for (size_t i = 0; i < entries.size(); ++i) {
      if (i > 0) out_->Append(',');
      AppendJsonString(entries[i].text, out_);
      WriteValue(":", map.value, *entries[i].entry, entries[i].reflection, -1);
    }
    out_->Append('}');
  }

  const bool generated_;
  JsonOutput* const out_;
};

}  // namespace

std::string MessageToGatewayJson(const google::protobuf::Message& message) {
  const Descriptor* descriptor = message.GetDescriptor();
  const Reflection* reflection = message.GetReflection();
  std::string json;
  if (descriptor->file()->pool() !=
      google::protobuf::DescriptorPool::generated_pool()) {
    // A type of another pool may be gone with its pool, and a later type at
    // its address would find its plan: such types are planned per call.
    const PlanSet plans(descriptor);
    {
      JsonOutput output(&json);
      PlannedJsonWriter(false, &output)
          .WriteMessage(plans.root(), message, reflection);
    }
    return json;
  }
  const MessagePlan& plan = GeneratedPlans::Get().PlanOf(descriptor);
  // The writes ask for room for the longest number they might write, so a
  // JSON of the same size as the last one needs a little more than it.
  constexpr size_t kRoomSlack = 64;
  json.reserve(plan.last_json_size.load(std::memory_order_relaxed) +
               kRoomSlack);
  {
    JsonOutput output(&json);
    PlannedJsonWriter(reflection == plan.generated_reflection, &output)
        .WriteMessage(plan, message, reflection);
  }
  if (plan.last_json_size.load(std::memory_order_relaxed) != json.size()) {
    plan.last_json_size.store(json.size(), std::memory_order_relaxed);
  }
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
