// Runs the examples of docs/api.md against a real geo_server and checks that
// they answer what the page says.
//
// The page's conventions (docs/api.md, "How the examples are checked"):
// - `<!-- example-server -->` before a ```sh block: the command that starts
//   the server; `$T` stands for MaxMind's test-data directory.
// - `<!-- example status=N [vary=a,b] [partial] -->` before a ```sh block
//   holding one curl command, followed by a ```json (or ```text) block: the
//   response. JSON must match key for key (objects have the same keys unless
//   `partial`), value for value except keys listed in `vary`, whose values
//   need only have the same JSON type. A ```text block's lines must each
//   appear in the body.
// - `<!-- grpc-example [vary=...] [partial] -->` before a ```sh block holding a
//   grpcurl command (`grpcurl -plaintext [-d 'JSON'] HOST:PORT
//   package.Service/Method`), followed by a ```json block: the response as
//   grpcurl prints it (protobuf JSON, default values omitted).
// localhost:8080, :50051 and :9090 are replaced by the test server's ports.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/notification.h"
#include "api/geo/v1/geo.grpc.pb.h"
#include "geo/http/test_http_client.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/byte_buffer.h"
#include "gtest/gtest.h"
#include "tests/docs/markdown.h"
#include "tests/support/server_process.h"
#include "tests/support/test_files.h"

namespace geo::docs {
namespace {

using ::google::protobuf::Value;

constexpr char kApiDoc[] = "docs/api.md";

// Splits a shell command line into words: single and double quotes, and a
// backslash-newline continuation. Enough for the documented commands.
std::vector<std::string> ShellWords(absl::string_view command) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (size_t i = 0; i < command.size(); ++i) {
    char c = command[i];
    if (quote != 0) {
      if (c == quote) {
        quote = 0;
      } else {
        word.push_back(c);
      }
      continue;
    }
    if (c == '\\' && i + 1 < command.size() && command[i + 1] == '\n') {
      ++i;
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (absl::ascii_isspace(static_cast<unsigned char>(c))) {
      if (in_word) words.push_back(word);
      word.clear();
      in_word = false;
    } else {
      word.push_back(c);
      in_word = true;
    }
  }
  if (in_word) words.push_back(word);
  return words;
}

struct Example {
  std::string kind;  // "example" or "grpc-example".
  std::map<std::string, std::string> attributes;
  std::string command;
  const FencedBlock* expected = nullptr;
  int line = 0;  // 1-based, for messages.
};

// The marked examples, in page order.
std::vector<Example> FindExamples(const MarkdownDocument& doc,
                                  absl::string_view kind) {
  std::vector<Example> examples;
  const std::vector<std::string>& lines = doc.lines();
  for (int i = 0; i < static_cast<int>(lines.size()); ++i) {
    Example example;
    if (doc.InsideFence(i) ||
        !ParseMarker(lines[i], kind, &example.attributes)) {
      continue;
    }
    example.kind = std::string(kind);
    example.line = i + 1;
    std::vector<const FencedBlock*> after =
        doc.BlocksIn(i + 1, static_cast<int>(lines.size()));
    if (after.empty() || after[0]->info != "sh") {
      ADD_FAILURE() << kApiDoc << ":" << i + 1 << ": marker \"" << kind
                    << "\" is not followed by a ```sh block";
      continue;
    }
    example.command = after[0]->content;
    if (kind != "example-server") {
      if (after.size() < 2 ||
          (after[1]->info != "json" && after[1]->info != "text")) {
        ADD_FAILURE() << kApiDoc << ":" << i + 1
                      << ": the command is not followed by a ```json or "
                         "```text block";
        continue;
      }
      example.expected = after[1];
    }
    examples.push_back(std::move(example));
  }
  return examples;
}

absl::StatusOr<Value> ParseJson(const std::string& json) {
  Value value;
  auto status = google::protobuf::util::JsonStringToMessage(json, &value);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(status.ToString(), " in ", json));
  }
  return value;
}

// The kind of `value` by the name of its field in google.protobuf.Value
// ("number_value"), for failure messages.
std::string KindName(const Value& value) {
  const google::protobuf::FieldDescriptor* field =
      Value::descriptor()->FindFieldByNumber(value.kind_case());
  return field != nullptr ? field->name() : "no value";
}

// Differences between the documented and the actual JSON, one per line.
void CompareJson(const Value& documented, const Value& actual,
                 const std::string& path, const std::vector<std::string>& vary,
                 bool partial, std::vector<std::string>* differences) {
  if (documented.kind_case() != actual.kind_case()) {
    differences->push_back(absl::StrCat(path, ": documented ",
                                        KindName(documented), ", got ",
                                        KindName(actual)));
    return;
  }
  const std::string key = path.substr(path.rfind('.') + 1);
  const bool varies = std::find(vary.begin(), vary.end(), key) != vary.end();
  switch (documented.kind_case()) {
    case Value::kStructValue: {
      const auto& want = documented.struct_value().fields();
      const auto& got = actual.struct_value().fields();
      for (const auto& [name, value] : want) {
        auto it = got.find(name);
        if (it == got.end()) {
          differences->push_back(
              absl::StrCat(path, ".", name, ": documented but not returned"));
        } else {
          CompareJson(value, it->second, absl::StrCat(path, ".", name), vary,
                      partial, differences);
        }
      }
      if (!partial) {
        for (const auto& [name, value] : got) {
          if (!want.count(name)) {
            differences->push_back(
                absl::StrCat(path, ".", name, ": returned but not documented"));
          }
        }
      }
      return;
    }
    case Value::kListValue: {
      const auto& want = documented.list_value().values();
      const auto& got = actual.list_value().values();
      if (want.size() != got.size()) {
        differences->push_back(absl::StrCat(path, ": documented ", want.size(),
                                            " elements, got ", got.size()));
        return;
      }
      for (int i = 0; i < want.size(); ++i) {
        CompareJson(want[i], got[i], absl::StrCat(path, "[", i, "]"), vary,
                    partial, differences);
      }
      return;
    }
    case Value::kNumberValue:
      if (!varies &&
          std::fabs(documented.number_value() - actual.number_value()) > 1e-9) {
        differences->push_back(absl::StrCat(path, ": documented ",
                                            documented.number_value(), ", got ",
                                            actual.number_value()));
      }
      return;
    case Value::kStringValue:
      if (!varies && documented.string_value() != actual.string_value()) {
        differences->push_back(
            absl::StrCat(path, ": documented \"", documented.string_value(),
                         "\", got \"", actual.string_value(), "\""));
      }
      return;
    case Value::kBoolValue:
      if (!varies && documented.bool_value() != actual.bool_value()) {
        differences->push_back(absl::StrCat(path, ": documented ",
                                            documented.bool_value(), ", got ",
                                            actual.bool_value()));
      }
      return;
    default:
      return;
  }
}

// Checks `body` against the example's expected block.
void CheckBody(const Example& example, const std::string& body) {
  SCOPED_TRACE(absl::StrCat(kApiDoc, ":", example.line, ": ", example.command));
  if (example.expected->info == "text") {
    for (absl::string_view line :
         absl::StrSplit(example.expected->content, '\n', absl::SkipEmpty())) {
      EXPECT_TRUE(absl::StrContains(body, line))
          << "documented line not in the response: " << line << "\nresponse:\n"
          << body;
    }
    return;
  }
  absl::StatusOr<Value> documented = ParseJson(example.expected->content);
  ASSERT_TRUE(documented.ok()) << "documented JSON: " << documented.status();
  absl::StatusOr<Value> actual = ParseJson(body);
  ASSERT_TRUE(actual.ok()) << "response: " << actual.status();
  std::vector<std::string> vary;
  if (auto it = example.attributes.find("vary");
      it != example.attributes.end()) {
    vary = absl::StrSplit(it->second, ',', absl::SkipEmpty());
  }
  std::vector<std::string> differences;
  CompareJson(*documented, *actual, "$", vary,
              example.attributes.count("partial") > 0, &differences);
  EXPECT_TRUE(differences.empty())
      << absl::StrJoin(differences, "\n") << "\nresponse: " << body;
}

class ApiExamplesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(doc_.ok()) << doc_.status();

    std::vector<Example> servers = FindExamples(*doc_, "example-server");
    ASSERT_EQ(servers.size(), 1u)
        << kApiDoc << " needs one <!-- example-server --> block";
    const std::string data_dir =
        absl::StrCat(testing::MaxmindTestDataDir(), "/test-data");
    ASSERT_FALSE(testing::MaxmindTestDataDir().empty());
    std::vector<std::string> args;
    bool after_binary = false;
    for (const std::string& word : ShellWords(servers[0].command)) {
      if (absl::EndsWith(word, "/geo_server")) {
        after_binary = true;
        continue;
      }
      if (after_binary) {
        args.push_back(absl::StrReplaceAll(word, {{"$T", data_dir}}));
      }
    }
    ASSERT_FALSE(args.empty()) << "no geo_server command in the "
                                  "example-server block";
    auto server =
        testing::ServerProcess::Start(testing::GeoServerBinary(), args);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::make_unique<testing::ServerProcess>(*std::move(server));
  }

  // localhost:PORT of the page -> the test server's address.
  std::string Rewrite(absl::string_view url) const {
    absl::ConsumePrefix(&url, "http://");
    const std::vector<std::pair<std::string, int>> ports = {
        {"localhost:8080", server_->ports().http},
        {"localhost:9090", server_->ports().metrics},
        {"localhost:50051", server_->ports().grpc}};
    for (const auto& [documented, port] : ports) {
      if (absl::StartsWith(url, documented)) {
        return absl::StrCat("127.0.0.1:", port, url.substr(documented.size()));
      }
    }
    ADD_FAILURE() << "the example addresses neither localhost:8080, :9090 "
                     "nor :50051: "
                  << url;
    return std::string(url);
  }

  const absl::StatusOr<MarkdownDocument> doc_ = ReadMarkdownFile(kApiDoc);
  std::unique_ptr<testing::ServerProcess> server_;
};

TEST_F(ApiExamplesTest, CurlExamplesAnswerAsDocumented) {
  std::vector<Example> examples = FindExamples(*doc_, "example");
  ASSERT_GE(examples.size(), 4u) << "the page documents Lookup, BatchLookup, "
                                    "Check and ListDatabases at least";
  http::CurlClient client;
  for (const Example& example : examples) {
    SCOPED_TRACE(absl::StrCat(kApiDoc, ":", example.line));
    std::vector<std::string> words = ShellWords(example.command);
    ASSERT_FALSE(words.empty());
    ASSERT_EQ(words[0], "curl") << "not a curl command: " << example.command;
    std::string method, body, url;
    std::vector<std::string> headers;
    for (size_t i = 1; i < words.size(); ++i) {
      const std::string& word = words[i];
      if (word == "-X" || word == "--request") {
        ASSERT_LT(i + 1, words.size());
        method = words[++i];
      } else if (word == "-d" || word == "--data" || word == "--data-raw") {
        ASSERT_LT(i + 1, words.size());
        body = words[++i];
      } else if (word == "-H" || word == "--header") {
        ASSERT_LT(i + 1, words.size());
        headers.push_back(words[++i]);
      } else if (word == "-s" || word == "-sS" || word == "--silent") {
        // Output options only.
      } else if (absl::StartsWith(word, "-")) {
        FAIL() << "curl option " << word
               << " is not understood by this test; document it here";
      } else {
        ASSERT_TRUE(url.empty()) << "two URLs in " << example.command;
        url = word;
      }
    }
    if (method.empty()) method = body.empty() ? "GET" : "POST";
    // curl -d sends a form content type; the gateway reads the body as JSON
    // either way, as grpc-gateway does.
    absl::StatusOr<http::CurlResponse> response = client.Send(
        method, absl::StrCat("http://", Rewrite(url)), body, headers);
    ASSERT_TRUE(response.ok()) << response.status();
    auto status = example.attributes.find("status");
    ASSERT_NE(status, example.attributes.end())
        << "the example marker needs status=N";
    EXPECT_EQ(absl::StrCat(response->status), status->second)
        << example.command << "\nbody: " << response->body;
    CheckBody(example, response->body);
  }
}

TEST_F(ApiExamplesTest, GrpcExamplesAnswerAsDocumented) {
  std::vector<Example> examples = FindExamples(*doc_, "grpc-example");
  ASSERT_FALSE(examples.empty()) << "no gRPC examples in " << kApiDoc;
  for (const Example& example : examples) {
    SCOPED_TRACE(absl::StrCat(kApiDoc, ":", example.line));
    std::vector<std::string> words = ShellWords(example.command);
    ASSERT_FALSE(words.empty());
    ASSERT_EQ(words[0], "grpcurl") << example.command;
    std::string request_json = "{}", target, method;
    for (size_t i = 1; i < words.size(); ++i) {
      if (words[i] == "-plaintext") continue;
      if (words[i] == "-d") {
        ASSERT_LT(i + 1, words.size());
        request_json = words[++i];
      } else if (absl::StartsWith(words[i], "-")) {
        FAIL() << "grpcurl option " << words[i] << " is not understood";
      } else if (target.empty()) {
        target = words[i];
      } else {
        method = words[i];
      }
    }
    ASSERT_FALSE(method.empty()) << example.command;
    // package.Service/Method -> the method's descriptor from the linked API.
    std::string full_name = absl::StrReplaceAll(method, {{"/", "."}});
    // The API's file descriptor (naming a message keeps the generated code
    // linked in, and with it the file's registration).
    const google::protobuf::MethodDescriptor* descriptor =
        geo::v1::LookupRequest::descriptor()->file()->pool()->FindMethodByName(
            full_name);
    ASSERT_NE(descriptor, nullptr) << "no method " << full_name;
    const google::protobuf::Message* prototype =
        google::protobuf::MessageFactory::generated_factory()->GetPrototype(
            descriptor->input_type());
    std::unique_ptr<google::protobuf::Message> request(prototype->New());
    ASSERT_TRUE(
        google::protobuf::util::JsonStringToMessage(request_json, request.get())
            .ok())
        << request_json;
    std::unique_ptr<google::protobuf::Message> response(
        google::protobuf::MessageFactory::generated_factory()
            ->GetPrototype(descriptor->output_type())
            ->New());

    auto channel = grpc::CreateChannel(Rewrite(target),
                                       grpc::InsecureChannelCredentials());
    grpc::GenericStub stub(channel);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    std::string serialized = request->SerializeAsString();
    grpc::Slice slice(serialized);
    grpc::ByteBuffer request_buffer(&slice, 1);
    grpc::ByteBuffer response_buffer;
    grpc::Status status;
    absl::Notification done;
    stub.UnaryCall(&context, absl::StrCat("/", method), grpc::StubOptions(),
                   &request_buffer, &response_buffer,
                   [&status, &done](grpc::Status s) {
                     status = std::move(s);
                     done.Notify();
                   });
    done.WaitForNotification();
    ASSERT_TRUE(status.ok()) << status.error_message();
    std::vector<grpc::Slice> slices;
    ASSERT_TRUE(response_buffer.Dump(&slices).ok());
    std::string bytes;
    for (const grpc::Slice& s : slices) {
      bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
    ASSERT_TRUE(response->ParseFromString(bytes));
    std::string json;
    ASSERT_TRUE(
        google::protobuf::util::MessageToJsonString(*response, &json).ok());
    CheckBody(example, json);
  }
}

TEST(ShellWordsTest, QuotesAndContinuations) {
  EXPECT_EQ(ShellWords("curl -s -X POST \\\n  'a b' \"c'd\" -d '{\"x\":1}'"),
            (std::vector<std::string>{"curl", "-s", "-X", "POST", "a b", "c'd",
                                      "-d", "{\"x\":1}"}));
}

TEST(CompareJsonTest, FindsEachKindOfDifference) {
  auto documented =
      ParseJson(R"({"a":1,"b":"x","c":[true],"d":{"e":2},"t":5})");
  auto same = ParseJson(R"({"a":1,"b":"x","c":[true],"d":{"e":2},"t":9})");
  auto other = ParseJson(R"({"a":2,"b":3,"c":[],"d":{"e":2,"f":1},"t":"9"})");
  ASSERT_TRUE(documented.ok() && same.ok() && other.ok());
  std::vector<std::string> differences;
  CompareJson(*documented, *same, "$", {"t"}, false, &differences);
  EXPECT_TRUE(differences.empty()) << absl::StrJoin(differences, "\n");
  CompareJson(*documented, *other, "$", {"t"}, false, &differences);
  // a's value, b's type, c's length, d.f undocumented, t's type.
  EXPECT_EQ(differences.size(), 5u) << absl::StrJoin(differences, "\n");
  differences.clear();
  CompareJson(*documented, *other, "$", {"t"}, true, &differences);
  EXPECT_EQ(differences.size(), 4u) << absl::StrJoin(differences, "\n");
}

}  // namespace
}  // namespace geo::docs
