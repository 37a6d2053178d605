#pragma once
// Token signing for the emulator's token service. Tokens are real ES256 JWTs (RFC 7515/7519)
// signed by a key the emulator owns and publishes as a JWKS, so clients and tests that
// validate tokens see the same shapes as with Entra ID, while no real identity is involved.

#include <openssl/types.h>  // EVP_PKEY, declared only

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "emulator/arm_error.h"

namespace acg::api {

// Unpadded base64url (RFC 4648 section 5), as JOSE uses it. decode refuses padding, characters
// outside the alphabet, impossible lengths and non-zero trailing bits, so every byte string has
// exactly one accepted encoding (no two token strings verify as the same token).
std::string base64url_encode(std::string_view bytes);
std::optional<std::string> base64url_decode(std::string_view text);

// Why verify() rejected a token. Expiry and other claim checks are the caller's job.
enum class TokenProblem { malformed, bad_signature, unsupported_algorithm };

// An ES256 (ECDSA P-256, SHA-256) signing key. All methods are const and keep no mutable state,
// so one TokenSigner may sign and verify on many threads at once.
class TokenSigner {
 public:
  // A new key. Its kid is the key's RFC 7638 thumbprint: as unpredictable as the key itself,
  // and the same again whenever the key is reloaded.
  static Result<TokenSigner> generate();
  // Loads the PEM key in key_file (must be EC P-256), or generates one and writes it there as
  // PKCS#8 (mode 0600, atomic replace, parent directories created). Reusing the key across
  // restarts keeps tokens that clients already hold valid.
  static Result<TokenSigner> load_or_create(const std::filesystem::path& key_file);

  // Compact JWS with header {"alg":"ES256","typ":"JWT","kid":kid()}. Invalid UTF-8 in claims is
  // replaced with U+FFFD rather than thrown. Throws std::runtime_error only if OpenSSL cannot sign
  // with a key it already accepted (out of memory): unexpected, left to the session boundary.
  std::string sign(const nlohmann::json& claims) const;

  // The claims when token is a compact JWS with header alg ES256 (anything else, "none"
  // included, is unsupported_algorithm), our kid and a valid raw r||s signature (otherwise
  // bad_signature), and a JSON object payload (otherwise malformed). Total: never throws or
  // crashes on any input; tokens over 64 KiB are malformed without being decoded.
  std::variant<nlohmann::json, TokenProblem> verify(std::string_view token) const;

  // {"keys":[{"kty":"EC","crv":"P-256","use":"sig","alg":"ES256","kid":...,"x":...,"y":...}]}
  nlohmann::json jwks() const;
  const std::string& kid() const { return kid_; }

 private:
  struct KeyFree {
    void operator()(EVP_PKEY* key) const noexcept;
  };
  using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;

  TokenSigner(KeyPtr key, nlohmann::json jwk);
  static Result<TokenSigner> from_key(KeyPtr key);
  static Result<TokenSigner> load(const std::filesystem::path& key_file);
  static Result<TokenSigner> create(const std::filesystem::path& key_file);

  KeyPtr key_;
  nlohmann::json jwk_;       // the public key as served by jwks()
  std::string kid_;
  std::string header_b64_;   // identical for every token, so encoded once
};

}  // namespace acg::api
