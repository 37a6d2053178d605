#pragma once
// TLS material for the emulator's HTTPS listener: a local CA that clients trust once, and
// server certificates it signs. Azure SDKs and az refuse plain HTTP for ARM, so the emulator
// must speak TLS out of the box; a generated CA (rather than a self-signed leaf) lets users
// trust one certificate and lets a transparent-proxy mode mint leaves for any host later.
//
// All keys are ECDSA P-256 and all signatures SHA-256: generating a key takes well under a
// millisecond, so start-up stays fast even when nothing is cached on disk.

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "emulator/arm_error.h"

namespace acg::api {

struct TlsMaterial {
  std::string ca_cert_pem;      // what clients must trust (for user files: the whole chain file)
  std::string server_cert_pem;  // leaf first; for user files, followed by the file's intermediates
  std::string server_key_pem;   // PKCS#8 PEM private key of the leaf
  std::string ca_key_pem;       // PKCS#8 PEM; empty when the CA is not ours (user-supplied files)
};

// A fresh CA ("acg-emulator local CA", CA:TRUE, keyCertSign, 10 years) and a leaf signed by it for
// localhost, 127.0.0.1 and ::1 plus extra_hosts (DNS names or IP literals; "[::1]" is accepted).
// Leaf: CN=localhost, serverAuth, digitalSignature, 825 days (the Apple/Chrome ceiling), random
// 128-bit serial, SKI/AKI. Fails only on an invalid host name or an OpenSSL failure.
Result<TlsMaterial> generate_tls_material(const std::vector<std::string>& extra_hosts = {});

// Reuses ca.pem, server.pem and server.key in dir (plus ca.key when present) so clients keep
// trusting the same CA across restarts. When ca.pem and ca.key exist and the server files do not,
// or the leaf expires within 30 days, a new leaf is issued from that CA. When nothing usable
// exists, everything is generated and written (ca.key included). Files are replaced atomically;
// key files are mode 0600. dir is created if missing. A file that exists but does not parse, or a
// key that does not match its certificate, is an error naming the file: silently replacing a CA
// the user already trusts would break every client.
Result<TlsMaterial> load_or_create_tls_material(const std::filesystem::path& dir);

// A user-supplied certificate (chain) file and private key, both PEM. Checks the key matches the
// first certificate. ca_cert_pem and server_cert_pem are the whole cert file; ca_key_pem is empty.
Result<TlsMaterial> load_tls_material_from_files(const std::filesystem::path& cert,
                                                 const std::filesystem::path& key);

// Issues {cert_pem, key_pem} for hosts (DNS names or IP literals; the first becomes the CN when it
// fits) signed by ca's certificate and key; same profile as the generated leaf. Fails when
// ca.ca_key_pem is empty, hosts is empty or a host is not a valid name.
Result<std::pair<std::string, std::string>> issue_server_certificate(
    const TlsMaterial& ca, const std::vector<std::string>& hosts);

// File helpers shared with the token signer's key file (jwt.cpp). write_file_atomically writes a
// temporary file in the same directory, fsyncs it and renames it over file, so a crash leaves the
// old or the new contents, never half of one; secret files are created 0600 from the start.
Result<std::string> read_text_file(const std::filesystem::path& file);
Status write_file_atomically(const std::filesystem::path& file, std::string_view contents,
                             bool secret);

}  // namespace acg::api
