#include "api/tls_material.h"

#include <arpa/inet.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace acg::api;
using acg::Result;
namespace fs = std::filesystem;

template <auto free_fn>
struct Free {
  template <class T>
  void operator()(T* p) const noexcept { free_fn(p); }
};
using X509Ptr = std::unique_ptr<X509, Free<X509_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Free<EVP_PKEY_free>>;
using StorePtr = std::unique_ptr<X509_STORE, Free<X509_STORE_free>>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Free<X509_STORE_CTX_free>>;
using SslCtxPtr = std::unique_ptr<SSL_CTX, Free<SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, Free<SSL_free>>;

X509Ptr parse_cert(const std::string& pem) {
  std::unique_ptr<BIO, Free<BIO_free>> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

PkeyPtr parse_key(const std::string& pem) {
  std::unique_ptr<BIO, Free<BIO_free>> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return PkeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

bool is_ip(const std::string& host) {
  unsigned char bytes[16];
  return inet_pton(AF_INET, host.c_str(), bytes) == 1 || inet_pton(AF_INET6, host.c_str(), bytes) == 1;
}

// X509_V_OK when leaf chains to ca for TLS server use and names host in its SAN.
int verify_for_host(const std::string& ca_pem, const std::string& leaf_pem, const std::string& host) {
  X509Ptr ca = parse_cert(ca_pem);
  X509Ptr leaf = parse_cert(leaf_pem);
  REQUIRE(ca);
  REQUIRE(leaf);
  StorePtr store(X509_STORE_new());
  REQUIRE(X509_STORE_add_cert(store.get(), ca.get()) == 1);
  StoreCtxPtr ctx(X509_STORE_CTX_new());
  REQUIRE(X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), nullptr) == 1);
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
  if (is_ip(host))
    X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
  else
    X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
  X509_verify_cert(ctx.get());
  const int result = X509_STORE_CTX_get_error(ctx.get());
  INFO("verify: " << X509_verify_cert_error_string(result));
  return result;
}

std::vector<std::string> subject_alt_names(const std::string& cert_pem) {
  X509Ptr cert = parse_cert(cert_pem);
  REQUIRE(cert);
  std::unique_ptr<GENERAL_NAMES, Free<GENERAL_NAMES_free>> names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr)));
  std::vector<std::string> out;
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    const ASN1_STRING* value = name->d.ia5;  // same union member type for DNS and IP
    const auto* data = ASN1_STRING_get0_data(value);
    const int size = ASN1_STRING_length(value);
    if (name->type == GEN_DNS) {
      out.push_back("DNS:" + std::string(reinterpret_cast<const char*>(data), size));
    } else if (name->type == GEN_IPADD) {
      char text[INET6_ADDRSTRLEN];
      inet_ntop(size == 4 ? AF_INET : AF_INET6, data, text, sizeof text);
      out.push_back(std::string("IP:") + text);
    }
  }
  return out;
}

struct TempDir {
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "acg-tls-test-XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path path;
};

void write(const fs::path& file, const std::string& text) { std::ofstream(file, std::ios::binary) << text; }

std::string read(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

unsigned mode_of(const fs::path& file) {
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

// Drives a real TLS 1.3 handshake over an in-memory BIO pair: proves the PEMs load into
// SSL_CTX and that a client trusting only the CA accepts the server as `host`.
bool handshake(const TlsMaterial& m, const std::string& host) {
  SslCtxPtr server_ctx(SSL_CTX_new(TLS_server_method()));
  SslCtxPtr client_ctx(SSL_CTX_new(TLS_client_method()));
  X509Ptr leaf = parse_cert(m.server_cert_pem);
  PkeyPtr key = parse_key(m.server_key_pem);
  X509Ptr ca = parse_cert(m.ca_cert_pem);
  REQUIRE(SSL_CTX_use_certificate(server_ctx.get(), leaf.get()) == 1);
  REQUIRE(SSL_CTX_use_PrivateKey(server_ctx.get(), key.get()) == 1);
  REQUIRE(X509_STORE_add_cert(SSL_CTX_get_cert_store(client_ctx.get()), ca.get()) == 1);
  SSL_CTX_set_verify(client_ctx.get(), SSL_VERIFY_PEER, nullptr);
  SslPtr server(SSL_new(server_ctx.get()));
  SslPtr client(SSL_new(client_ctx.get()));
  REQUIRE(SSL_set1_host(client.get(), host.c_str()) == 1);
  BIO* server_bio = nullptr;
  BIO* client_bio = nullptr;
  REQUIRE(BIO_new_bio_pair(&server_bio, 0, &client_bio, 0) == 1);
  SSL_set_bio(server.get(), server_bio, server_bio);
  SSL_set_bio(client.get(), client_bio, client_bio);
  SSL_set_accept_state(server.get());
  SSL_set_connect_state(client.get());
  bool client_done = false, server_done = false;
  for (int round = 0; round < 20 && !(client_done && server_done); ++round) {
    client_done = client_done || SSL_do_handshake(client.get()) == 1;
    server_done = server_done || SSL_do_handshake(server.get()) == 1;
  }
  return client_done && server_done && SSL_get_verify_result(client.get()) == X509_V_OK;
}

}  // namespace

TEST_CASE("generated leaf chains to the CA with the default names", "[tls]") {
  Result<TlsMaterial> m = generate_tls_material();
  REQUIRE(m.ok());
  CHECK(verify_for_host(m->ca_cert_pem, m->server_cert_pem, "localhost") == X509_V_OK);
  CHECK(verify_for_host(m->ca_cert_pem, m->server_cert_pem, "127.0.0.1") == X509_V_OK);
  CHECK(verify_for_host(m->ca_cert_pem, m->server_cert_pem, "::1") == X509_V_OK);
  CHECK(verify_for_host(m->ca_cert_pem, m->server_cert_pem, "example.com") != X509_V_OK);
  CHECK(subject_alt_names(m->server_cert_pem) ==
        std::vector<std::string>{"DNS:localhost", "IP:127.0.0.1", "IP:::1"});
  CHECK(m->server_key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));  // PKCS#8
  CHECK(m->ca_key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
  CHECK(handshake(*m, "localhost"));
}

TEST_CASE("generated certificates have the promised profile", "[tls]") {
  Result<TlsMaterial> m = generate_tls_material();
  REQUIRE(m.ok());
  X509Ptr ca = parse_cert(m->ca_cert_pem);
  X509Ptr leaf = parse_cert(m->server_cert_pem);
  CHECK(X509_check_ca(ca.get()) == 1);
  CHECK(X509_check_ca(leaf.get()) == 0);
  CHECK((X509_get_key_usage(ca.get()) & KU_KEY_CERT_SIGN) != 0);
  CHECK(X509_get_key_usage(leaf.get()) == KU_DIGITAL_SIGNATURE);
  CHECK(X509_get_extended_key_usage(leaf.get()) == XKU_SSL_SERVER);
  CHECK(X509_get_signature_nid(leaf.get()) == NID_ecdsa_with_SHA256);
  CHECK(EVP_PKEY_is_a(X509_get0_pubkey(leaf.get()), "EC"));

  int days = 0, seconds = 0;
  REQUIRE(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(leaf.get()), X509_get0_notAfter(leaf.get())));
  CHECK(days == 825);
  CHECK(seconds == 0);
  REQUIRE(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(ca.get()), X509_get0_notAfter(ca.get())));
  CHECK(days == 3650);

  const ASN1_OCTET_STRING* ca_ski = X509_get0_subject_key_id(ca.get());
  const ASN1_OCTET_STRING* leaf_aki = X509_get0_authority_key_id(leaf.get());
  REQUIRE(ca_ski);
  REQUIRE(leaf_aki);
  CHECK(ASN1_OCTET_STRING_cmp(ca_ski, leaf_aki) == 0);
  CHECK(X509_get0_subject_key_id(leaf.get()) != nullptr);

  std::unique_ptr<BIGNUM, Free<BN_free>> serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf.get()), nullptr));
  CHECK(BN_num_bits(serial.get()) > 100);  // 128 random bits; fewer than 101 has odds 2^-27
}

TEST_CASE("extra hosts are added; invalid hosts are refused", "[tls]") {
  Result<TlsMaterial> m = generate_tls_material({"Emulator.Test", "192.168.1.5", "[fd00::1]", "localhost"});
  REQUIRE(m.ok());
  CHECK(subject_alt_names(m->server_cert_pem) ==
        std::vector<std::string>{"DNS:localhost", "IP:127.0.0.1", "IP:::1", "DNS:emulator.test",
                                 "IP:192.168.1.5", "IP:fd00::1"});
  CHECK(verify_for_host(m->ca_cert_pem, m->server_cert_pem, "emulator.test") == X509_V_OK);

  for (const std::string& bad : std::vector<std::string>{"", "a b", "evil.com,DNS:other.com", "-x.com", "a..b", "x.com.",
                                std::string(300, 'a'), std::string("nul\0byte", 8)}) {
    Result<TlsMaterial> refused = generate_tls_material({bad});
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().status == 400);
  }
}

TEST_CASE("issue_server_certificate signs arbitrary hosts with the CA", "[tls]") {
  Result<TlsMaterial> m = generate_tls_material();
  REQUIRE(m.ok());
  auto issued = issue_server_certificate(*m, {"management.azure.com", "10.1.2.3"});
  REQUIRE(issued.ok());
  CHECK(verify_for_host(m->ca_cert_pem, issued->first, "management.azure.com") == X509_V_OK);
  CHECK(verify_for_host(m->ca_cert_pem, issued->first, "10.1.2.3") == X509_V_OK);
  CHECK(verify_for_host(m->ca_cert_pem, issued->first, "localhost") != X509_V_OK);
  TlsMaterial proxied = *m;
  proxied.server_cert_pem = issued->first;
  proxied.server_key_pem = issued->second;
  CHECK(handshake(proxied, "management.azure.com"));

  // A name too long for the CN still works: the SAN alone carries it.
  const std::string long_name = std::string(60, 'a') + ".example.com";
  auto long_issued = issue_server_certificate(*m, {long_name});
  REQUIRE(long_issued.ok());
  CHECK(verify_for_host(m->ca_cert_pem, long_issued->first, long_name) == X509_V_OK);

  CHECK_FALSE(issue_server_certificate(*m, {}).ok());
  CHECK_FALSE(issue_server_certificate(*m, {"bad host"}).ok());
  TlsMaterial no_key = *m;
  no_key.ca_key_pem.clear();
  CHECK_FALSE(issue_server_certificate(no_key, {"localhost"}).ok());
  TlsMaterial wrong_key = *m;
  wrong_key.ca_key_pem = m->server_key_pem;
  CHECK_FALSE(issue_server_certificate(wrong_key, {"localhost"}).ok());
}

TEST_CASE("load_or_create generates once, then reuses", "[tls]") {
  TempDir tmp;
  const fs::path dir = tmp.path / "nested" / "tls";
  Result<TlsMaterial> first = load_or_create_tls_material(dir);
  REQUIRE(first.ok());
  Result<TlsMaterial> second = load_or_create_tls_material(dir);
  REQUIRE(second.ok());
  CHECK(second->ca_cert_pem == first->ca_cert_pem);
  CHECK(second->ca_key_pem == first->ca_key_pem);
  CHECK(second->server_cert_pem == first->server_cert_pem);
  CHECK(second->server_key_pem == first->server_key_pem);
  CHECK(mode_of(dir / "server.key") == 0600);
  CHECK(mode_of(dir / "ca.key") == 0600);
  CHECK((mode_of(dir / "ca.pem") & 0077) != 0);  // certificates are public
  CHECK(read(dir / "server.pem") == first->server_cert_pem);
  for (const auto& entry : fs::directory_iterator(dir))  // no temp files left behind
    CHECK(entry.path().filename().string().find(".tmp") == std::string::npos);
  CHECK(verify_for_host(second->ca_cert_pem, second->server_cert_pem, "localhost") == X509_V_OK);
}

TEST_CASE("load_or_create keeps the trusted CA when only the leaf is missing", "[tls]") {
  TempDir tmp;
  Result<TlsMaterial> first = load_or_create_tls_material(tmp.path);
  REQUIRE(first.ok());
  fs::remove(tmp.path / "server.pem");
  Result<TlsMaterial> second = load_or_create_tls_material(tmp.path);
  REQUIRE(second.ok());
  CHECK(second->ca_cert_pem == first->ca_cert_pem);
  CHECK(second->server_cert_pem != first->server_cert_pem);
  CHECK(read(tmp.path / "server.pem") == second->server_cert_pem);
  CHECK(verify_for_host(second->ca_cert_pem, second->server_cert_pem, "localhost") == X509_V_OK);
}

TEST_CASE("load_or_create renews a leaf that is about to expire", "[tls]") {
  TempDir tmp;
  Result<TlsMaterial> first = load_or_create_tls_material(tmp.path);
  REQUIRE(first.ok());
  // Re-sign the cached leaf with 10 days left, as if it had been issued 815 days ago.
  X509Ptr leaf = parse_cert(first->server_cert_pem);
  PkeyPtr ca_key = parse_key(first->ca_key_pem);
  REQUIRE(X509_time_adj_ex(X509_getm_notAfter(leaf.get()), 10, 0, nullptr));
  REQUIRE(X509_sign(leaf.get(), ca_key.get(), EVP_sha256()) > 0);
  std::unique_ptr<BIO, Free<BIO_free>> bio(BIO_new(BIO_s_mem()));
  REQUIRE(PEM_write_bio_X509(bio.get(), leaf.get()) == 1);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  const std::string expiring(data, static_cast<std::size_t>(size));
  write(tmp.path / "server.pem", expiring);

  Result<TlsMaterial> renewed = load_or_create_tls_material(tmp.path);
  REQUIRE(renewed.ok());
  CHECK(renewed->ca_cert_pem == first->ca_cert_pem);
  CHECK(renewed->server_cert_pem != expiring);
  CHECK(read(tmp.path / "server.pem") == renewed->server_cert_pem);
  CHECK(verify_for_host(renewed->ca_cert_pem, renewed->server_cert_pem, "localhost") == X509_V_OK);
}

TEST_CASE("load_or_create reports unusable files by name", "[tls]") {
  TempDir tmp;
  REQUIRE(load_or_create_tls_material(tmp.path).ok());
  const std::string good_ca = read(tmp.path / "ca.pem");

  SECTION("corrupt certificate") {
    write(tmp.path / "server.pem", "-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n");
    Result<TlsMaterial> m = load_or_create_tls_material(tmp.path);
    REQUIRE_FALSE(m.ok());
    CHECK_THAT(m.error().message, Catch::Contains("server.pem"));
  }
  SECTION("corrupt key") {
    write(tmp.path / "ca.key", "not a key");
    Result<TlsMaterial> m = load_or_create_tls_material(tmp.path);
    REQUIRE_FALSE(m.ok());
    CHECK_THAT(m.error().message, Catch::Contains("ca.key"));
  }
  SECTION("key of another certificate") {
    Result<TlsMaterial> other = generate_tls_material();
    REQUIRE(other.ok());
    write(tmp.path / "server.key", other->server_key_pem);
    Result<TlsMaterial> m = load_or_create_tls_material(tmp.path);
    REQUIRE_FALSE(m.ok());
    CHECK_THAT(m.error().message, Catch::Contains("server.key"));
  }
  SECTION("leaf from another CA") {
    Result<TlsMaterial> other = generate_tls_material();
    REQUIRE(other.ok());
    write(tmp.path / "server.pem", other->server_cert_pem);
    write(tmp.path / "server.key", other->server_key_pem);
    Result<TlsMaterial> m = load_or_create_tls_material(tmp.path);
    REQUIRE_FALSE(m.ok());
    CHECK_THAT(m.error().message, Catch::Contains("was not issued by"));
  }
  SECTION("directory is a file") {
    write(tmp.path / "plain", "x");
    Result<TlsMaterial> m = load_or_create_tls_material(tmp.path / "plain");
    REQUIRE_FALSE(m.ok());
    CHECK_THAT(m.error().message, Catch::Contains("plain"));
  }
  CHECK(read(tmp.path / "ca.pem") == good_ca);  // an error never replaces the trusted CA
}

TEST_CASE("load_tls_material_from_files reads a user's chain and key", "[tls]") {
  TempDir tmp;
  Result<TlsMaterial> m = generate_tls_material();
  REQUIRE(m.ok());
  const std::string chain = m->server_cert_pem + m->ca_cert_pem;
  write(tmp.path / "chain.pem", chain);
  write(tmp.path / "key.pem", m->server_key_pem);

  Result<TlsMaterial> loaded = load_tls_material_from_files(tmp.path / "chain.pem", tmp.path / "key.pem");
  REQUIRE(loaded.ok());
  CHECK(loaded->ca_cert_pem == chain);
  CHECK(loaded->server_cert_pem == chain);
  CHECK(loaded->server_key_pem == m->server_key_pem);
  CHECK(loaded->ca_key_pem.empty());

  Result<TlsMaterial> other = generate_tls_material();
  REQUIRE(other.ok());
  write(tmp.path / "other.key", other->server_key_pem);
  Result<TlsMaterial> mismatch = load_tls_material_from_files(tmp.path / "chain.pem", tmp.path / "other.key");
  REQUIRE_FALSE(mismatch.ok());
  CHECK_THAT(mismatch.error().message, Catch::Contains("does not match"));

  Result<TlsMaterial> missing = load_tls_material_from_files(tmp.path / "nope.pem", tmp.path / "key.pem");
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.error().message, Catch::Contains("nope.pem"));

  write(tmp.path / "empty.pem", "");
  CHECK_FALSE(load_tls_material_from_files(tmp.path / "empty.pem", tmp.path / "key.pem").ok());
  CHECK_FALSE(load_tls_material_from_files(tmp.path / "chain.pem", tmp.path / "chain.pem").ok());
}
