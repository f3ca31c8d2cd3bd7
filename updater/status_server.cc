#include "updater/status_server.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <memory>
#include <thread>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace geo::updater {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

// One connection: read one request, write one reply, close.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const StatusHandler* handler)
      : stream_(std::move(socket)), handler_(handler) {}

  void Start() {
    stream_.expires_after(std::chrono::seconds(10));
    http::async_read(
        stream_, buffer_, request_,
        [self = shared_from_this()](beast::error_code error, size_t) {
          if (!error) self->Reply();
        });
  }

 private:
  void Reply() {
    StatusReply reply;
    if (request_.method() != http::verb::get) {
      reply.status = 405;
      reply.body = "method not allowed\n";
    } else {
      auto target = request_.target();
      reply = (*handler_)(absl::string_view(target.data(), target.size()));
    }
    response_.version(request_.version());
    response_.result(static_cast<unsigned>(reply.status));
    response_.set(http::field::content_type, reply.content_type);
    response_.keep_alive(false);
    response_.body() = std::move(reply.body);
    response_.prepare_payload();
    http::async_write(stream_, response_,
                      [self = shared_from_this()](beast::error_code, size_t) {
                        beast::error_code ignored;
                        self->stream_.socket().shutdown(
                            tcp::socket::shutdown_send, ignored);
                      });
  }

  beast::tcp_stream stream_;
  const StatusHandler* handler_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
};

}  // namespace

class StatusServer::Impl {
 public:
  explicit Impl(StatusHandler handler)
      : handler_(std::move(handler)), acceptor_(io_) {}

  ~Impl() {
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

  absl::Status Bind(const std::string& address, uint16_t port) {
    beast::error_code error;
    auto ip = asio::ip::make_address(address, error);
    if (error) {
      return absl::InvalidArgumentError(
          absl::StrCat("status address \"", address, "\": ", error.message()));
    }
    tcp::endpoint endpoint(ip, port);
    acceptor_.open(endpoint.protocol(), error);
    if (!error)
      acceptor_.set_option(asio::socket_base::reuse_address(true), error);
    if (!error) acceptor_.bind(endpoint, error);
    if (!error)
      acceptor_.listen(asio::socket_base::max_listen_connections, error);
    if (error) {
      return absl::UnavailableError(absl::StrCat(
          "cannot listen on ", address, ":", port, ": ", error.message()));
    }
    port_ = acceptor_.local_endpoint().port();
    Accept();
    thread_ = std::thread([this] { io_.run(); });
    return absl::OkStatus();
  }

  uint16_t port() const { return port_; }

 private:
  void Accept() {
    acceptor_.async_accept([this](beast::error_code error, tcp::socket socket) {
      if (error == asio::error::operation_aborted) return;
      if (!error) {
        std::make_shared<Session>(std::move(socket), &handler_)->Start();
      }
      Accept();
    });
  }

  const StatusHandler handler_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;  // Written before the io thread starts.
  std::thread thread_;
};

StatusReply RouteStatusRequest(absl::string_view target,
                               const std::function<bool()>& healthy,
                               const std::function<std::string()>& metrics) {
  absl::string_view path = target.substr(0, target.find('?'));
  StatusReply reply;
  if (path == "/healthz") {
    bool ok = healthy();
    reply.status = ok ? 200 : 503;
    reply.body = ok ? "ok\n" : "stale: no successful update recently\n";
  } else if (path == "/metrics") {
    reply.content_type = "text/plain; version=0.0.4; charset=utf-8";
    reply.body = metrics();
  } else {
    reply.status = 404;
    reply.body = "not found\n";
  }
  return reply;
}

absl::StatusOr<std::unique_ptr<StatusServer>> StatusServer::Start(
    const std::string& address, uint16_t port, StatusHandler handler) {
  auto impl = std::make_unique<Impl>(std::move(handler));
  absl::Status status = impl->Bind(address, port);
  if (!status.ok()) return status;
  return std::unique_ptr<StatusServer>(new StatusServer(std::move(impl)));
}

StatusServer::StatusServer(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}
StatusServer::~StatusServer() = default;

uint16_t StatusServer::port() const { return impl_->port(); }

}  // namespace geo::updater
