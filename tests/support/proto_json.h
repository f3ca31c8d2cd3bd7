// Protobuf messages from the JSON a test received (an HTTP answer).
#ifndef TESTS_SUPPORT_PROTO_JSON_H_
#define TESTS_SUPPORT_PROTO_JSON_H_

#include <string>

#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace geo::testing {

// `json` parsed into a `Message` (protobuf's JSON mapping); a failure of the
// calling test, and a default message, when it does not parse.
template <typename Message>
Message ParseJson(const std::string& json) {
  Message message;
  auto status = google::protobuf::util::JsonStringToMessage(json, &message);
  EXPECT_TRUE(status.ok()) << status.ToString() << " in " << json;
  return message;
}

}  // namespace geo::testing

#endif  // TESTS_SUPPORT_PROTO_JSON_H_
