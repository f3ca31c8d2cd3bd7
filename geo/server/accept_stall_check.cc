#include "geo/server/accept_stall_check.h"

#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "geo/common/logging.h"

namespace geo {
namespace {

// The state proc(5) prints for a listening socket.
constexpr absl::string_view kListen = "0A";

// Adds the accept queues of `path`'s sockets listening on `port` to `total`;
// false when the file cannot be read.
bool AddListenQueues(const std::string& path, int port, int64_t* total,
                     bool* found) {
  std::ifstream in(path);
  if (!in) return false;
  std::string line;
  std::getline(in, line);  // The header.
  while (std::getline(in, line)) {
    // sl local_address rem_address st tx_queue:rx_queue ...; for a listening
    // socket rx_queue is the accept queue's length.
    const std::vector<absl::string_view> fields =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (fields.size() < 5 || fields[3] != kListen) continue;
    const size_t colon = fields[1].rfind(':');
    const size_t queues_colon = fields[4].find(':');
    if (colon == absl::string_view::npos ||
        queues_colon == absl::string_view::npos) {
      continue;
    }
    uint32_t local_port = 0;
    uint64_t waiting = 0;
    if (!absl::SimpleHexAtoi(fields[1].substr(colon + 1), &local_port) ||
        static_cast<int>(local_port) != port ||
        !absl::SimpleHexAtoi(fields[4].substr(queues_colon + 1), &waiting)) {
      continue;
    }
    *found = true;
    *total += static_cast<int64_t>(waiting);
  }
  return true;
}

}  // namespace

std::optional<int64_t> ListenAcceptQueue(int port,
                                         const std::string& proc_net) {
  int64_t total = 0;
  bool found = false;
  AddListenQueues(proc_net + "/tcp", port, &total, &found);
  AddListenQueues(proc_net + "/tcp6", port, &total, &found);
  if (!found) return std::nullopt;
  return total;
}

AcceptStallCheck::AcceptStallCheck(Options options)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : Clock::Real()) {}

bool AcceptStallCheck::Stalled() {
  absl::MutexLock lock(&mu_);
  if (stalled_) return true;
  const absl::Time now = clock_->Now();
  if (now - last_sample_ < options_.spacing) return false;
  last_sample_ = now;
  const std::optional<int64_t> waiting =
      ListenAcceptQueue(options_.port, options_.proc_net);
  busy_samples_ = waiting.value_or(0) > 0 ? busy_samples_ + 1 : 0;
  if (busy_samples_ < options_.samples) return false;
  stalled_ = true;
  Log(LogLevel::kError,
      "Listener stopped accepting connections; failing liveness so that the "
      "pod is restarted",
      {{"listener", options_.name},
       {"port", options_.port},
       {"waiting", *waiting},
       {"samples", options_.samples}});
  return true;
}

}  // namespace geo
