#include "geo/http/http_message.h"

#include "absl/strings/match.h"

namespace geo::http {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<absl::string_view> HttpHeaderList::Find(
    absl::string_view name) const {
  for (const auto& [field_name, value] : fields_) {
    if (absl::EqualsIgnoreCase(field_name, name)) return value;
  }
  return std::nullopt;
}

void HttpHeaderList::FindAll(absl::string_view name,
                             std::vector<absl::string_view>* values) const {
  for (const auto& [field_name, value] : fields_) {
    if (absl::EqualsIgnoreCase(field_name, name)) values->push_back(value);
  }
}

HttpRequest::HttpRequest(absl::string_view method, absl::string_view target,
                         const HttpHeaders* headers, absl::string_view body,
                         absl::string_view peer_address,
                         const tls::PeerIdentity* client_identity)
    : method_(method),
      target_(target),
      headers_(headers),
      body_(body),
      peer_address_(peer_address),
      client_identity_(client_identity) {
  const size_t question_mark = target.find('?');
  if (question_mark == absl::string_view::npos) {
    path_ = target;
  } else {
    path_ = target.substr(0, question_mark);
    query_ = target.substr(question_mark + 1);
  }
}

std::optional<std::string> HttpRequest::QueryParameter(
    absl::string_view name) const {
  absl::string_view rest = query_;
  while (!rest.empty()) {
    const size_t ampersand = rest.find('&');
    const absl::string_view pair = rest.substr(0, ampersand);
    rest = ampersand == absl::string_view::npos ? absl::string_view()
                                                : rest.substr(ampersand + 1);
    const size_t equals = pair.find('=');
    const absl::string_view key = pair.substr(0, equals);
    std::string decoded_key;
    if (!PercentDecode(key, /*plus_is_space=*/true, &decoded_key) ||
        decoded_key != name) {
      continue;
    }
    std::string value;
    if (equals != absl::string_view::npos &&
        !PercentDecode(pair.substr(equals + 1), /*plus_is_space=*/true,
                       &value)) {
      continue;
    }
    return value;
  }
  return std::nullopt;
}

std::optional<absl::string_view> HttpRequest::Header(
    absl::string_view name) const {
  if (headers_ == nullptr) return std::nullopt;
  return headers_->Find(name);
}

std::vector<absl::string_view> HttpRequest::HeaderValues(
    absl::string_view name) const {
  std::vector<absl::string_view> values;
  if (headers_ != nullptr) headers_->FindAll(name, &values);
  return values;
}

bool PercentDecode(absl::string_view encoded, bool plus_is_space,
                   std::string* decoded) {
  decoded->clear();
  decoded->reserve(encoded.size());
  for (size_t i = 0; i < encoded.size(); ++i) {
    const char c = encoded[i];
    if (c == '%') {
      if (i + 2 >= encoded.size()) return false;
      const int high = HexValue(encoded[i + 1]);
      const int low = HexValue(encoded[i + 2]);
      if (high < 0 || low < 0) return false;
      decoded->push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      decoded->push_back(' ');
    } else {
      decoded->push_back(c);
    }
  }
  return true;
}

HttpErrorBody PlainTextErrorBody(absl::StatusCode code,
                                 absl::string_view message) {
  (void)code;
  HttpErrorBody error;
  error.content_type = "text/plain; charset=utf-8";
  error.body.reserve(message.size() + 1);
  error.body.append(message.data(), message.size());
  error.body.push_back('\n');
  return error;
}

}  // namespace geo::http
