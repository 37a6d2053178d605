#include "tests/support/https_client.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>
#include <stdexcept>

#include "emulator/text.h"

namespace acg::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

std::string ClientResponse::header(const std::string& name) const {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return v;
  return {};
}

nlohmann::json ClientResponse::json() const { return nlohmann::json::parse(body, nullptr, false); }

std::string ClientResponse::error_code() const {
  auto j = json();
  if (j.is_object() && j.contains("error") && j["error"].is_object()) return j["error"].value("code", "");
  return {};
}

struct HttpsClient::Impl {
  std::string host;
  std::uint16_t port;
  std::string server_name = "localhost";  // SNI, verified name and Host
  bool proxied = false;                   // host:port is a proxy to CONNECT through
  asio::io_context ioc;
  ssl::context tls{ssl::context::tls_client};
  std::optional<beast::ssl_stream<beast::tcp_stream>> stream;
  beast::flat_buffer buffer;

  void connect() {
    stream.emplace(ioc, tls);
    SSL_set_tlsext_host_name(stream->native_handle(), server_name.c_str());
    stream->set_verify_callback(ssl::host_name_verification(server_name));
    tcp::resolver resolver(ioc);
    beast::get_lowest_layer(*stream).expires_after(std::chrono::seconds(30));
    beast::get_lowest_layer(*stream).connect(resolver.resolve(host, std::to_string(port)));
    if (proxied) open_tunnel();
    stream->handshake(ssl::stream_base::client);
    buffer.clear();
  }

  // CONNECT on the plain connection, before TLS starts; anything but 200 is an error.
  void open_tunnel() {
    auto& tcp_stream = beast::get_lowest_layer(*stream);
    const std::string connect = "CONNECT " + server_name + ":443 HTTP/1.1\r\nHost: " + server_name + ":443\r\n\r\n";
    asio::write(tcp_stream, asio::buffer(connect));
    std::string head;
    char c = 0;
    while (head.find("\r\n\r\n") == std::string::npos && head.size() < 8192) {
      asio::read(tcp_stream, asio::buffer(&c, 1));  // byte by byte: nothing after the head is ours
      head += c;
    }
    if (head.rfind("HTTP/1.1 200", 0) != 0) throw std::runtime_error("the proxy refused the CONNECT: " + head);
  }
};

HttpsClient::HttpsClient(std::string host, std::uint16_t port, std::string ca_pem) : impl_(std::make_unique<Impl>()) {
  impl_->host = std::move(host);
  impl_->port = port;
  impl_->tls.set_verify_mode(ssl::verify_peer);
  impl_->tls.add_certificate_authority(asio::buffer(ca_pem));
}

HttpsClient HttpsClient::through_proxy(std::uint16_t proxy_port, std::string server_name, std::string ca_pem) {
  HttpsClient client("127.0.0.1", proxy_port, std::move(ca_pem));
  client.impl_->server_name = std::move(server_name);
  client.impl_->proxied = true;
  return client;
}

HttpsClient::~HttpsClient() = default;
HttpsClient::HttpsClient(HttpsClient&&) noexcept = default;

ClientResponse HttpsClient::request(const std::string& method, const std::string& target, const std::string& body,
                                    const Headers& headers) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!impl_->stream) impl_->connect();
    http::request<http::string_body> req{http::string_to_verb(method), target, 11};
    req.set(http::field::host, impl_->proxied ? impl_->server_name : "localhost:" + std::to_string(impl_->port));
    req.set(http::field::user_agent, "acg-emulator-tests");
    bool has_content_type = false;
    for (const auto& [k, v] : headers) {
      req.set(k, v);
      if (iequals(k, "Content-Type")) has_content_type = true;
    }
    if (!body.empty() && !has_content_type) req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    beast::error_code ec;
    beast::get_lowest_layer(*impl_->stream).expires_after(std::chrono::seconds(30));
    http::write(*impl_->stream, req, ec);
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    if (method == "HEAD") parser.skip(true);
    if (!ec) http::read(*impl_->stream, impl_->buffer, parser, ec);
    if (ec) {  // the server closed the kept-alive connection: reconnect once
      impl_->stream.reset();
      if (attempt == 1) throw beast::system_error(ec);
      continue;
    }
    auto res = parser.release();
    ClientResponse out;
    out.status = static_cast<int>(res.result_int());
    for (const auto& f : res) out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    out.body = std::move(res.body());
    if (!res.keep_alive()) impl_->stream.reset();
    return out;
  }
  return {};
}

std::string HttpsClient::raw(const std::string& bytes) {
  impl_->connect();
  asio::write(*impl_->stream, asio::buffer(bytes));
  std::string out;
  beast::error_code ec;
  char chunk[4096];
  for (;;) {
    size_t n = impl_->stream->read_some(asio::buffer(chunk), ec);
    out.append(chunk, n);
    if (ec) break;
  }
  impl_->stream.reset();
  return out;
}

}  // namespace acg::test
