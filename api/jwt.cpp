#include "api/jwt.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>

#include <array>
#include <climits>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "api/tls_material.h"  // read_text_file, write_file_atomically

namespace acg::api {
namespace {

using json = nlohmann::json;

template <auto free_fn>
struct Free {
  template <class T>
  void operator()(T* p) const noexcept { free_fn(p); }
};
using BignumPtr = std::unique_ptr<BIGNUM, Free<BN_free>>;
using BioPtr = std::unique_ptr<BIO, Free<BIO_free_all>>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, Free<ECDSA_SIG_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Free<EVP_MD_CTX_free>>;

constexpr std::size_t kCoordinateBytes = 32;             // P-256 field element
constexpr std::size_t kSignatureBytes = 2 * kCoordinateBytes;  // JOSE r||s
// Far above any real token (Entra ID's are a few KB) and above what HTTP servers accept in a
// header; bounds the work an attacker can make verify() do.
constexpr std::size_t kMaxTokenBytes = 64 * 1024;

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<std::int8_t, 256> make_decode_table() {
  std::array<std::int8_t, 256> table{};
  for (auto& entry : table) entry = -1;
  for (int i = 0; i < 64; ++i)
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::int8_t>(i);
  return table;
}
constexpr std::array<std::int8_t, 256> kDecode = make_decode_table();

ArmError openssl_error(const std::string& what) {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return internal_error(what);
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return internal_error(what + ": " + text);
}

std::string_view as_chars(const unsigned char* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// ---- ECDSA signatures: OpenSSL speaks DER, JOSE wants fixed-width r||s (RFC 7518 3.4) -------

std::optional<std::string> der_to_jose(const unsigned char* der, std::size_t size) {
  const unsigned char* cursor = der;
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &cursor, static_cast<long>(size)));
  if (!sig) return std::nullopt;
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  unsigned char raw[kSignatureBytes];
  if (BN_bn2binpad(r, raw, kCoordinateBytes) != kCoordinateBytes ||
      BN_bn2binpad(s, raw + kCoordinateBytes, kCoordinateBytes) != kCoordinateBytes)
    return std::nullopt;
  return std::string(as_chars(raw, sizeof raw));
}

// Empty on failure; raw must be kSignatureBytes long.
std::vector<unsigned char> jose_to_der(std::string_view raw) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  BignumPtr r(BN_bin2bn(bytes, kCoordinateBytes, nullptr));
  BignumPtr s(BN_bin2bn(bytes + kCoordinateBytes, kCoordinateBytes, nullptr));
  EcdsaSigPtr sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) return {};
  r.release();  // now owned by sig
  s.release();
  const int size = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (size <= 0) return {};
  std::vector<unsigned char> der(static_cast<std::size_t>(size));
  unsigned char* cursor = der.data();
  if (i2d_ECDSA_SIG(sig.get(), &cursor) != size) return {};
  return der;
}

// A context per call: EVP_MD_CTX is mutable, the key is not, so concurrent calls share nothing.
std::optional<std::string> sign_es256(EVP_PKEY* key, std::string_view input) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  unsigned char der[128];  // a P-256 DER signature is at most 72 bytes
  std::size_t der_size = sizeof der;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), der, &der_size,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1)
    return std::nullopt;
  return der_to_jose(der, der_size);
}

bool verify_es256(EVP_PKEY* key, std::string_view input, std::string_view raw_signature) {
  if (raw_signature.size() != kSignatureBytes) return false;
  const std::vector<unsigned char> der = jose_to_der(raw_signature);
  MdCtxPtr ctx(EVP_MD_CTX_new());
  const bool valid =
      !der.empty() && ctx &&
      EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) == 1 &&
      EVP_DigestVerify(ctx.get(), der.data(), der.size(),
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  ERR_clear_error();  // a rejected signature queues errors that would linger on this thread
  return valid;
}

// ---- Token parts ---------------------------------------------------------------------------

struct Parts {
  std::string_view header, payload, signature, signing_input;
};

// Exactly three dot-separated parts; the signature may be empty (as in alg "none" tokens, which
// must be reported as unsupported rather than malformed).
std::optional<Parts> split(std::string_view token) {
  const std::size_t first = token.find('.');
  if (first == std::string_view::npos) return std::nullopt;
  const std::size_t second = token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos)
    return std::nullopt;
  return Parts{token.substr(0, first), token.substr(first + 1, second - first - 1),
               token.substr(second + 1), token.substr(0, second)};
}

std::optional<json> decode_object(std::string_view part) {
  std::optional<std::string> text = base64url_decode(part);
  if (!text) return std::nullopt;
  json value = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded() || !value.is_object()) return std::nullopt;
  return value;
}

std::optional<TokenProblem> check_header(const json& header, const std::string& kid) {
  const auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string()) return TokenProblem::malformed;
  if (alg->get_ref<const std::string&>() != "ES256") return TokenProblem::unsupported_algorithm;
  // RFC 7515 4.1.11: critical extensions we do not implement (we implement none) must fail.
  if (header.contains("crit")) return TokenProblem::malformed;
  const auto key_id = header.find("kid");
  if (key_id == header.end() || !key_id->is_string() ||
      key_id->get_ref<const std::string&>() != kid)
    return TokenProblem::bad_signature;
  return std::nullopt;
}

// ---- Keys ----------------------------------------------------------------------------------

int refuse_passphrase(char*, int, int, void*) { return -1; }  // never prompt on the terminal

std::optional<std::string> coordinate(EVP_PKEY* key, const char* param) {
  BIGNUM* value = nullptr;
  if (EVP_PKEY_get_bn_param(key, param, &value) != 1) return std::nullopt;
  BignumPtr owned(value);
  unsigned char bytes[kCoordinateBytes];
  if (BN_bn2binpad(value, bytes, sizeof bytes) != kCoordinateBytes) return std::nullopt;
  return base64url_encode(as_chars(bytes, sizeof bytes));
}

bool is_p256(EVP_PKEY* key) {
  char group[64] = {};
  return EVP_PKEY_is_a(key, "EC") &&
         EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                        nullptr) == 1 &&
         std::string_view(group) == SN_X9_62_prime256v1;
}

// RFC 7638: SHA-256 over the required members in lexicographic order without whitespace,
// which is exactly what nlohmann's sorted objects dump.
std::optional<std::string> thumbprint(const json& required_members) {
  const std::string canonical = required_members.dump();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(canonical.data(), canonical.size(), digest, &size, EVP_sha256(), nullptr) != 1)
    return std::nullopt;
  return base64url_encode(as_chars(digest, size));
}

Result<std::string> private_key_pem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return openssl_error("cannot encode the token signing key");
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

}  // namespace

// ---- base64url -----------------------------------------------------------------------------

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const char c : bytes) {
    buffer = (buffer << 8) | static_cast<unsigned char>(c);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(buffer >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (6 - bits)) & 0x3f]);
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;  // 6 bits cannot make a byte
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t buffer = 0;  // only the low `bits` bits matter; older bits may wrap away
  int bits = 0;
  for (const char c : text) {
    const std::int8_t value = kDecode[static_cast<unsigned char>(c)];
    if (value < 0) return std::nullopt;
    buffer = (buffer << 6) | static_cast<std::uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  if ((buffer & ((1u << bits) - 1)) != 0) return std::nullopt;  // non-canonical trailing bits
  return out;
}

// ---- TokenSigner ---------------------------------------------------------------------------

void TokenSigner::KeyFree::operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }

TokenSigner::TokenSigner(KeyPtr key, json jwk)
    : key_(std::move(key)),
      jwk_(std::move(jwk)),
      kid_(jwk_.at("kid").get<std::string>()),
      header_b64_(base64url_encode(json{{"alg", "ES256"}, {"typ", "JWT"}, {"kid", kid_}}.dump())) {}

Result<TokenSigner> TokenSigner::from_key(KeyPtr key) {
  if (!is_p256(key.get())) return internal_error("the token signing key is not an EC P-256 key");
  std::optional<std::string> x = coordinate(key.get(), OSSL_PKEY_PARAM_EC_PUB_X);
  std::optional<std::string> y = coordinate(key.get(), OSSL_PKEY_PARAM_EC_PUB_Y);
  if (!x || !y) return openssl_error("cannot read the token signing key's public point");
  json jwk = {{"kty", "EC"}, {"crv", "P-256"}, {"x", *x}, {"y", *y}};
  std::optional<std::string> kid = thumbprint(jwk);
  if (!kid) return openssl_error("cannot hash the token signing key");
  jwk["kid"] = *kid;
  jwk["use"] = "sig";
  jwk["alg"] = "ES256";
  return TokenSigner(std::move(key), std::move(jwk));
}

Result<TokenSigner> TokenSigner::generate() {
  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return openssl_error("cannot generate the token signing key");
  return from_key(std::move(key));
}

Result<TokenSigner> TokenSigner::load_or_create(const std::filesystem::path& key_file) {
  std::error_code ec;
  const bool exists = std::filesystem::exists(key_file, ec);
  if (ec) return internal_error("cannot access " + key_file.string() + ": " + ec.message());
  return exists ? load(key_file) : create(key_file);
}

Result<TokenSigner> TokenSigner::load(const std::filesystem::path& key_file) {
  Result<std::string> pem = read_text_file(key_file);
  if (!pem) return std::move(pem).error();
  BioPtr bio(pem->size() <= INT_MAX ? BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size()))
                                    : nullptr);
  KeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, refuse_passphrase, nullptr)
                 : nullptr);
  if (!key)
    return openssl_error(key_file.string() + " does not contain an unencrypted PEM private key");
  Result<TokenSigner> signer = from_key(std::move(key));
  if (!signer) return internal_error(key_file.string() + ": " + signer.error().message);
  return signer;
}

Result<TokenSigner> TokenSigner::create(const std::filesystem::path& key_file) {
  std::error_code ec;
  if (key_file.has_parent_path()) std::filesystem::create_directories(key_file.parent_path(), ec);
  if (ec)
    return internal_error("cannot create " + key_file.parent_path().string() + ": " + ec.message());
  Result<TokenSigner> signer = generate();
  if (!signer) return signer;
  Result<std::string> pem = private_key_pem(signer->key_.get());
  if (!pem) return std::move(pem).error();
  Status written = write_file_atomically(key_file, *pem, /*secret=*/true);
  if (!written) return std::move(written).error();
  return signer;
}

std::string TokenSigner::sign(const json& claims) const {
  std::string token = header_b64_;
  token += '.';
  token += base64url_encode(claims.dump(-1, ' ', false, json::error_handler_t::replace));
  std::optional<std::string> signature = sign_es256(key_.get(), token);
  if (!signature) throw std::runtime_error(openssl_error("ES256 signing failed").message);
  token += '.';
  token += base64url_encode(*signature);
  return token;
}

// The order matters: the header decides whether we can check the signature at all, and the
// payload is parsed only once the signature proves we wrote it.
std::variant<json, TokenProblem> TokenSigner::verify(std::string_view token) const {
  if (token.size() > kMaxTokenBytes) return TokenProblem::malformed;
  const std::optional<Parts> parts = split(token);
  if (!parts) return TokenProblem::malformed;
  const std::optional<json> header = decode_object(parts->header);
  if (!header) return TokenProblem::malformed;
  if (std::optional<TokenProblem> problem = check_header(*header, kid_)) return *problem;
  const std::optional<std::string> signature = base64url_decode(parts->signature);
  if (!signature) return TokenProblem::malformed;
  if (!verify_es256(key_.get(), parts->signing_input, *signature))
    return TokenProblem::bad_signature;
  std::optional<json> claims = decode_object(parts->payload);
  if (!claims) return TokenProblem::malformed;
  return std::move(*claims);
}

json TokenSigner::jwks() const { return json{{"keys", json::array({jwk_})}}; }

}  // namespace acg::api
