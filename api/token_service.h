#pragma once
// The emulator's own token service: a fake but honest Entra ID. It issues JWTs for the
// principals of the IdentityDirectory (client-credentials grant), serves the discovery
// documents MSAL needs, and checks the bearer token of every ARM request.
//
// Endpoints served (see api/identity_handlers.cpp):
//   GET  /adfs/.well-known/openid-configuration             (az 2.45: ADFS-style authority)
//   GET  /{tenant}/v2.0/.well-known/openid-configuration    (SDKs' ClientSecretCredential)
//   POST /adfs/oauth2/token, /{tenant}/oauth2/v2.0/token, /{tenant}/oauth2/token (v1)
//   GET  .../discovery/keys                                 (the signing key, JWKS)

#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>

#include "api/http_message.h"
#include "api/jwt.h"
#include "emulator/arm_error.h"
#include "emulator/clock.h"
#include "emulator/identity.h"

namespace acg::api {

struct TokenOptions {
  std::int64_t lifetime_seconds = 3599;
  // Any bearer token is taken as the default principal (for static-token credentials).
  bool accept_any_token = false;
};

class TokenService {
 public:
  TokenService(TokenSigner signer, const IdentityDirectory& identities, const Clock& clock,
               TokenOptions options);

  // POST .../token. tenant_in_path is empty for /adfs. Answers like Entra ID: 200 with
  // {"token_type","expires_in","access_token"} or 400/401 {"error","error_description",...}.
  // v1_numbers_as_strings: the v1 endpoint (/{tenant}/oauth2/token) writes expires_in,
  // ext_expires_in, expires_on and not_before as strings, as Entra's v1 endpoint does (ADAL and
  // go-autorest read them as json.Number); the v2 and ADFS endpoints keep JSON numbers.
  HttpResponse issue_token(const HttpRequest& request, std::string_view tenant_in_path,
                           bool v1_numbers_as_strings = false);

  // The OIDC discovery document for an authority ("<base>/adfs" or "<base>/<tenant>/v2.0").
  nlohmann::json openid_configuration(const std::string& base_url, std::string_view authority_path) const;
  nlohmann::json jwks() const { return signer_.jwks(); }

  // Checks "Authorization: Bearer <jwt>" of an ARM request. On failure returns the 401 error;
  // the caller adds WWW-Authenticate.
  Result<const Principal*> authenticate(std::string_view authorization_header);

  // Signs a token for a principal (tests mint expired or foreign-audience tokens with it).
  std::string mint(const Principal& principal, const std::string& audience, std::int64_t issued_at_s,
                   std::int64_t lifetime_s) const;

 private:
  struct CachedToken {
    const Principal* principal;
    std::int64_t expires_at_s;
    std::int64_t not_before_s;
  };

  Result<CachedToken> verify(std::string_view token) const;
  std::int64_t now_s() const;

  TokenSigner signer_;
  const IdentityDirectory& identities_;
  const Clock& clock_;
  TokenOptions options_;

  // Verified tokens: an ECDSA check per request would dominate a small GET.
  std::mutex cache_mutex_;
  std::unordered_map<std::string, CachedToken> cache_;  // GUARDED_BY(cache_mutex_)
};

// The audiences ARM accepts (what az, the SDKs and Terraform ask tokens for).
bool is_arm_audience(std::string_view audience);

}  // namespace acg::api
