// The command-line tools' HTTPS client (https_client.h). The server's Beast code is in
// server.cpp; this is the client side, kept in its own translation unit for the same reason.

#include "api/https_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <charconv>
#include <optional>

#include "emulator/text.h"

namespace acg::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

ArmError connection_failed(const std::string& what, const std::string& detail) {
  return ArmError{503, "ConnectionFailed", what + ": " + detail, {}, {}};
}

constexpr auto kTimeout = std::chrono::seconds(60);

}  // namespace

Result<Endpoint> parse_https_url(const std::string& url) {
  auto bad = [&] { return bad_request("InvalidEndpoint", "'" + url + "' is not an https:// URL (https://host[:port])."); };
  if (!istarts_with(url, "https://")) return bad();
  std::string rest = url.substr(8);
  rest = rest.substr(0, rest.find('/'));
  Endpoint e;
  std::string port;
  if (!rest.empty() && rest.front() == '[') {  // [::1]:8443
    const size_t close = rest.find(']');
    if (close == std::string::npos) return bad();
    e.host = rest.substr(1, close - 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') return bad();
      port = rest.substr(close + 2);
    }
  } else {
    const size_t colon = rest.find(':');
    e.host = rest.substr(0, colon);
    if (colon != std::string::npos) port = rest.substr(colon + 1);
  }
  if (e.host.empty()) return bad();
  if (!port.empty()) {
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), e.port);
    if (ec != std::errc() || ptr != port.data() + port.size() || e.port == 0) return bad();
  }
  return e;
}

struct HttpsConnection::Impl {
  Endpoint endpoint;
  asio::io_context ioc;
  ssl::context tls{ssl::context::tls_client};
  std::optional<beast::ssl_stream<beast::tcp_stream>> stream;
  beast::flat_buffer buffer;

  Status connect() {
    stream.emplace(ioc, tls);
    SSL_set_tlsext_host_name(stream->native_handle(), endpoint.host.c_str());
    stream->set_verify_callback(ssl::host_name_verification(endpoint.host));
    beast::error_code ec;
    tcp::resolver resolver(ioc);
    auto addresses = resolver.resolve(endpoint.host, std::to_string(endpoint.port), ec);
    if (ec) return connection_failed("cannot resolve " + endpoint.host, ec.message());
    beast::get_lowest_layer(*stream).expires_after(kTimeout);
    beast::get_lowest_layer(*stream).connect(addresses, ec);
    if (ec) return connection_failed("cannot connect to " + endpoint.host + ":" + std::to_string(endpoint.port), ec.message());
    stream->handshake(ssl::stream_base::client, ec);
    if (ec) return connection_failed("TLS handshake with " + endpoint.host + " failed (is its CA trusted? --ca FILE)",
                                     ec.message());
    buffer.clear();
    return ok_status();
  }

  http::request<http::string_body> make(const std::string& method, const std::string& target, const std::string& body,
                                        const HeaderList& headers) const {
    http::request<http::string_body> req{http::string_to_verb(method), target, 11};
    const bool ipv6 = endpoint.host.find(':') != std::string::npos;
    req.set(http::field::host, (ipv6 ? "[" + endpoint.host + "]" : endpoint.host) + ":" + std::to_string(endpoint.port));
    req.set(http::field::user_agent, "acg-emulator-cli");
    for (const auto& [k, v] : headers) req.set(k, v);
    if (!body.empty() && req.find(http::field::content_type) == req.end())
      req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    return req;
  }
};

HttpsConnection::HttpsConnection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpsConnection::~HttpsConnection() = default;

Result<std::unique_ptr<HttpsConnection>> HttpsConnection::open(const Endpoint& endpoint, const std::string& ca_file) {
  auto impl = std::make_unique<Impl>();
  impl->endpoint = endpoint;
  beast::error_code ec;
  impl->tls.set_verify_mode(ssl::verify_peer);
  if (ca_file.empty()) impl->tls.set_default_verify_paths(ec);
  else impl->tls.load_verify_file(ca_file, ec);
  if (ec) return connection_failed("cannot load the CA certificates" + (ca_file.empty() ? "" : " of '" + ca_file + "'"),
                                   ec.message());
  return std::unique_ptr<HttpsConnection>(new HttpsConnection(std::move(impl)));
}

Result<HttpResponse> HttpsConnection::request(const std::string& method, const std::string& target, const std::string& body,
                                            const HeaderList& headers) {
  const auto req = impl_->make(method, target, body, headers);
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!impl_->stream)
      if (auto st = impl_->connect(); !st) return std::move(st).error();
    beast::error_code ec;
    beast::get_lowest_layer(*impl_->stream).expires_after(kTimeout);
    http::write(*impl_->stream, req, ec);
    http::response_parser<http::string_body> parser;
    parser.body_limit(256 * 1024 * 1024);
    if (method == "HEAD") parser.skip(true);
    if (!ec) http::read(*impl_->stream, impl_->buffer, parser, ec);
    if (ec) {  // a kept-alive connection the server closed: reconnect once
      impl_->stream.reset();
      if (attempt == 1) return connection_failed(method + " " + target, ec.message());
      continue;
    }
    auto res = parser.release();
    HttpResponse out;
    out.status = static_cast<int>(res.result_int());
    for (const auto& f : res) out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    out.body = std::move(res.body());
    if (!res.keep_alive()) impl_->stream.reset();
    return out;
  }
  return connection_failed(method + " " + target, "no answer");
}

}  // namespace acg::api
