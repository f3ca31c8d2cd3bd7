#include "geo/http/http_server.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "boost/asio/basic_waitable_timer.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/ssl/context.hpp"
#include "boost/asio/ssl/stream.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "geo/common/logging.h"

namespace geo::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using IoExecutor = asio::io_context::executor_type;
// Sockets and timers bound to their io_context's own executor type: their
// handlers are dispatched without asio::any_io_executor's type erasure.
using PlainSocket = tcp::socket::rebind_executor<IoExecutor>::other;
using TlsStream = asio::ssl::stream<PlainSocket>;
using SweepTimer =
    asio::basic_waitable_timer<Clock, asio::wait_traits<Clock>, IoExecutor>;

// Bytes asked of the kernel per read; the buffer grows beyond it if needed.
constexpr size_t kReadChunkBytes = 4096;
// A connection's read buffer holds at most max_header_bytes plus this: room
// for a whole header section and one more read. It never holds a body (the
// parser moves body bytes out as they arrive), only what the parser cannot
// consume yet: a header section, a chunk-size line, a trailer section.
constexpr size_t kReadBufferSlackBytes = kReadChunkBytes;
// When a connection goes idle, a read buffer or response body with more
// capacity than this is given back; smaller ones are kept, so a connection
// serving ordinary requests allocates nothing per request.
constexpr size_t kIdleBufferBytes = 16 * 1024;
// After a closing response: how long to keep draining what the client still
// sends, so that closing does not reset the connection before the client has
// read the response (RFC 9112, "tear-down").
constexpr absl::Duration kLingerTimeout = absl::Seconds(1);
constexpr absl::Duration kAcceptRetryDelay = absl::Milliseconds(10);
// A deadline is noticed within one sweep interval after it passes: an eighth
// of the shortest timeout, within these bounds.
constexpr absl::Duration kMinSweepInterval = absl::Milliseconds(5);
constexpr absl::Duration kMaxSweepInterval = absl::Milliseconds(250);
constexpr char kContinueResponse[] = "HTTP/1.1 100 Continue\r\n\r\n";

std::chrono::nanoseconds ToChrono(absl::Duration duration) {
  return absl::ToChronoNanoseconds(duration);
}

absl::Duration SweepInterval(const HttpServerOptions& options) {
  const absl::Duration shortest =
      std::min({options.idle_timeout, options.request_timeout,
                options.write_timeout, kLingerTimeout});
  return std::clamp(shortest / 8, kMinSweepInterval, kMaxSweepInterval);
}

absl::string_view ToAbsl(beast::string_view view) {
  return absl::string_view(view.data(), view.size());
}

beast::string_view ToBeast(absl::string_view view) {
  return beast::string_view(view.data(), view.size());
}

// Why a request is refused before its body is read: an HTTP status and a
// message; status 0 when the request may proceed.
struct Refusal {
  int status = 0;
  absl::StatusCode code = absl::StatusCode::kOk;
  absl::string_view message;
};

// Transfer-Encoding, strictly (RFC 9112 sections 6.1 and 6.3). We implement
// only "chunked", and it must frame the body: it must be the final coding,
// applied once. Otherwise the body's length is unknown (400, and the
// connection closes: the next request cannot be found). A coding before a
// final "chunked" leaves the framing sound but the content undecodable: 501.
// With Content-Length as well, a proxy may frame the message differently
// than we do (request smuggling): 400. HTTP/1.0 has no Transfer-Encoding.
template <typename Fields>
Refusal CheckTransferEncoding(const Fields& fields, unsigned version) {
  const auto range = fields.equal_range(bhttp::field::transfer_encoding);
  if (range.first == range.second) return {};
  if (fields.find(bhttp::field::content_length) != fields.end()) {
    return {400, absl::StatusCode::kInvalidArgument,
            "malformed HTTP request: both Transfer-Encoding and "
            "Content-Length"};
  }
  if (version < 11) {
    return {400, absl::StatusCode::kInvalidArgument,
            "malformed HTTP request: Transfer-Encoding in an HTTP/1.0 "
            "request"};
  }
  bool chunked_last = false;
  bool chunked_not_final = false;
  bool other_coding = false;
  for (auto it = range.first; it != range.second; ++it) {
    for (absl::string_view coding : absl::StrSplit(ToAbsl(it->value()), ',')) {
      coding = absl::StripAsciiWhitespace(coding);
      if (coding.empty()) continue;  // An empty list element (RFC 9110 5.6.1).
      if (chunked_last) chunked_not_final = true;
      chunked_last = absl::EqualsIgnoreCase(coding, "chunked");
      if (!chunked_last) other_coding = true;
    }
  }
  if (!chunked_last || chunked_not_final) {
    return {400, absl::StatusCode::kInvalidArgument,
            "malformed HTTP request: Transfer-Encoding must end in one "
            "\"chunked\""};
  }
  if (other_coding) {
    return {501, absl::StatusCode::kUnimplemented,
            "unsupported transfer coding (only \"chunked\" is implemented)"};
  }
  return {};
}

// After the read buffer overflowed while a chunked body was being read:
// whether what it holds is the trailer section (the last chunk's line is
// complete: optional CRLF, zeros, extensions, CRLF) rather than one endless
// chunk-size line. The parser consumes nothing of either until it is whole.
bool HoldsTrailerSection(absl::string_view pending) {
  if (absl::StartsWith(pending, "\r\n")) pending.remove_prefix(2);
  size_t zeros = 0;
  while (zeros < pending.size() && pending[zeros] == '0') ++zeros;
  if (zeros == 0) return false;
  if (zeros < pending.size() && absl::ascii_isxdigit(pending[zeros])) {
    return false;  // A chunk with data, e.g. "01\r\n".
  }
  return absl::StrContains(pending.substr(zeros), "\r\n");
}

// Memory for one request's header section: bump-allocated from blocks the
// connection keeps, given back all at once when the next request starts.
// Beast's fields allocate once per field and once for the request target;
// from an arena a connection serving ordinary requests allocates nothing per
// request. What it holds is bounded by the parser's header limit.
class FieldArena {
 public:
  FieldArena() = default;
  FieldArena(const FieldArena&) = delete;
  FieldArena& operator=(const FieldArena&) = delete;

  void* Allocate(size_t bytes, size_t alignment) {
    while (current_ < blocks_.size()) {
      Block& block = blocks_[current_];
      const size_t at = (used_ + alignment - 1) & ~(alignment - 1);
      if (at + bytes <= block.size) {
        used_ = at + bytes;
        return block.data.get() + at;
      }
      ++current_;
      used_ = 0;
    }
    const size_t previous = blocks_.empty() ? 0 : blocks_.back().size;
    const size_t size =
        std::max({kFirstBlockBytes, previous * 2, bytes + alignment});
    blocks_.push_back(Block{std::make_unique<char[]>(size), size});
    current_ = blocks_.size() - 1;
    const auto base = reinterpret_cast<uintptr_t>(blocks_.back().data.get());
    const size_t at = ((base + alignment - 1) & ~(alignment - 1)) - base;
    used_ = at + bytes;
    return blocks_.back().data.get() + at;
  }

  // Everything allocated so far is free again. The caller has destroyed
  // whatever lived in it.
  void Reset() {
    current_ = 0;
    used_ = 0;
  }

  // Reset, and give the blocks back when they hold more than `keep_bytes`.
  void Release(size_t keep_bytes) {
    Reset();
    size_t capacity = 0;
    for (const Block& block : blocks_) capacity += block.size;
    if (capacity > keep_bytes) blocks_.clear();
  }

 private:
  static constexpr size_t kFirstBlockBytes = 2048;
  struct Block {
    std::unique_ptr<char[]> data;
    size_t size;
  };
  std::vector<Block> blocks_;
  size_t current_ = 0;
  size_t used_ = 0;
};

// A standard allocator over a FieldArena; deallocation is a no-op.
template <typename T>
class ArenaAllocator {
 public:
  using value_type = T;
  explicit ArenaAllocator(FieldArena* arena) noexcept : arena_(arena) {}
  template <typename U>
  ArenaAllocator(const ArenaAllocator<U>& other) noexcept  // NOLINT: rebind
      : arena_(other.arena()) {}
  T* allocate(size_t count) {
    return static_cast<T*>(arena_->Allocate(count * sizeof(T), alignof(T)));
  }
  void deallocate(T*, size_t) noexcept {}
  FieldArena* arena() const { return arena_; }
  friend bool operator==(const ArenaAllocator& a, const ArenaAllocator& b) {
    return a.arena_ == b.arena_;
  }
  friend bool operator!=(const ArenaAllocator& a, const ArenaAllocator& b) {
    return a.arena_ != b.arena_;
  }

 private:
  FieldArena* arena_;
};

using RequestFields = bhttp::basic_fields<ArenaAllocator<char>>;
using RequestParser =
    bhttp::request_parser<bhttp::string_body, ArenaAllocator<char>>;

// HttpHeaders over the fields of a parsed Beast request (whose lookup is
// case-insensitive).
class BeastHeaders final : public HttpHeaders {
 public:
  explicit BeastHeaders(const RequestFields& fields) : fields_(fields) {}
  std::optional<absl::string_view> Find(absl::string_view name) const override {
    const auto it = fields_.find(ToBeast(name));
    if (it == fields_.end()) return std::nullopt;
    return ToAbsl(it->value());
  }
  void FindAll(absl::string_view name,
               std::vector<absl::string_view>* values) const override {
    const auto range = fields_.equal_range(ToBeast(name));
    for (auto it = range.first; it != range.second; ++it) {
      values->push_back(ToAbsl(it->value()));
    }
  }

 private:
  const RequestFields& fields_;
};

// The status line and header section of a response, appended to `out`.
// Content-Length is the body's (a HEAD response's is the body a GET would
// get); Connection says what keep-alive needs for the version.
void AppendResponseHead(const HttpResponse& response, unsigned version,
                        bool keep_alive, size_t body_length, std::string* out) {
  const int status = response.status();
  absl::StrAppend(out, version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ", status, " ");
  if (status == 499) {
    // Beast knows no reason phrase for grpc-gateway's 499.
    out->append("Client Closed Request");
  } else {
    const beast::string_view reason =
        bhttp::obsolete_reason(static_cast<bhttp::status>(status));
    out->append(reason.data(), reason.size());
  }
  out->append("\r\n");
  if (!response.content_type().empty()) {
    absl::StrAppend(out, "Content-Type: ", response.content_type(), "\r\n");
  }
  for (const auto& [name, value] : response.headers()) {
    absl::StrAppend(out, name, ": ", value, "\r\n");
  }
  if (version >= 11 && !keep_alive) out->append("Connection: close\r\n");
  if (version < 11 && keep_alive) out->append("Connection: keep-alive\r\n");
  // No body, and so no length, for 1xx, 204 and 304 (RFC 9110 8.6).
  if (status >= 200 && status != 204 && status != 304) {
    absl::StrAppend(out, "Content-Length: ", body_length, "\r\n");
  }
  out->append("\r\n");
}

// What a worker needs of each of its connections, whatever their stream:
// the list it sweeps and what drain and shutdown do. Called on the worker's
// thread, never per request.
class ConnectionBase {
 public:
  // Joins the list at `*head` (a worker's), and leaves it when destroyed.
  explicit ConnectionBase(ConnectionBase** head) : head_(head) {
    next_ = *head_;
    if (next_ != nullptr) next_->previous_ = this;
    *head_ = this;
  }
  virtual ~ConnectionBase() {
    if (previous_ != nullptr) {
      previous_->next_ = next_;
    } else {
      *head_ = next_;
    }
    if (next_ != nullptr) next_->previous_ = previous_;
  }
  ConnectionBase(const ConnectionBase&) = delete;
  ConnectionBase& operator=(const ConnectionBase&) = delete;

  ConnectionBase* next() const { return next_; }
  // Shutdown began: a connection waiting for its next request closes now;
  // one in the middle of a request finishes it first.
  virtual void OnDrain() = 0;
  // The shutdown deadline passed.
  virtual void ForceClose() = 0;
  // The sweep: fails the pending operation if the deadline passed.
  virtual void CheckDeadline(Clock::time_point now) = 0;

 private:
  ConnectionBase** const head_;
  ConnectionBase* previous_ = nullptr;
  ConnectionBase* next_ = nullptr;
};

// One io thread with its own io_context, and the connections living on it.
struct Worker {
  explicit Worker(absl::Duration sweep_interval)
      : sweep_interval(ToChrono(sweep_interval)) {}

  asio::io_context io_context{1};
  std::optional<asio::executor_work_guard<IoExecutor>> work_guard{
      io_context.get_executor()};
  std::thread thread;
  // Intrusive list of this worker's connections; touched only on its thread.
  ConnectionBase* connections = nullptr;
  // Checks every connection's deadline each interval while there are
  // connections; touched only on this worker's thread.
  SweepTimer sweep_timer{io_context.get_executor()};
  const Clock::duration sweep_interval;
  bool sweeping = false;
  bool stopped = false;

  // Arms the sweep when it is not running (a connection was added).
  void StartSweep();
  void Sweep();
};

// What connections share with the server. Outlives every connection.
struct SharedState {
  HttpServerOptions options;
  HttpHandler handler;
  std::atomic<bool> draining{false};
  std::atomic<int> active_connections{0};

  // What Shutdown waits on for active_connections to reach 0. It guards no
  // data: absl::Mutex re-evaluates a waiter's condition whenever the mutex is
  // released, so the connection that takes the count to 0 takes and releases
  // it (once per idle server, not per connection or request).
  absl::Mutex idle_mu;

  static bool NoOpenConnections(SharedState* state) {
    return state->active_connections.load(std::memory_order_acquire) == 0;
  }

  // A connection's last act.
  void ConnectionClosed() ABSL_LOCKS_EXCLUDED(idle_mu) {
    if (active_connections.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      absl::MutexLock wake_shutdown(&idle_mu);
    }
  }

  // Open connections by peer address, when options.max_connections_per_peer
  // is set. Touched once when a connection opens (acceptor thread) and once
  // when it closes (its worker thread); never per request.
  absl::Mutex peers_mu;
  absl::flat_hash_map<std::string, int> connections_per_peer
      ABSL_GUARDED_BY(peers_mu);

  // Counts a new connection from `peer`; returns how many it now has open.
  int AddPeerConnection(const std::string& peer) ABSL_LOCKS_EXCLUDED(peers_mu) {
    absl::MutexLock lock(&peers_mu);
    return ++connections_per_peer[peer];
  }

  void RemovePeerConnection(const std::string& peer)
      ABSL_LOCKS_EXCLUDED(peers_mu) {
    absl::MutexLock lock(&peers_mu);
    const auto it = connections_per_peer.find(peer);
    if (it != connections_per_peer.end() && --it->second <= 0) {
      connections_per_peer.erase(it);
    }
  }
};

// One connection over a byte stream: today a plain TCP socket; a stream that
// needs a handshake first (TLS: asio::ssl::stream<PlainSocket>) does it in
// Start, before ReadRequest. The stream must offer async_read_some, work
// with asio::async_write, and have a lowest_layer() TCP socket.
//
// Lives on one worker thread, and exactly one operation chain is pending at
// a time, so it needs no strand, no lock and no reference count: the
// handler that ends the chain (CloseNow) deletes it. Its deadline is a time
// point the worker's sweep compares with the clock, not a timer per
// operation.
template <typename Stream>
class Connection final : public ConnectionBase {
 public:
  // `counted_peer`: the address this connection was counted under in
  // SharedState::connections_per_peer (empty when not counted).
  // `stream_arguments` construct the stream (a socket; a socket and an SSL
  // context).
  template <typename... StreamArguments>
  Connection(SharedState* state, Worker* worker, std::string counted_peer,
             StreamArguments&&... stream_arguments)
      : ConnectionBase(&worker->connections),
        state_(state),
        worker_(worker),
        stream_(std::forward<StreamArguments>(stream_arguments)...),
        buffer_(size_t{state->options.max_header_bytes} +
                kReadBufferSlackBytes),
        counted_peer_(std::move(counted_peer)) {
    worker_->StartSweep();
  }

  ~Connection() override {
    if (!counted_peer_.empty()) state_->RemovePeerConnection(counted_peer_);
    state_->ConnectionClosed();
  }

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // `refusal`: why the connection is answered 503 and closed at once;
  // empty to serve it.
  void Start(absl::string_view refusal) {
    beast::error_code error;
    const tcp::endpoint peer = socket().remote_endpoint(error);
    if (!error) peer_address_ = peer.address().to_string();
    if constexpr (kTls) {
      // Over the limit: closed before the handshake costs anything.
      if (!refusal.empty()) {
        CloseNow();
        return;
      }
      state_kind_ = State::kHandshaking;
      SetDeadline(state_->options.request_timeout);
      stream_.async_handshake(
          asio::ssl::stream_base::server,
          [this](beast::error_code error) { OnHandshake(error); });
      return;
    }
    if (!refusal.empty()) {
      SendErrorAndClose(503, absl::StatusCode::kUnavailable, refusal);
      return;
    }
    ReadRequest();
  }

  void OnDrain() override {
    if (state_kind_ == State::kIdle) Cancel();
  }

  void ForceClose() override {
    beast::error_code ignored;
    socket().close(ignored);
  }

  void CheckDeadline(Clock::time_point now) override {
    if (now < deadline_) return;
    deadline_ = Clock::time_point::max();
    // A request being read gets 408 (see OnReadError); in any other state
    // the pending operation fails and the connection closes.
    if (state_kind_ == State::kReading) request_timed_out_ = true;
    Cancel();
  }

 private:
  enum class State {
    kHandshaking,
    kIdle,
    kReading,
    kHandling,
    kWriting,
    kClosing
  };
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  auto& socket() { return stream_.lowest_layer(); }

  // The client's identity is read and checked once, here: every request on
  // the connection carries it, and every request on a connection whose
  // client is not allowed is refused.
  void OnHandshake(beast::error_code error) {
    if (error) {
      CloseNow();
      return;
    }
    if constexpr (kTls) {
      // Non-null only when the client sent a certificate the handshake
      // verified (with client certificates off the server never asks).
      X509* peer = SSL_get0_peer_certificate(stream_.native_handle());
      if (peer != nullptr) {
        client_identity_ = tls::IdentityOf(peer);
        has_client_identity_ = true;
      }
      const HttpTlsOptions& tls = state_->options.tls;
      if (!tls.allowed_clients.empty()) {
        client_denied_ = !tls.allowed_clients.Allows(client_identity_);
        if (client_denied_) {
          if (tls.metrics != nullptr)
            tls.metrics->RecordClientDenied(tls.listener);
          if (MinLogLevel() <= LogLevel::kDebug) {
            Log(LogLevel::kDebug, "Client identity not allowed",
                {{"listener", tls::ListenerName(tls.listener)},
                 {"client_identity", client_identity_.primary()},
                 {"peer", peer_address_}});
          }
        }
      }
    }
    ReadRequest();
  }

  void Cancel() {
    beast::error_code ignored;
    socket().cancel(ignored);
  }

  void SetDeadline(absl::Duration timeout) {
    deadline_ = Clock::now() + ToChrono(timeout);
  }

  // Waits for the next request, or parses one already buffered (pipelined).
  void ReadRequest() {
    if (state_->draining.load(std::memory_order_acquire)) {
      CloseNow();
      return;
    }
    if (buffer_.size() > 0) {
      BeginRequest();
      Parse();
      return;
    }
    ReleaseIdleMemory();
    state_kind_ = State::kIdle;
    SetDeadline(state_->options.idle_timeout);
    ReadSome();
  }

  // Between requests a connection keeps nothing of the last one: not its
  // body or fields (the parser and its arena), and not more than
  // kIdleBufferBytes of buffer capacity, so idle keep-alive connections
  // cost little memory however large their last request or response was.
  // The response was reset when it was written (OnWrite).
  void ReleaseIdleMemory() {
    parser_.reset();
    field_arena_.Release(kIdleBufferBytes);
    std::vector<const RequestFields::value_type*>().swap(header_fields_);
    ReleaseLargeString(handler_response_.mutable_body());
    ReleaseLargeString(&response_head_);
    // Empty here (nothing pipelined), so this frees the buffer; the next
    // read allocates kReadChunkBytes again.
    if (buffer_.capacity() > kIdleBufferBytes) buffer_.shrink_to_fit();
  }

  static void ReleaseLargeString(std::string* text) {
    if (text->capacity() > kIdleBufferBytes) std::string().swap(*text);
  }

  // A new parser for the next request, over the reset arena.
  void BeginRequest() {
    state_kind_ = State::kReading;
    parser_.reset();
    field_arena_.Reset();
    parser_.emplace(RequestParser::value_type::header_type(
        RequestFields(ArenaAllocator<char>(&field_arena_))));
    parser_->header_limit(state_->options.max_header_bytes);
    parser_->body_limit(state_->options.max_body_bytes);
    parser_->on_chunk_header(chunk_header_callback_);
    metadata_bytes_ = 0;
    header_checked_ = false;
    header_fields_.clear();
    chunk_extensions_too_long_ = false;
    request_timed_out_ = false;
    // One deadline for the whole request, header and body, from its first
    // byte: a client trickling bytes cannot extend it.
    SetDeadline(state_->options.request_timeout);
  }

  void ReadSome() {
    // Room for one more read; the buffer's maximum bounds what a client can
    // make it hold (a header section, a chunk-size line, a trailer section).
    const size_t room = buffer_.max_size() - buffer_.size();
    if (room == 0) {
      OnReadError(bhttp::error::buffer_overflow);
      return;
    }
    const size_t want = std::min(
        room, std::max(kReadChunkBytes, buffer_.capacity() - buffer_.size()));
    stream_.async_read_some(buffer_.prepare(want),
                            [this](beast::error_code error, size_t bytes) {
                              OnRead(error, bytes);
                            });
  }

  void OnRead(beast::error_code error, size_t bytes) {
    if (request_timed_out_) {
      OnReadError(asio::error::operation_aborted);
      return;
    }
    if (error) {
      if (state_kind_ == State::kIdle) {  // Idle timeout, peer closed, drain.
        CloseNow();
      } else {
        OnReadError(error);
      }
      return;
    }
    buffer_.commit(bytes);
    if (state_kind_ == State::kIdle) BeginRequest();
    Parse();
  }

  // Feeds the buffer to the parser until the request is complete, more
  // bytes are needed, or it fails.
  void Parse() {
    while (true) {
      beast::error_code error;
      const size_t used = parser_->put(buffer_.data(), error);
      buffer_.consume(used);
      if (error == bhttp::error::need_more) {
        ReadSome();
        return;
      }
      if (error) {
        OnReadError(error);
        return;
      }
      if (!header_checked_ && parser_->is_header_done()) {
        header_checked_ = true;
        // The parser stops at the end of the header section and consumes
        // nothing of an incomplete one, so this call consumed all of it.
        metadata_bytes_ = used;
        if (!OnHeader()) return;
      }
      if (parser_->is_done()) {
        OnRequest();
        return;
      }
      if (buffer_.size() == 0) {
        ReadSome();
        return;
      }
    }
  }

  // Checks the header section; false when the request was refused or a
  // write is in progress (100 Continue), which resumes parsing itself.
  bool OnHeader() {
    const Refusal refusal =
        CheckTransferEncoding(parser_->get().base(), parser_->get().version());
    if (refusal.status != 0) {
      SendErrorAndClose(refusal.status, refusal.code, refusal.message);
      return false;
    }
    if (parser_->is_done()) return true;
    // The body is read in as few parser calls as the buffer allows.
    parser_->eager(true);
    const auto expect = parser_->get().find(bhttp::field::expect);
    if (expect != parser_->get().end() &&
        beast::iequals(expect->value(), "100-continue")) {
      asio::async_write(
          stream_,
          asio::buffer(kContinueResponse, sizeof kContinueResponse - 1),
          [this](beast::error_code error, size_t) {
            if (error || request_timed_out_) {
              CloseNow();
              return;
            }
            Parse();
          });
      return false;
    }
    return true;
  }

  void OnRequest() {
    if (parser_->chunked() && !DropTrailerFields()) {
      SendErrorAndClose(431, absl::StatusCode::kResourceExhausted,
                        "request trailer fields too large");
      return;
    }
    Handle();
  }

  // Each chunk's extensions count against the header budget, with the
  // header section itself: a client cannot make the server parse unbounded
  // extensions one chunk at a time. (One endless chunk-size line is stopped
  // earlier, by the read buffer's size.)
  void OnChunkHeader(uint64_t size, beast::string_view extensions,
                     beast::error_code& error) {
    metadata_bytes_ += extensions.size();
    if (metadata_bytes_ > state_->options.max_header_bytes) {
      chunk_extensions_too_long_ = true;
      error = bhttp::error::bad_chunk_extension;
      return;
    }
    if (size == 0) {  // The last chunk: trailer fields, if any, come next.
      // The parser files a trailer field next to a header field of the same
      // name, so only identity tells them apart: remember the header's.
      header_fields_.clear();
      for (const auto& field : parser_->get().base()) {
        header_fields_.push_back(&field);
      }
      std::sort(header_fields_.begin(), header_fields_.end(), std::less<>());
    }
  }

  // The parser adds trailer fields to the header fields; handlers must see
  // only the header section (a trailer is not a header: an X-Forwarded-For
  // in it was never seen by the proxies in front of us), so they are
  // removed. Returns false when the header section and the trailer fields
  // together exceed the header budget.
  bool DropTrailerFields() {
    auto& fields = parser_->get().base();
    size_t trailer_bytes = 0;
    for (auto it = fields.begin(); it != fields.end();) {
      if (std::binary_search(header_fields_.begin(), header_fields_.end(), &*it,
                             std::less<>())) {
        ++it;
        continue;
      }
      // "name: value\r\n" at the least.
      trailer_bytes += it->name_string().size() + it->value().size() + 4;
      it = fields.erase(it);
    }
    header_fields_.clear();
    return metadata_bytes_ + trailer_bytes <= state_->options.max_header_bytes;
  }

  void OnReadError(beast::error_code error) {
    if (request_timed_out_) {
      SendErrorAndClose(408, absl::StatusCode::kDeadlineExceeded,
                        "request not received within the request timeout");
      return;
    }
    if (error == bhttp::error::header_limit) {
      SendErrorAndClose(431, absl::StatusCode::kResourceExhausted,
                        "request header fields too large");
    } else if (chunk_extensions_too_long_) {
      SendErrorAndClose(400, absl::StatusCode::kInvalidArgument,
                        "chunk extensions too long");
    } else if (error == bhttp::error::buffer_overflow) {
      // Only a chunked body can get here: the header limit is below the
      // buffer's size, and body data never stays in the buffer.
      const auto pending = buffer_.data();
      if (HoldsTrailerSection(absl::string_view(
              static_cast<const char*>(pending.data()), pending.size()))) {
        SendErrorAndClose(431, absl::StatusCode::kResourceExhausted,
                          "request trailer fields too large");
      } else {
        SendErrorAndClose(400, absl::StatusCode::kInvalidArgument,
                          "chunk-size line too long");
      }
    } else if (error == bhttp::error::body_limit) {
      SendErrorAndClose(413, absl::StatusCode::kResourceExhausted,
                        "request body too large");
    } else if (error.category() ==
                   bhttp::make_error_code(bhttp::error::bad_method)
                       .category() &&
               error != bhttp::error::end_of_stream &&
               error != bhttp::error::partial_message) {
      SendErrorAndClose(
          400, absl::StatusCode::kInvalidArgument,
          absl::StrCat("malformed HTTP request: ", error.message()));
    } else {
      // Peer closed or reset.
      CloseNow();
    }
  }

  void Handle() {
    if (client_denied_) {
      SendErrorAndClose(403, absl::StatusCode::kPermissionDenied,
                        "client identity not allowed on this listener");
      return;
    }
    state_kind_ = State::kHandling;
    const auto& request = parser_->get();
    const BeastHeaders headers(request.base());
    const HttpRequest handler_request(
        ToAbsl(request.method_string()), ToAbsl(request.target()), &headers,
        request.body(), peer_address_,
        has_client_identity_ ? &client_identity_ : nullptr);
    // handler_response_ is in its reset state here: new, or reset by OnWrite.
    try {
      state_->handler(handler_request, &handler_response_);
    } catch (const std::exception& exception) {
      // Our handlers do not throw; this keeps an io thread alive if one does.
      Log(LogLevel::kError, "HTTP handler threw",
          {{"target", ToAbsl(request.target())},
           {"exception", exception.what()}});
      SetErrorResponse(500, absl::StatusCode::kInternal, "internal error");
    }
    keep_alive_ = request.keep_alive() &&
                  !state_->draining.load(std::memory_order_acquire);
    head_request_ = request.method() == bhttp::verb::head;
    WriteResponse(request.version());
  }

  // The server's own error, formatted by options.error_formatter.
  void SetErrorResponse(int status, absl::StatusCode code,
                        absl::string_view message) {
    HttpErrorBody error = state_->options.error_formatter
                              ? state_->options.error_formatter(code, message)
                              : PlainTextErrorBody(code, message);
    handler_response_.Reset();
    handler_response_.set_status(status);
    handler_response_.set_content_type(error.content_type);
    handler_response_.set_body(error.body);
  }

  void SendErrorAndClose(int status, absl::StatusCode code,
                         absl::string_view message) {
    SetErrorResponse(status, code, message);
    if (status == 503) handler_response_.AddHeader("Retry-After", "1");
    keep_alive_ = false;
    head_request_ = false;
    WriteResponse(11);
  }

  // The head and the body in one gather write: one sendmsg.
  void WriteResponse(unsigned version) {
    state_kind_ = State::kWriting;
    const absl::string_view body = handler_response_.BodyBytes();
    response_head_.clear();
    AppendResponseHead(handler_response_, version, keep_alive_, body.size(),
                       &response_head_);
    const int status = handler_response_.status();
    const bool send_body =
        !head_request_ && status >= 200 && status != 204 && status != 304;
    const std::array<asio::const_buffer, 2> buffers = {
        asio::buffer(response_head_),
        send_body ? asio::buffer(body.data(), body.size())
                  : asio::const_buffer()};
    SetDeadline(state_->options.write_timeout);
    asio::async_write(
        stream_, buffers,
        [this](beast::error_code error, size_t) { OnWrite(error); });
  }

  void OnWrite(beast::error_code error) {
    if (error) {
      CloseNow();
      return;
    }
    // Written: the one reset per request. It keeps the body's capacity for
    // the next response and lets go of a shared body's owner (e.g. a served
    // database file) now, not when the connection next goes idle or closes.
    handler_response_.Reset();
    if (!keep_alive_) {
      LingerAndClose();
      return;
    }
    ReadRequest();
  }

  // Half-closes, then reads and discards until the client closes or the
  // linger time passes, so that closing does not reset the connection
  // before the client has read the response (RFC 9112, "tear-down").
  void LingerAndClose() {
    state_kind_ = State::kClosing;
    SetDeadline(kLingerTimeout);
    if constexpr (kTls) {
      // close_notify, then the client's (or the linger deadline).
      stream_.async_shutdown([this](beast::error_code) { CloseNow(); });
      return;
    }
    beast::error_code ignored;
    socket().shutdown(tcp::socket::shutdown_send, ignored);
    Discard();
  }

  void Discard() {
    buffer_.clear();
    stream_.async_read_some(buffer_.prepare(kReadChunkBytes),
                            [this](beast::error_code error, size_t) {
                              if (error) {
                                CloseNow();
                                return;
                              }
                              Discard();
                            });
  }

  // Ends the operation chain: closes the socket and deletes the connection.
  // Nothing of it may be touched after this.
  void CloseNow() {
    beast::error_code ignored;
    socket().shutdown(tcp::socket::shutdown_both, ignored);
    socket().close(ignored);
    delete this;
  }

  SharedState* const state_;
  Worker* const worker_;
  Stream stream_;
  beast::flat_buffer buffer_;
  // Declared before the parser, whose fields live in it.
  FieldArena field_arena_;
  std::optional<RequestParser> parser_;
  // The parser keeps a reference to it (set per request).
  struct ChunkHeaderCallback {
    Connection* connection;
    void operator()(uint64_t size, beast::string_view extensions,
                    beast::error_code& error) {
      connection->OnChunkHeader(size, extensions, error);
    }
  };
  ChunkHeaderCallback chunk_header_callback_{this};
  // The current request's header section plus chunk extensions so far, in
  // bytes: all of it counts against options.max_header_bytes.
  size_t metadata_bytes_ = 0;
  bool header_checked_ = false;
  // The header section's fields of a chunked request (sorted addresses),
  // taken at its last chunk; fields the parser adds after that are trailer
  // fields.
  std::vector<const RequestFields::value_type*> header_fields_;
  bool chunk_extensions_too_long_ = false;
  HttpResponse handler_response_;
  std::string response_head_;
  std::string peer_address_;
  const std::string counted_peer_;
  // When the current state's time is up (see CheckDeadline).
  Clock::time_point deadline_ = Clock::time_point::max();
  bool request_timed_out_ = false;
  // TLS: the names of the client's verified certificate, when it sent one.
  tls::PeerIdentity client_identity_;
  bool has_client_identity_ = false;
  // TLS: the client's identity is not on the listener's allow-list.
  bool client_denied_ = false;
  bool keep_alive_ = false;
  bool head_request_ = false;
  State state_kind_ = State::kIdle;
};

void Worker::StartSweep() {
  if (sweeping || stopped) return;
  sweeping = true;
  sweep_timer.expires_after(sweep_interval);
  sweep_timer.async_wait([this](beast::error_code) { Sweep(); });
}

void Worker::Sweep() {
  sweeping = false;
  if (stopped) return;
  const Clock::time_point now = Clock::now();
  for (ConnectionBase* connection = connections; connection != nullptr;
       connection = connection->next()) {
    connection->CheckDeadline(now);
  }
  // Idle workers do not wake up; the next connection restarts the sweep.
  if (connections != nullptr) StartSweep();
}

}  // namespace

class HttpServer::Impl {
 public:
  Impl(const HttpServerOptions& options, HttpHandler handler)
      : acceptor_(AcceptorContext(options)),
        accept_retry_timer_(acceptor_.get_executor()) {
    state_.options = options;
    state_.handler = std::move(handler);
  }

  ~Impl() { Shutdown(absl::Now()); }

  absl::Status Listen() {
    beast::error_code error;
    const auto address = asio::ip::make_address(state_.options.address, error);
    if (error) {
      return absl::InvalidArgumentError(absl::StrCat(
          "bad HTTP listen address '", state_.options.address, "'"));
    }
    const tcp::endpoint endpoint(address, state_.options.port);
    acceptor_.open(endpoint.protocol(), error);
    if (!error)
      acceptor_.set_option(asio::socket_base::reuse_address(true), error);
    if (!error) acceptor_.bind(endpoint, error);
    if (!error)
      acceptor_.listen(asio::socket_base::max_listen_connections, error);
    if (error) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on ", state_.options.address, ":",
                       state_.options.port, ": ", error.message()));
    }
    port_ = acceptor_.local_endpoint(error).port();
    return absl::OkStatus();
  }

  void Run() {
    Accept();
    for (auto& worker : workers_) {
      Worker* raw = worker.get();
      raw->thread = std::thread([raw] { raw->io_context.run(); });
    }
  }

  uint16_t port() const { return port_; }

  int active_connections() const {
    return state_.active_connections.load(std::memory_order_acquire);
  }

  void Shutdown(absl::Time deadline) ABSL_LOCKS_EXCLUDED(shutdown_mu_) {
    absl::MutexLock lock(&shutdown_mu_);
    if (shut_down_) return;
    shut_down_ = true;
    state_.draining.store(true, std::memory_order_release);
    asio::post(acceptor_.get_executor(), [this] {
      beast::error_code ignored;
      acceptor_.close(ignored);
      accept_retry_timer_.cancel();
    });
    ForEachConnection(
        [](ConnectionBase* connection) { connection->OnDrain(); });
    {
      absl::MutexLock idle_lock(&state_.idle_mu);
      state_.idle_mu.AwaitWithDeadline(
          absl::Condition(&SharedState::NoOpenConnections, &state_), deadline);
    }
    if (active_connections() > 0) {
      Log(LogLevel::kWarn, "HTTP shutdown deadline passed, closing connections",
          {{"connections", active_connections()}});
      ForEachConnection(
          [](ConnectionBase* connection) { connection->ForceClose(); });
    }
    for (auto& worker : workers_) {
      Worker* raw = worker.get();
      asio::post(raw->io_context, [raw] {
        raw->stopped = true;
        raw->sweep_timer.cancel();
      });
      worker->work_guard.reset();
    }
    for (auto& worker : workers_) {
      if (worker->thread.joinable()) worker->thread.join();
    }
  }

 private:
  // The acceptor lives on the first worker's io_context.
  asio::io_context& AcceptorContext(const HttpServerOptions& options) {
    const int threads = options.io_threads < 1 ? 1 : options.io_threads;
    for (int i = 0; i < threads; ++i) {
      workers_.push_back(std::make_unique<Worker>(SweepInterval(options)));
    }
    return workers_.front()->io_context;
  }

  // Runs `action` on every connection, each on its own worker thread.
  template <typename Action>
  void ForEachConnection(Action action) {
    for (auto& worker : workers_) {
      Worker* raw = worker.get();
      asio::post(raw->io_context, [raw, action] {
        for (ConnectionBase* connection = raw->connections;
             connection != nullptr; connection = connection->next()) {
          action(connection);
        }
      });
    }
  }

  void Accept() {
    Worker* worker = workers_[next_worker_].get();
    next_worker_ = (next_worker_ + 1) % workers_.size();
    acceptor_.async_accept(
        worker->io_context,
        [this, worker](beast::error_code error, PlainSocket socket) {
          OnAccept(worker, error, std::move(socket));
        });
  }

  void OnAccept(Worker* worker, beast::error_code error, PlainSocket socket) {
    if (!acceptor_.is_open() || error == asio::error::operation_aborted) return;
    if (error) {
      // E.g. EMFILE: back off briefly instead of spinning.
      Log(LogLevel::kWarn, "HTTP accept failed", {{"error", error.message()}});
      accept_retry_timer_.expires_after(ToChrono(kAcceptRetryDelay));
      accept_retry_timer_.async_wait([this](beast::error_code timer_error) {
        if (!timer_error && acceptor_.is_open()) Accept();
      });
      return;
    }
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    absl::string_view refusal;
    if (state_.active_connections.fetch_add(1, std::memory_order_acq_rel) >=
        state_.options.max_connections) {
      refusal = "too many connections";
    }
    std::string counted_peer;
    if (state_.options.max_connections_per_peer > 0) {
      beast::error_code peer_error;
      const tcp::endpoint peer = socket.remote_endpoint(peer_error);
      if (!peer_error) {
        // Counted even when refused, like active_connections: the slot is
        // held until the 503 has been sent and the connection closed.
        counted_peer = peer.address().to_string();
        if (state_.AddPeerConnection(counted_peer) >
            state_.options.max_connections_per_peer) {
          refusal = "too many connections from this address";
        }
      }
    }
    asio::post(
        worker->io_context,
        [state = &state_, worker, refusal, socket = std::move(socket),
         counted_peer = std::move(counted_peer)]() mutable {
          // Each deletes itself when its last operation ends.
          if (state->options.tls.certificates == nullptr) {
            (new Connection<PlainSocket>(state, worker, std::move(counted_peer),
                                         std::move(socket)))
                ->Start(refusal);
            return;
          }
          // The set in force now; the SSL object keeps its context
          // alive after a rotation (the wrapper only borrows it).
          const std::shared_ptr<const tls::TlsSnapshot> snapshot =
              state->options.tls.certificates->Current();
          SSL_CTX_up_ref(snapshot->context.get());
          asio::ssl::context context(snapshot->context.get());
          (new Connection<TlsStream>(state, worker, std::move(counted_peer),
                                     std::move(socket), context))
              ->Start(refusal);
        });
    Accept();
  }

  SharedState state_;
  // Declared before the acceptor, which runs on the first worker.
  std::vector<std::unique_ptr<Worker>> workers_;
  tcp::acceptor acceptor_;
  asio::steady_timer accept_retry_timer_;
  // Used only on the acceptor's thread.
  size_t next_worker_ = 0;
  uint16_t port_ = 0;

  absl::Mutex shutdown_mu_;
  bool shut_down_ ABSL_GUARDED_BY(shutdown_mu_) = false;
};

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(
    const HttpServerOptions& options, HttpHandler handler) {
  auto impl = std::make_unique<Impl>(options, std::move(handler));
  const absl::Status status = impl->Listen();
  if (!status.ok()) return status;
  impl->Run();
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() = default;

uint16_t HttpServer::port() const { return impl_->port(); }

int HttpServer::active_connections() const {
  return impl_->active_connections();
}

void HttpServer::Shutdown(absl::Time deadline) { impl_->Shutdown(deadline); }

}  // namespace geo::http
