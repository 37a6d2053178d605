#include "api/jwt.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>
#include <vector>

namespace {

using namespace acg::api;
using acg::Result;
using json = nlohmann::json;
namespace fs = std::filesystem;

bool verifies(const TokenSigner& signer, std::string_view token) {
  return std::holds_alternative<json>(signer.verify(token));
}

std::optional<TokenProblem> problem(const TokenSigner& signer, std::string_view token) {
  auto result = signer.verify(token);
  if (std::holds_alternative<json>(result)) return std::nullopt;
  return std::get<TokenProblem>(result);
}

std::vector<std::string> split(const std::string& token) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t dot; (dot = token.find('.', start)) != std::string::npos; start = dot + 1)
    parts.push_back(token.substr(start, dot - start));
  parts.push_back(token.substr(start));
  return parts;
}

std::string b64(const json& value) { return base64url_encode(value.dump()); }

TokenSigner make_signer() {
  Result<TokenSigner> signer = TokenSigner::generate();
  REQUIRE(signer.ok());
  return std::move(signer).value();
}

struct TempDir {
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "acg-jwt-test-XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path path;
};

}  // namespace

TEST_CASE("base64url matches RFC 4648 and round-trips", "[jwt]") {
  const std::pair<std::string, std::string> vectors[] = {
      {"", ""},           {"f", "Zg"},           {"fo", "Zm8"},           {"foo", "Zm9v"},
      {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}, {"\xfb\xff", "-_8"}};
  for (const auto& [bytes, text] : vectors) {
    CHECK(base64url_encode(bytes) == text);
    CHECK(base64url_decode(text) == bytes);
  }
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes.push_back(static_cast<char>(i));
  CHECK(base64url_decode(base64url_encode(all_bytes)) == all_bytes);

  std::mt19937 rng(42);
  for (std::size_t size = 0; size < 200; ++size) {
    std::string bytes(size, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    CHECK(base64url_decode(base64url_encode(bytes)) == bytes);
  }
}

TEST_CASE("base64url_decode refuses junk", "[jwt]") {
  for (std::string_view bad : std::vector<std::string_view>{"Zg==", "Z", "Zh", "Zm9", "Zm9vY", "a b", "+/", "Zm9v\n", "\xff\xfe",
                               std::string_view("Zg\0", 3)}) {
    CHECK_FALSE(base64url_decode(bad).has_value());
  }
  CHECK(base64url_decode("Zm8").has_value());
}

TEST_CASE("sign and verify round-trip", "[jwt]") {
  const TokenSigner signer = make_signer();
  const json claims = {{"iss", "https://login.emulator/tenant/"}, {"sub", "user"}, {"exp", 1893456000},
                       {"roles", {"Owner"}}, {"name", "Zoë"}};
  const std::string token = signer.sign(claims);
  const std::vector<std::string> parts = split(token);
  REQUIRE(parts.size() == 3);
  CHECK(json::parse(*base64url_decode(parts[0])) ==
        json{{"alg", "ES256"}, {"typ", "JWT"}, {"kid", signer.kid()}});
  CHECK(base64url_decode(parts[2])->size() == 64);

  auto result = signer.verify(token);
  REQUIRE(std::holds_alternative<json>(result));
  CHECK(std::get<json>(result) == claims);

  const json jwks = signer.jwks();
  REQUIRE(jwks["keys"].size() == 1);
  const json& key = jwks["keys"][0];
  CHECK(key["kty"] == "EC");
  CHECK(key["crv"] == "P-256");
  CHECK(key["use"] == "sig");
  CHECK(key["alg"] == "ES256");
  CHECK(key["kid"] == signer.kid());
  CHECK(base64url_decode(key["x"].get<std::string>())->size() == 32);
  CHECK(base64url_decode(key["y"].get<std::string>())->size() == 32);
  CHECK(make_signer().kid() != signer.kid());
}

TEST_CASE("sign never throws on invalid UTF-8", "[jwt]") {
  const TokenSigner signer = make_signer();
  const std::string token = signer.sign(json{{"name", "bad \xff\xfe utf8"}});
  CHECK(verifies(signer, token));
}

TEST_CASE("verify rejects tampering and foreign tokens", "[jwt]") {
  const TokenSigner signer = make_signer();
  const TokenSigner other = make_signer();
  const std::string token = signer.sign({{"sub", "user"}, {"admin", false}});
  const std::vector<std::string> parts = split(token);

  SECTION("tampered payload") {
    const std::string forged = parts[0] + "." + b64({{"sub", "user"}, {"admin", true}}) + "." + parts[2];
    CHECK(problem(signer, forged) == TokenProblem::bad_signature);
  }
  SECTION("alg none") {
    const std::string none = b64({{"alg", "none"}, {"typ", "JWT"}, {"kid", signer.kid()}});
    CHECK(problem(signer, none + "." + parts[1] + ".") == TokenProblem::unsupported_algorithm);
    CHECK(problem(signer, none + "." + parts[1] + "." + parts[2]) == TokenProblem::unsupported_algorithm);
  }
  SECTION("other algorithms") {
    for (const char* alg : {"HS256", "RS256", "ES384", "es256", "None"}) {
      const std::string header = b64({{"alg", alg}, {"kid", signer.kid()}});
      CHECK(problem(signer, header + "." + parts[1] + "." + parts[2]) == TokenProblem::unsupported_algorithm);
    }
    CHECK(problem(signer, b64({{"kid", signer.kid()}}) + "." + parts[1] + "." + parts[2]) ==
          TokenProblem::malformed);
    CHECK(problem(signer, b64({{"alg", 7}}) + "." + parts[1] + "." + parts[2]) == TokenProblem::malformed);
  }
  SECTION("token from another signer") {
    CHECK(problem(signer, other.sign({{"sub", "user"}})) == TokenProblem::bad_signature);
    CHECK(problem(other, token) == TokenProblem::bad_signature);
    // Same kid as ours, signed by the other key: the signature check itself must catch it.
    const std::vector<std::string> foreign = split(other.sign({{"sub", "user"}}));
    CHECK(problem(signer, parts[0] + "." + foreign[1] + "." + foreign[2]) == TokenProblem::bad_signature);
  }
  SECTION("missing or foreign kid") {
    const std::string no_kid = b64({{"alg", "ES256"}});
    CHECK(problem(signer, no_kid + "." + parts[1] + "." + parts[2]) == TokenProblem::bad_signature);
  }
  SECTION("critical header extensions") {
    const std::string crit = b64({{"alg", "ES256"}, {"kid", signer.kid()}, {"crit", {"exp"}}});
    CHECK_FALSE(verifies(signer, crit + "." + parts[1] + "." + parts[2]));
  }
  SECTION("payload that is not an object") {
    CHECK(problem(signer, signer.sign(json::array({1, 2}))) == TokenProblem::malformed);
    CHECK(problem(signer, signer.sign("text")) == TokenProblem::malformed);
  }
  SECTION("DER signature instead of JOSE r||s") {
    std::string der(72, '\x30');
    CHECK(problem(signer, parts[0] + "." + parts[1] + "." + base64url_encode(der)) == TokenProblem::bad_signature);
  }
  SECTION("any single-character change") {
    for (std::size_t i = 0; i < token.size(); ++i) {
      for (const char c : {'A', 'B', 'g', 'h', '0', '-', '_', '.', '='}) {
        if (token[i] == c) continue;
        std::string mutated = token;
        mutated[i] = c;
        INFO("position " << i << " -> " << c);
        CHECK_FALSE(verifies(signer, mutated));
      }
    }
    CHECK_FALSE(verifies(signer, token + "A"));
    CHECK_FALSE(verifies(signer, token.substr(0, token.size() - 1)));
    CHECK(verifies(signer, token));
  }
}

TEST_CASE("verify survives garbage", "[jwt]") {
  const TokenSigner signer = make_signer();
  const std::string token = signer.sign({{"sub", "user"}});
  for (std::string_view junk : std::vector<std::string_view>{"", ".", "..", "...", "a.b", "a.b.c", "a.b.c.d", "e30.e30.", "e30.e30.e30",
                                "W10.e30.AA", "bnVsbA.e30.", std::string_view("\0.\0.\0", 5)}) {
    CHECK_FALSE(verifies(signer, junk));
  }
  CHECK(problem(signer, std::string(10'000'000, 'a')) == TokenProblem::malformed);
  CHECK(problem(signer, std::string(100'000, 'a') + ".e30.AA") == TokenProblem::malformed);
  // Deeply nested JSON headers must not exhaust the stack.
  CHECK(problem(signer, base64url_encode(std::string(40'000, '[')) + ".e30.AA") == TokenProblem::malformed);

  std::mt19937 rng(7);
  const std::string pieces[] = {".", "e30", "eyJhbGciOiJFUzI1NiJ9", "-", "_", "=", "\xff", "A"};
  for (int i = 0; i < 20'000; ++i) {
    std::string input;
    const int length = static_cast<int>(rng() % 40);
    for (int j = 0; j < length; ++j) {
      if (rng() % 3 == 0)
        input += pieces[rng() % std::size(pieces)];
      else
        input.push_back(static_cast<char>(rng()));
    }
    CHECK_FALSE(verifies(signer, input));
  }
  // Random bytes spliced into a real token.
  for (int i = 0; i < 5'000; ++i) {
    std::string input = token;
    input[rng() % input.size()] = static_cast<char>(rng());
    input.insert(rng() % input.size(), 1, static_cast<char>(rng()));
    CHECK_FALSE(verifies(signer, input));
  }
}

TEST_CASE("sign and verify are safe from many threads", "[jwt]") {
  const TokenSigner signer = make_signer();
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const json claims = {{"thread", t}, {"i", i}};
        auto result = signer.verify(signer.sign(claims));
        if (!std::holds_alternative<json>(result) || std::get<json>(result) != claims) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(failures == 0);
}

TEST_CASE("TokenSigner is movable", "[jwt]") {
  TokenSigner signer = make_signer();
  const std::string kid = signer.kid();
  TokenSigner moved = std::move(signer);
  CHECK(moved.kid() == kid);
  CHECK(verifies(moved, moved.sign({{"a", 1}})));
}

TEST_CASE("load_or_create persists the key", "[jwt]") {
  TempDir tmp;
  const fs::path file = tmp.path / "keys" / "token-signing.pem";
  Result<TokenSigner> first = TokenSigner::load_or_create(file);
  REQUIRE(first.ok());
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  const std::string token = first->sign({{"sub", "before restart"}});

  Result<TokenSigner> second = TokenSigner::load_or_create(file);
  REQUIRE(second.ok());
  CHECK(second->kid() == first->kid());
  CHECK(second->jwks() == first->jwks());
  CHECK(verifies(*second, token));

  SECTION("corrupt key file") {
    std::ofstream(file, std::ios::trunc) << "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
    Result<TokenSigner> broken = TokenSigner::load_or_create(file);
    REQUIRE_FALSE(broken.ok());
    CHECK_THAT(broken.error().message, Catch::Contains("token-signing.pem"));
  }
  SECTION("key on another curve") {
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> p384(EVP_EC_gen("P-384"), EVP_PKEY_free);
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    REQUIRE(PEM_write_bio_PrivateKey(bio.get(), p384.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1);
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    std::ofstream(file, std::ios::trunc | std::ios::binary) << std::string(data, size);
    Result<TokenSigner> wrong = TokenSigner::load_or_create(file);
    REQUIRE_FALSE(wrong.ok());
    CHECK_THAT(wrong.error().message, Catch::Contains("P-256"));
  }
}
