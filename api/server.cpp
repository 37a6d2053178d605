// The one translation unit that compiles Boost.Beast and Boost.Asio.

#include "api/server.h"

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <csignal>
#include <mutex>
#include <thread>
#include <vector>

namespace acg::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::seconds kHandshakeTimeout{10};
constexpr std::size_t kHeaderLimit = 64 * 1024;

HttpRequest to_request(http::request<http::string_body>&& in, const std::string& remote) {
  HttpRequest out;
  out.method = std::string(in.method_string());
  out.target = std::string(in.target());
  for (const auto& field : in) out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  out.body = std::move(in.body());
  out.remote_address = remote;
  return out;
}

http::response<http::string_body> to_beast(HttpResponse&& in, unsigned version, bool keep_alive, bool head) {
  http::response<http::string_body> out{static_cast<http::status>(in.status), version};
  for (auto& [name, value] : in.headers) out.set(name, value);
  out.set(http::field::server, "acg-emulator");
  out.keep_alive(keep_alive);
  if (head) {
    out.content_length(in.body.size());
  } else {
    out.body() = std::move(in.body);
    out.prepare_payload();
  }
  return out;
}

// After refusing a too-large body, read and discard what the client is still sending (up
// to a bound) so it sees our 413 instead of a broken pipe.
template <class Stream>
asio::awaitable<void> drain(Stream& stream) {
  constexpr std::size_t kDrainLimit = 64 * 1024 * 1024;
  std::vector<char> sink(64 * 1024);
  std::size_t drained = 0;
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
  while (drained < kDrainLimit) {
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), kNoThrow);
    if (ec) break;
    drained += n;
  }
}

}  // namespace

struct Server::Impl {
  ServerOptions options;
  RequestHandler handler;
  RejectionHandler reject;
  std::function<void()> tick;

  asio::io_context ioc;
  asio::thread_pool workers;
  ssl::context tls{ssl::context::tls_server};
  tcp::acceptor acceptor{ioc};
  asio::steady_timer tick_timer{ioc};
  std::vector<std::thread> threads;
  std::once_flag stopped;
  std::uint16_t bound_port = 0;

  Impl(ServerOptions o, RequestHandler h, RejectionHandler r, std::function<void()> t)
      : options(std::move(o)),
        handler(std::move(h)),
        reject(std::move(r)),
        tick(std::move(t)),
        workers(static_cast<std::size_t>(std::max(1, options.worker_threads))) {}

  Status configure_tls();
  Status bind();
  asio::awaitable<void> accept_loop();
  template <class Stream>
  asio::awaitable<void> serve(Stream& stream, const std::string& remote);
  asio::awaitable<void> run_tls_session(tcp::socket socket);
  asio::awaitable<void> run_plain_session(tcp::socket socket);
  asio::awaitable<void> tick_loop();
  void stop();
};

Status Server::Impl::configure_tls() {
  boost::system::error_code ec;
  tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                      ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use,
                  ec);
  tls.use_certificate_chain(asio::buffer(options.cert_pem), ec);
  if (ec) return internal_error("cannot use the TLS certificate: " + ec.message());
  tls.use_private_key(asio::buffer(options.key_pem), ssl::context::pem, ec);
  if (ec) return internal_error("cannot use the TLS private key: " + ec.message());
  return ok_status();
}

Status Server::Impl::bind() {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(options.host, ec);
  if (ec) return internal_error("'" + options.host + "' is not an IP address to listen on");
  tcp::endpoint endpoint{address, options.port};
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) bound_port = acceptor.local_endpoint(ec).port();
  if (ec)
    return internal_error("cannot listen on " + options.host + ":" + std::to_string(options.port) + ": " +
                          ec.message());
  return ok_status();
}

asio::awaitable<void> Server::Impl::accept_loop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kNoThrow);
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) continue;  // e.g. too many open files: keep serving the connections we have
    socket.set_option(tcp::no_delay(true), ec);
    if (options.tls)
      asio::co_spawn(ioc, run_tls_session(std::move(socket)), asio::detached);
    else
      asio::co_spawn(ioc, run_plain_session(std::move(socket)), asio::detached);
  }
}

template <class Stream>
asio::awaitable<void> Server::Impl::serve(Stream& stream, const std::string& remote) {
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(options.body_limit);
    parser.header_limit(kHeaderLimit);
    beast::get_lowest_layer(stream).expires_after(options.read_timeout);
    auto [ec, bytes] = co_await http::async_read(stream, buffer, parser, kNoThrow);
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::eof ||
        ec == asio::error::connection_reset || ec == asio::error::operation_aborted)
      co_return;
    if (ec) {
      // The request never reached the pipeline: answer with an ARM envelope and close.
      const bool too_large = ec == http::error::body_limit || ec == http::error::header_limit ||
                             ec == http::error::buffer_overflow;
      HttpResponse rejected = reject(too_large ? 413 : 400, ec.message());
      auto res = to_beast(std::move(rejected), 11, false, false);
      beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
      co_await http::async_write(stream, res, kNoThrow);
      if (too_large) co_await drain(stream);
      co_return;
    }
    auto request = parser.release();
    const bool keep_alive = request.keep_alive();
    const bool head = request.method() == http::verb::head;
    const unsigned version = request.version();
    HttpRequest plain = to_request(std::move(request), remote);

    // The handler may block on SQLite: run it on the worker pool, resume here after.
    HttpResponse response = co_await asio::co_spawn(
        workers, [this, &plain]() -> asio::awaitable<HttpResponse> { co_return handler(std::move(plain)); },
        asio::use_awaitable);

    auto res = to_beast(std::move(response), version, keep_alive, head);
    beast::get_lowest_layer(stream).expires_after(options.read_timeout);
    auto [write_ec, written] = co_await http::async_write(stream, res, kNoThrow);
    if (write_ec || !keep_alive) co_return;
  }
}

asio::awaitable<void> Server::Impl::run_tls_session(tcp::socket socket) {
  boost::system::error_code ec;
  auto remote = socket.remote_endpoint(ec);
  beast::ssl_stream<beast::tcp_stream> stream{beast::tcp_stream(std::move(socket)), tls};
  beast::get_lowest_layer(stream).expires_after(kHandshakeTimeout);
  auto [hs_ec] = co_await stream.async_handshake(ssl::stream_base::server, kNoThrow);
  if (hs_ec) co_return;
  // A named local, not a temporary: GCC 12 mis-destroys temporaries passed to coroutines.
  const std::string remote_address = ec ? std::string() : remote.address().to_string();
  try {
    co_await serve(stream, remote_address);
  } catch (const std::exception&) {
    // A handler escaped its own catch: drop this connection, keep the server.
  }
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
  co_await stream.async_shutdown(kNoThrow);
}

asio::awaitable<void> Server::Impl::run_plain_session(tcp::socket socket) {
  boost::system::error_code ec;
  auto remote = socket.remote_endpoint(ec);
  beast::tcp_stream stream{std::move(socket)};
  const std::string remote_address = ec ? std::string() : remote.address().to_string();
  try {
    co_await serve(stream, remote_address);
  } catch (const std::exception&) {
  }
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

asio::awaitable<void> Server::Impl::tick_loop() {
  for (;;) {
    tick_timer.expires_after(options.tick_interval);
    auto [ec] = co_await tick_timer.async_wait(kNoThrow);
    if (ec) co_return;
    // Settling touches SQLite: keep it off the I/O thread too.
    co_await asio::co_spawn(
        workers, [this]() -> asio::awaitable<void> { tick(); co_return; }, kNoThrow);
  }
}

void Server::Impl::stop() {
  std::call_once(stopped, [this] {
    asio::post(ioc, [this] {
      boost::system::error_code ec;
      acceptor.close(ec);
      tick_timer.cancel();
    });
    ioc.stop();
    for (auto& t : threads)
      if (t.joinable()) t.join();
    workers.join();
  });
}

Result<std::unique_ptr<Server>> Server::start(ServerOptions options, RequestHandler handler,
                                              RejectionHandler reject, std::function<void()> tick) {
  auto impl = std::make_unique<Impl>(std::move(options), std::move(handler), std::move(reject), std::move(tick));
  if (impl->options.tls)
    if (auto st = impl->configure_tls(); !st) return std::move(st).error();
  if (auto st = impl->bind(); !st) return std::move(st).error();
  asio::co_spawn(impl->ioc, impl->accept_loop(), asio::detached);
  if (impl->tick) asio::co_spawn(impl->ioc, impl->tick_loop(), asio::detached);
  Impl* raw = impl.get();
  for (int i = 0; i < std::max(1, raw->options.io_threads); ++i)
    raw->threads.emplace_back([raw] { raw->ioc.run(); });
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { stop(); }

std::uint16_t Server::port() const { return impl_->bound_port; }

void Server::stop() { impl_->stop(); }

void Server::run_until_signal() {
  asio::io_context signals_ioc;
  asio::signal_set signals(signals_ioc, SIGINT, SIGTERM);
  signals.async_wait([](const boost::system::error_code&, int) {});
  signals_ioc.run();
  stop();
}

}  // namespace acg::api
