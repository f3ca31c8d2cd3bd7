#include "tests/updater/fake_maxmind_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "tests/support/child_process.h"

namespace geo::updater::testing {
namespace {

using ::geo::testing::ReadHttpHead;
using ::geo::testing::SendAll;

constexpr char kHttpDate[] = "%a, %d %b %Y %H:%M:%S GMT";

const char* Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    default:
      return "Status";
  }
}

std::string QueryParameter(absl::string_view target, absl::string_view name) {
  size_t question = target.find('?');
  if (question == absl::string_view::npos) return "";
  for (absl::string_view pair :
       absl::StrSplit(target.substr(question + 1), '&')) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(pair, absl::MaxSplits('=', 1));
    if (kv.first == name) return std::string(kv.second);
  }
  return "";
}

}  // namespace

std::string FakeMaxMindServer::url() const {
  return absl::StrCat("http://127.0.0.1:", listener_.port());
}

void FakeMaxMindServer::SetCredentials(std::string account_id,
                                       std::string license_key) {
  absl::MutexLock lock(&mu_);
  account_id_ = std::move(account_id);
  license_key_ = std::move(license_key);
}

std::map<std::string, std::string> FakeMaxMindServer::UpdaterEnvironment(
    const std::string& edition, const std::string& data_dir) const {
  absl::MutexLock lock(&mu_);
  return MaxMindUpdaterEnvironment(url(), account_id_, license_key_, edition,
                                   data_dir);
}

void FakeMaxMindServer::SetDatabase(const std::string& edition,
                                    std::string archive, std::string mmdb_md5,
                                    std::string date) {
  absl::MutexLock lock(&mu_);
  databases_[edition] = {std::move(archive), std::move(mmdb_md5),
                         std::move(date)};
}

void FakeMaxMindServer::SetFile(const std::string& name, std::string body,
                                absl::Time last_modified) {
  absl::MutexLock lock(&mu_);
  std::string etag = absl::StrCat("\"", std::hash<std::string>()(body), "\"");
  files_[name] = {std::move(body), std::move(etag), last_modified};
}

void FakeMaxMindServer::Enqueue(const std::string& prefix,
                                FakeResponse response) {
  absl::MutexLock lock(&mu_);
  for (auto& [queued_prefix, queue] : queued_) {
    if (queued_prefix == prefix) {
      queue.push_back(std::move(response));
      return;
    }
  }
  queued_.emplace_back(prefix, std::deque<FakeResponse>{std::move(response)});
}

void FakeMaxMindServer::SetDelays(const std::string& prefix,
                                  absl::Duration before_body,
                                  absl::Duration per_chunk) {
  absl::MutexLock lock(&mu_);
  delays_.emplace_back(prefix, Delays{before_body, per_chunk});
}

std::vector<RecordedRequest> FakeMaxMindServer::requests() const {
  absl::MutexLock lock(&mu_);
  return requests_;
}

int FakeMaxMindServer::CountRequests(absl::string_view prefix) const {
  absl::MutexLock lock(&mu_);
  int count = 0;
  for (const RecordedRequest& request : requests_) {
    if (absl::StartsWith(request.target, prefix)) ++count;
  }
  return count;
}

bool FakeMaxMindServer::AwaitRequests(absl::string_view prefix, int count,
                                      absl::Duration timeout) const {
  absl::Time deadline = absl::Now() + timeout;
  while (CountRequests(prefix) < count) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

void FakeMaxMindServer::Serve(int fd) {
  std::optional<std::string> data = ReadHttpHead(fd);
  if (!data.has_value()) return;
  RecordedRequest request;
  const std::string head = data->substr(0, data->find("\r\n\r\n"));
  std::vector<absl::string_view> lines = absl::StrSplit(head, "\r\n");
  std::vector<absl::string_view> request_line = absl::StrSplit(lines[0], ' ');
  if (request_line.size() < 2) return;
  request.target = std::string(request_line[1]);
  for (size_t i = 1; i < lines.size(); ++i) {
    size_t colon = lines[i].find(':');
    if (colon == absl::string_view::npos) continue;
    request.headers[absl::AsciiStrToLower(lines[i].substr(0, colon))] =
        std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
  }
  {
    absl::MutexLock lock(&mu_);
    requests_.push_back(request);
  }
  Send(fd, Respond(request));
}

FakeResponse FakeMaxMindServer::Respond(const RecordedRequest& request) {
  absl::MutexLock lock(&mu_);
  FakeResponse response;
  bool scripted = false;
  for (auto& [prefix, queue] : queued_) {
    if (!queue.empty() && absl::StartsWith(request.target, prefix)) {
      response = std::move(queue.front());
      queue.pop_front();
      scripted = true;
      break;
    }
  }
  if (!scripted) {
    const std::string& target = request.target;
    const std::string expected = absl::StrCat(
        "Basic ",
        absl::Base64Escape(absl::StrCat(account_id_, ":", license_key_)));
    auto unauthorized = [&]() {
      auto it = request.headers.find("authorization");
      return it == request.headers.end() || it->second != expected;
    };
    if (absl::StartsWith(target, "/geoip/")) {
      if (unauthorized()) {
        response.status = 401;
        response.body =
            R"({"code":"AUTHORIZATION_INVALID","error":"Invalid account ID or license key"})";
      } else if (absl::StartsWith(target, "/geoip/updates/metadata")) {
        std::string edition = QueryParameter(target, "edition_id");
        auto it = databases_.find(edition);
        if (it == databases_.end()) {
          response.status = 404;
          response.body = R"({"code":"EDITION_NOT_FOUND"})";
        } else {
          response.headers.emplace_back("Content-Type", "application/json");
          response.body = absl::StrCat(
              R"({"databases":[{"edition_id":")", edition, R"(","md5":")",
              it->second.md5, R"(","date":")", it->second.date, R"("}]})");
        }
      } else if (absl::StartsWith(target, "/geoip/databases/")) {
        std::vector<std::string> parts =
            absl::StrSplit(target.substr(0, target.find('?')), '/');
        auto it =
            parts.size() >= 4 ? databases_.find(parts[3]) : databases_.end();
        if (it == databases_.end()) {
          response.status = 404;
        } else {
          response.headers.emplace_back("Content-Type", "application/gzip");
          response.headers.emplace_back("Last-Modified",
                                        "Tue, 07 May 2024 12:00:00 GMT");
          response.body = it->second.archive;
        }
      } else {
        response.status = 404;
      }
    } else if (absl::StartsWith(target, "/files/")) {
      std::string name = target.substr(7, target.find('?') - 7);
      auto it = files_.find(name);
      if (it == files_.end()) {
        response.status = 404;
      } else {
        auto none_match = request.headers.find("if-none-match");
        if (none_match != request.headers.end() &&
            none_match->second == it->second.etag) {
          response.status = 304;
        } else {
          response.body = it->second.body;
        }
        response.headers.emplace_back("ETag", it->second.etag);
        response.headers.emplace_back(
            "Last-Modified",
            absl::FormatTime(kHttpDate, it->second.last_modified,
                             absl::UTCTimeZone()));
      }
    } else {
      response.status = 404;
    }
  }
  for (const auto& [prefix, delays] : delays_) {
    if (absl::StartsWith(request.target, prefix)) {
      response.delay_before_body = delays.before_body;
      response.delay_per_chunk = delays.per_chunk;
    }
  }
  return response;
}

void FakeMaxMindServer::Send(int fd, const FakeResponse& response) {
  int64_t length = response.content_length >= 0
                       ? response.content_length
                       : static_cast<int64_t>(response.body.size());
  std::string head =
      absl::StrCat("HTTP/1.1 ", response.status, " ", Reason(response.status),
                   "\r\nConnection: close\r\n");
  if (response.status != 304) {
    absl::StrAppend(&head, "Content-Length: ", length, "\r\n");
  }
  for (const auto& [name, value] : response.headers) {
    absl::StrAppend(&head, name, ": ", value, "\r\n");
  }
  head += "\r\n";
  if (!SendAll(fd, head)) return;
  if (response.delay_before_body > absl::ZeroDuration() &&
      listener_.stopping().WaitForNotificationWithTimeout(
          response.delay_before_body)) {
    return;
  }
  absl::string_view body = response.body;
  while (!body.empty()) {
    size_t chunk = response.delay_per_chunk > absl::ZeroDuration()
                       ? std::min<size_t>(body.size(), 1024)
                       : body.size();
    if (!SendAll(fd, body.substr(0, chunk))) return;
    body.remove_prefix(chunk);
    if (!body.empty() && response.delay_per_chunk > absl::ZeroDuration() &&
        listener_.stopping().WaitForNotificationWithTimeout(
            response.delay_per_chunk)) {
      return;
    }
  }
  ::shutdown(fd, SHUT_WR);
  // Let the client read everything before close(2) could reset the stream.
  char drain[256];
  pollfd poll_fd{fd, POLLIN, 0};
  while (::poll(&poll_fd, 1, 1000) > 0 &&
         ::recv(fd, drain, sizeof(drain), 0) > 0) {
  }
}

std::map<std::string, std::string> MaxMindUpdaterEnvironment(
    const std::string& host, const std::string& account_id,
    const std::string& license_key, const std::string& edition,
    const std::string& data_dir) {
  std::map<std::string, std::string> environment = {
      {"MAXMIND_ACCOUNT_ID", account_id}, {"MAXMIND_LICENSE_KEY", license_key},
      {"MAXMIND_EDITION_IDS", edition},   {"MAXMIND_HOST", host},
      {"GEO_DATA_DIR", data_dir},
  };
  ::geo::testing::AddSanitizerOptions(&environment);
  return environment;
}

}  // namespace geo::updater::testing
