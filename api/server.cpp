// The one translation unit that compiles Boost.Beast and Boost.Asio.

#include "api/server.h"

#include <algorithm>
#include <cctype>

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

// Tunnelled requests are answered as the host the client CONNECTed to, whatever Host it sent:
// the pipeline derives every Location / Azure-AsyncOperation / nextLink URL from it.
void set_host(HttpRequest& request, const std::string& host) {
  for (auto& [name, value] : request.headers)
    if (beast::iequals(name, "Host")) {
      value = host;
      return;
    }
  request.headers.emplace_back("Host", host);
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return out;
}

// "management.azure.com:443" -> {"management.azure.com", "443"}; no port: {"host", ""}.
std::pair<std::string, std::string> split_authority(std::string_view authority) {
  const size_t colon = authority.rfind(':');
  if (colon == std::string_view::npos || authority.find(']') != std::string_view::npos)
    return {lower(authority), ""};
  return {lower(authority.substr(0, colon)), std::string(authority.substr(colon + 1))};
}

// "http://example.com:8080/x" -> "example.com:8080"; origin-form targets have no host.
std::string host_of_absolute_url(std::string_view target) {
  const size_t scheme = target.find("://");
  if (scheme == std::string_view::npos) return {};
  target.remove_prefix(scheme + 3);
  return std::string(target.substr(0, target.find('/')));
}

http::response<http::string_body> proxy_refusal(unsigned version, std::string message) {
  http::response<http::string_body> res{http::status::forbidden, version};
  res.set(http::field::server, "acg-emulator");
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.keep_alive(false);
  res.body() = std::move(message) + "\n";
  res.prepare_payload();
  return res;
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
  ssl::context proxy_tls{ssl::context::tls_server};
  tcp::acceptor proxy_acceptor{ioc};
  asio::steady_timer tick_timer{ioc};
  std::vector<std::thread> threads;
  std::once_flag stopped;
  std::uint16_t bound_port = 0;
  std::uint16_t bound_proxy_port = 0;

  Impl(ServerOptions o, RequestHandler h, RejectionHandler r, std::function<void()> t)
      : options(std::move(o)),
        handler(std::move(h)),
        reject(std::move(r)),
        tick(std::move(t)),
        workers(static_cast<std::size_t>(std::max(1, options.worker_threads))) {}

  Status configure_tls(ssl::context& context, const std::string& cert_pem, const std::string& key_pem);
  Status bind(tcp::acceptor& on, std::uint16_t port, std::uint16_t& bound);
  asio::awaitable<void> accept_loop();
  // forced_host: the CONNECT host of a proxy tunnel, set as every tunnelled request's Host.
  template <class Stream>
  asio::awaitable<void> serve(Stream& stream, const std::string& remote, const std::string* forced_host = nullptr);
  asio::awaitable<void> run_tls_session(tcp::socket socket);
  asio::awaitable<void> run_plain_session(tcp::socket socket);
  asio::awaitable<void> proxy_accept_loop();
  asio::awaitable<void> run_proxy_session(tcp::socket socket);
  bool is_proxied_host(const std::string& host) const;
  std::string proxied_hosts_text() const;
  asio::awaitable<void> tick_loop();
  void stop();
};

Status Server::Impl::configure_tls(ssl::context& context, const std::string& cert_pem, const std::string& key_pem) {
  boost::system::error_code ec;
  context.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                          ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use,
                      ec);
  context.use_certificate_chain(asio::buffer(cert_pem), ec);
  if (ec) return internal_error("cannot use the TLS certificate: " + ec.message());
  context.use_private_key(asio::buffer(key_pem), ssl::context::pem, ec);
  if (ec) return internal_error("cannot use the TLS private key: " + ec.message());
  return ok_status();
}

Status Server::Impl::bind(tcp::acceptor& on, std::uint16_t port, std::uint16_t& bound) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(options.host, ec);
  if (ec) return internal_error("'" + options.host + "' is not an IP address to listen on");
  tcp::endpoint endpoint{address, port};
  on.open(endpoint.protocol(), ec);
  if (!ec) on.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) on.bind(endpoint, ec);
  if (!ec) on.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) bound = on.local_endpoint(ec).port();
  if (ec)
    return internal_error("cannot listen on " + options.host + ":" + std::to_string(port) + ": " + ec.message());
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
asio::awaitable<void> Server::Impl::serve(Stream& stream, const std::string& remote, const std::string* forced_host) {
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
    if (forced_host) set_host(plain, *forced_host);

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

bool Server::Impl::is_proxied_host(const std::string& host) const {
  return std::any_of(options.proxy_hosts.begin(), options.proxy_hosts.end(),
                     [&](const std::string& h) { return beast::iequals(h, host); });
}

std::string Server::Impl::proxied_hosts_text() const {
  std::string out;
  for (const std::string& h : options.proxy_hosts) out += (out.empty() ? "" : ", ") + h + ":443";
  return out;
}

asio::awaitable<void> Server::Impl::proxy_accept_loop() {
  for (;;) {
    auto [ec, socket] = co_await proxy_acceptor.async_accept(kNoThrow);
    if (ec == asio::error::operation_aborted || !proxy_acceptor.is_open()) co_return;
    if (ec) continue;
    socket.set_option(tcp::no_delay(true), ec);
    asio::co_spawn(ioc, run_proxy_session(std::move(socket)), asio::detached);
  }
}

// One proxy connection: read the CONNECT (or whatever came), refuse anything but a listed
// host on 443, else answer 200 and become that host's HTTPS server for the rest of the
// connection.
asio::awaitable<void> Server::Impl::run_proxy_session(tcp::socket socket) {
  boost::system::error_code ec;
  auto remote = socket.remote_endpoint(ec);
  const std::string remote_address = ec ? std::string() : remote.address().to_string();
  beast::tcp_stream stream{std::move(socket)};
  beast::flat_buffer buffer;
  http::request_parser<http::string_body> parser;
  parser.header_limit(kHeaderLimit);
  parser.body_limit(64 * 1024);
  stream.expires_after(options.read_timeout);
  auto [read_ec, bytes] = co_await http::async_read(stream, buffer, parser, kNoThrow);
  if (read_ec) co_return;
  const auto& request = parser.get();
  const std::string target(request.target());
  const std::string refusal_tail = ": the emulator's proxy serves only " + proxied_hosts_text() +
                                   " (the emulated cloud's ARM and Entra ID hosts) and forwards nothing.";
  std::optional<http::response<http::string_body>> refusal;
  std::string host;
  if (request.method() != http::verb::connect) {
    const std::string named = host_of_absolute_url(target);
    refusal = proxy_refusal(request.version(), "acg-emulator refused " + std::string(request.method_string()) + " " +
                                                   target + (named.empty() ? "" : " (host " + named + ")") +
                                                   refusal_tail);
  } else {
    auto [name, port] = split_authority(target);
    host = name;
    if (!is_proxied_host(host) || port != "443")
      refusal = proxy_refusal(request.version(), "acg-emulator refused CONNECT " + target + " (host " + host + ")" +
                                                     refusal_tail);
  }
  if (refusal) {
    stream.expires_after(std::chrono::seconds(5));
    co_await http::async_write(stream, *refusal, kNoThrow);
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    co_return;
  }
  static const std::string kEstablished = "HTTP/1.1 200 Connection established\r\n\r\n";
  auto [write_ec, written] = co_await asio::async_write(stream, asio::buffer(kEstablished), kNoThrow);
  // A client that sent its TLS ClientHello before our 200 would need those bytes replayed into
  // the TLS stream; clients (Go, curl, urllib3) wait for the 200, so such a tunnel is closed.
  if (write_ec || buffer.size() != 0) co_return;

  beast::ssl_stream<beast::tcp_stream> tunnel{std::move(stream), proxy_tls};
  beast::get_lowest_layer(tunnel).expires_after(kHandshakeTimeout);
  auto [hs_ec] = co_await tunnel.async_handshake(ssl::stream_base::server, kNoThrow);
  if (hs_ec) co_return;
  try {
    co_await serve(tunnel, remote_address, &host);
  } catch (const std::exception&) {
  }
  beast::get_lowest_layer(tunnel).expires_after(std::chrono::seconds(2));
  co_await tunnel.async_shutdown(kNoThrow);
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
      proxy_acceptor.close(ec);
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
  Impl& i = *impl;
  if (i.options.tls)
    if (auto st = i.configure_tls(i.tls, i.options.cert_pem, i.options.key_pem); !st) return std::move(st).error();
  if (auto st = i.bind(i.acceptor, i.options.port, i.bound_port); !st) return std::move(st).error();
  if (i.options.proxy_port) {
    if (auto st = i.configure_tls(i.proxy_tls, i.options.proxy_cert_pem, i.options.proxy_key_pem); !st)
      return std::move(st).error();
    if (auto st = i.bind(i.proxy_acceptor, *i.options.proxy_port, i.bound_proxy_port); !st)
      return std::move(st).error();
    asio::co_spawn(i.ioc, i.proxy_accept_loop(), asio::detached);
  }
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
std::uint16_t Server::proxy_port() const { return impl_->bound_proxy_port; }

void Server::stop() { impl_->stop(); }

void Server::run_until_signal() {
  asio::io_context signals_ioc;
  asio::signal_set signals(signals_ioc, SIGINT, SIGTERM);
  signals.async_wait([](const boost::system::error_code&, int) {});
  signals_ioc.run();
  stop();
}

}  // namespace acg::api
