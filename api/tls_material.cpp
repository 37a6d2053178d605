#include "api/tls_material.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstring>
#include <ctime>
#include <memory>
#include <optional>

namespace acg::api {
namespace {

namespace fs = std::filesystem;

// ---- OpenSSL ownership -------------------------------------------------------------------

template <auto free_fn>
struct Free {
  template <class T>
  void operator()(T* p) const noexcept { free_fn(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Free<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Free<X509_free>>;
using BioPtr = std::unique_ptr<BIO, Free<BIO_free_all>>;
using BignumPtr = std::unique_ptr<BIGNUM, Free<BN_free>>;
using Asn1IntPtr = std::unique_ptr<ASN1_INTEGER, Free<ASN1_INTEGER_free>>;
using Asn1StringPtr = std::unique_ptr<ASN1_STRING, Free<ASN1_STRING_free>>;
using GeneralNamePtr = std::unique_ptr<GENERAL_NAME, Free<GENERAL_NAME_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, Free<GENERAL_NAMES_free>>;
using ExtensionPtr = std::unique_ptr<X509_EXTENSION, Free<X509_EXTENSION_free>>;

constexpr int kCaDays = 3650;
constexpr int kLeafDays = 825;         // Apple and Chrome reject longer-lived TLS leaves
constexpr int kRenewWithinDays = 30;   // reissue the cached leaf this long before it expires
constexpr long kBackdateSeconds = 3600;  // tolerate clocks slightly behind ours (containers, VMs)
constexpr std::size_t kMaxFileBytes = 1 << 20;  // certs and keys are a few KB; refuse /dev/zero
const char* const kCaName = "acg-emulator local CA";
const std::vector<std::string> kDefaultHosts = {"localhost", "127.0.0.1", "::1"};

// The first queued OpenSSL error is the root cause; the queue is cleared so it cannot leak
// into an unrelated later failure on this thread.
ArmError openssl_error(const std::string& what) {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return internal_error(what);
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return internal_error(what + ": " + text);
}

// ---- PEM ----------------------------------------------------------------------------------

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

bool cert_pem(X509* cert, std::string& out) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return false;
  out = bio_text(bio.get());
  return true;
}

// PEM_write_bio_PrivateKey writes PKCS#8 ("BEGIN PRIVATE KEY"), unencrypted.
bool key_pem(EVP_PKEY* key, std::string& out) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return false;
  out = bio_text(bio.get());
  return true;
}

BioPtr read_bio(std::string_view pem) {
  if (pem.size() > INT_MAX) return nullptr;
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// Without this callback OpenSSL would prompt on the terminal for an encrypted key's passphrase.
int refuse_passphrase(char*, int, int, void*) { return -1; }

// `source` names the file (or field) in the error, so the user knows what to fix.
Result<X509Ptr> parse_cert(std::string_view pem, const std::string& source) {
  BioPtr bio = read_bio(pem);
  X509Ptr cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, refuse_passphrase, nullptr) : nullptr);
  if (!cert) return openssl_error(source + " does not contain a PEM certificate");
  return cert;
}

Result<PkeyPtr> parse_key(std::string_view pem, const std::string& source) {
  BioPtr bio = read_bio(pem);
  PkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, refuse_passphrase, nullptr)
                  : nullptr);
  if (!key) return openssl_error(source + " does not contain an unencrypted PEM private key");
  return key;
}

// ---- Host names ----------------------------------------------------------------------------

// One subjectAltName entry: GEN_DNS with the lower-cased name, or GEN_IPADD with 4 or 16 raw
// bytes. `text` is the printable form, used for the CN.
struct SanEntry {
  int type;
  std::string value;
  std::string text;
  bool operator==(const SanEntry& other) const {
    return type == other.type && value == other.value;
  }
};

bool is_dns_label(std::string_view label) {
  if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
    return false;
  return std::all_of(label.begin(), label.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_';
  });
}

// RFC 1123 names, optionally with a leading "*." wildcard label. Strict on purpose: the value is
// copied into a certificate, so anything odd is refused rather than encoded.
bool is_dns_name(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  if (name.starts_with("*.")) name.remove_prefix(2);
  while (true) {
    const std::size_t dot = name.find('.');
    if (!is_dns_label(name.substr(0, dot))) return false;
    if (dot == std::string_view::npos) return true;
    name.remove_prefix(dot + 1);
  }
}

std::optional<SanEntry> parse_ip(std::string_view host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')  // URL form of IPv6
    host = host.substr(1, host.size() - 2);
  if (host.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  const std::string text(host);
  unsigned char bytes[16];
  if (inet_pton(AF_INET, text.c_str(), bytes) == 1)
    return SanEntry{GEN_IPADD, std::string(reinterpret_cast<char*>(bytes), 4), text};
  if (inet_pton(AF_INET6, text.c_str(), bytes) == 1)
    return SanEntry{GEN_IPADD, std::string(reinterpret_cast<char*>(bytes), 16), text};
  return std::nullopt;
}

Result<std::vector<SanEntry>> parse_hosts(const std::vector<std::string>& hosts) {
  std::vector<SanEntry> entries;
  for (const std::string& host : hosts) {
    std::optional<SanEntry> entry = parse_ip(host);
    if (!entry && is_dns_name(host)) {
      std::string lower = host;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      entry = SanEntry{GEN_DNS, lower, lower};
    }
    if (!entry)
      return bad_request("InvalidParameter",
                         "'" + host + "' is neither a DNS name nor an IP address", "hosts");
    if (std::find(entries.begin(), entries.end(), *entry) == entries.end())
      entries.push_back(std::move(*entry));
  }
  if (entries.empty()) return bad_request("InvalidParameter", "no host names given", "hosts");
  return entries;
}

// Built from typed values rather than an OpenSSL config string ("DNS:a,IP:b"), so a host name
// can never smuggle extra entries in through a comma.
GeneralNamesPtr make_general_names(const std::vector<SanEntry>& entries) {
  GeneralNamesPtr names(GENERAL_NAMES_new());
  if (!names) return nullptr;
  for (const SanEntry& entry : entries) {
    Asn1StringPtr value(entry.type == GEN_DNS ? ASN1_IA5STRING_new() : ASN1_OCTET_STRING_new());
    GeneralNamePtr name(GENERAL_NAME_new());
    if (!value || !name ||
        ASN1_STRING_set(value.get(), entry.value.data(), static_cast<int>(entry.value.size())) != 1)
      return nullptr;
    GENERAL_NAME_set0_value(name.get(), entry.type, value.release());
    if (sk_GENERAL_NAME_push(names.get(), name.get()) == 0) return nullptr;
    name.release();
  }
  return names;
}

// ---- Certificates --------------------------------------------------------------------------

Result<PkeyPtr> new_p256_key() {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return openssl_error("cannot generate a P-256 key");
  return key;
}

// 128 random bits: CAs are required to use unpredictable serials, and browsers reject two
// certificates from one issuer that share a serial, which fixed serials would cause after a
// regeneration.
bool set_random_serial(X509* cert) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return false;
  BignumPtr bn(BN_bin2bn(bytes, sizeof bytes, nullptr));
  Asn1IntPtr serial(bn ? BN_to_ASN1_INTEGER(bn.get(), nullptr) : nullptr);
  return serial && X509_set_serialNumber(cert, serial.get()) == 1;
}

bool set_validity(X509* cert, int days) {
  time_t start = std::time(nullptr) - kBackdateSeconds;  // non-const: OpenSSL API
  return X509_time_adj_ex(X509_getm_notBefore(cert), 0, 0, &start) != nullptr &&
         X509_time_adj_ex(X509_getm_notAfter(cert), days, 0, &start) != nullptr;
}

// The CN is informational (clients match the SAN), and X.509 caps it at 64 characters.
bool set_subject(X509* cert, const std::string& common_name) {
  X509_NAME* name = X509_get_subject_name(cert);
  auto add = [name](const char* field, const std::string& value) {
    return X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                      reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1,
                                      0) == 1;
  };
  return add("O", "acg-emulator") && (common_name.size() > 64 || add("CN", common_name));
}

// Version 3, serial, validity, subject and public key: everything but issuer and extensions.
X509Ptr new_cert(EVP_PKEY* key, const std::string& common_name, int days) {
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
      !set_random_serial(cert.get()) || !set_validity(cert.get(), days) ||
      !set_subject(cert.get(), common_name) || X509_set_pubkey(cert.get(), key) != 1)
    return nullptr;
  return cert;
}

bool add_ext(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value));
  return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

// SKI must precede AKI: for the self-signed CA, "keyid" copies the issuer's (its own) SKI.
bool add_key_ids(X509* cert, X509* issuer) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  return add_ext(cert, &ctx, NID_subject_key_identifier, "hash") &&
         add_ext(cert, &ctx, NID_authority_key_identifier, "keyid:always");
}

Result<X509Ptr> make_ca_cert(EVP_PKEY* ca_key) {
  X509Ptr cert = new_cert(ca_key, kCaName, kCaDays);
  if (!cert) return openssl_error("cannot create the local CA certificate");
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get())) != 1 ||
      !add_ext(cert.get(), &ctx, NID_basic_constraints, "critical,CA:TRUE") ||
      !add_ext(cert.get(), &ctx, NID_key_usage, "critical,keyCertSign,cRLSign") ||
      !add_key_ids(cert.get(), cert.get()) || X509_sign(cert.get(), ca_key, EVP_sha256()) <= 0)
    return openssl_error("cannot create the local CA certificate");
  return cert;
}

// Non-critical is right: the subject is never empty (O is always set), see RFC 5280 4.2.1.6.
bool add_san(X509* cert, const std::vector<SanEntry>& entries) {
  GeneralNamesPtr names = make_general_names(entries);
  return names && X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0,
                                    X509V3_ADD_DEFAULT) == 1;
}

struct Leaf {
  X509Ptr cert;
  PkeyPtr key;
};

Result<Leaf> issue_leaf(X509* ca_cert, EVP_PKEY* ca_key, const std::vector<std::string>& hosts) {
  Result<std::vector<SanEntry>> entries = parse_hosts(hosts);
  if (!entries) return std::move(entries).error();
  Result<PkeyPtr> key = new_p256_key();
  if (!key) return std::move(key).error();
  const std::string& common_name = entries->front().text;
  X509Ptr cert = new_cert(key->get(), common_name, kLeafDays);
  if (!cert) return openssl_error("cannot create a server certificate for " + common_name);
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, ca_cert, cert.get(), nullptr, nullptr, 0);
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert)) != 1 ||
      !add_ext(cert.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE") ||
      // ECDSA leaves only sign the handshake; keyEncipherment is an RSA-only usage.
      !add_ext(cert.get(), &ctx, NID_key_usage, "critical,digitalSignature") ||
      !add_ext(cert.get(), &ctx, NID_ext_key_usage, "serverAuth") ||
      !add_san(cert.get(), *entries) ||
      !add_key_ids(cert.get(), ca_cert) || X509_sign(cert.get(), ca_key, EVP_sha256()) <= 0)
    return openssl_error("cannot issue a server certificate for " + common_name);
  return Leaf{std::move(cert), std::move(*key)};
}

Result<TlsMaterial> to_material(X509* ca_cert, EVP_PKEY* ca_key, const Leaf& leaf) {
  TlsMaterial m;
  if (!cert_pem(ca_cert, m.ca_cert_pem) || !key_pem(ca_key, m.ca_key_pem) ||
      !cert_pem(leaf.cert.get(), m.server_cert_pem) || !key_pem(leaf.key.get(), m.server_key_pem))
    return openssl_error("cannot encode TLS material as PEM");
  return m;
}

// A cert+key pair parsed from PEM and checked against each other.
struct Pair {
  X509Ptr cert;
  PkeyPtr key;
};

Result<Pair> parse_pair(std::string_view cert_text, std::string_view key_text,
                        const std::string& cert_name, const std::string& key_name) {
  Result<X509Ptr> cert = parse_cert(cert_text, cert_name);
  if (!cert) return std::move(cert).error();
  Result<PkeyPtr> key = parse_key(key_text, key_name);
  if (!key) return std::move(key).error();
  if (X509_check_private_key(cert->get(), key->get()) != 1)
    return openssl_error("private key " + key_name + " does not match certificate " + cert_name);
  return Pair{std::move(*cert), std::move(*key)};
}

// ---- The on-disk cache ---------------------------------------------------------------------

struct Files {
  explicit Files(const fs::path& dir)
      : ca_cert(dir / "ca.pem"), ca_key(dir / "ca.key"), server_cert(dir / "server.pem"),
        server_key(dir / "server.key") {}
  fs::path ca_cert, ca_key, server_cert, server_key;
};

// exists() that reports "cannot tell" (e.g. permission denied) instead of folding it into "no".
Result<bool> file_exists(const fs::path& file) {
  std::error_code ec;
  const bool found = fs::exists(file, ec);
  if (ec) return internal_error("cannot access " + file.string() + ": " + ec.message());
  return found;
}

// Keys are written before the certificates that name them, so an interrupted write leaves a
// certificate missing (reissued or regenerated next time) rather than one without its key.
Status store_pair(const fs::path& cert_file, const std::string& cert_text, const fs::path& key_file,
                  const std::string& key_text) {
  if (Status s = write_file_atomically(key_file, key_text, /*secret=*/true); !s) return s;
  return write_file_atomically(cert_file, cert_text, /*secret=*/false);
}

Result<TlsMaterial> generate_and_store(const Files& files) {
  Result<TlsMaterial> fresh = generate_tls_material();
  if (!fresh) return fresh;
  Status s = store_pair(files.ca_cert, fresh->ca_cert_pem, files.ca_key, fresh->ca_key_pem);
  if (s)
    s = store_pair(files.server_cert, fresh->server_cert_pem, files.server_key,
                   fresh->server_key_pem);
  if (!s) return std::move(s).error();
  return fresh;
}

// A new leaf from the cached CA: the CA clients already trust stays as it is.
Result<TlsMaterial> reissue_and_store(const Files& files, TlsMaterial m) {
  auto issued = issue_server_certificate(m, kDefaultHosts);
  if (!issued) return std::move(issued).error();
  m.server_cert_pem = std::move(issued->first);
  m.server_key_pem = std::move(issued->second);
  Status s = store_pair(files.server_cert, m.server_cert_pem, files.server_key, m.server_key_pem);
  if (!s) return std::move(s).error();
  return m;
}

bool expires_soon(X509* cert) {
  time_t horizon = std::time(nullptr) + kRenewWithinDays * 24L * 3600;
  return X509_cmp_time(X509_get0_notAfter(cert), &horizon) <= 0;
}

// A certificate file and (when key_file is given) its key file, parsed and checked to match.
struct FilePair {
  std::string cert_pem, key_pem;
  Pair parsed;
};

Result<FilePair> read_pair(const fs::path& cert_file, const fs::path* key_file) {
  FilePair pair;
  Result<std::string> cert_text = read_text_file(cert_file);
  if (!cert_text) return std::move(cert_text).error();
  pair.cert_pem = std::move(*cert_text);
  if (!key_file) {
    Result<X509Ptr> cert = parse_cert(pair.cert_pem, cert_file.string());
    if (!cert) return std::move(cert).error();
    pair.parsed.cert = std::move(*cert);
    return pair;
  }
  Result<std::string> key_text = read_text_file(*key_file);
  if (!key_text) return std::move(key_text).error();
  pair.key_pem = std::move(*key_text);
  Result<Pair> parsed =
      parse_pair(pair.cert_pem, pair.key_pem, cert_file.string(), key_file->string());
  if (!parsed) return std::move(parsed).error();
  pair.parsed = std::move(*parsed);
  return pair;
}

// Reads the cached files that exist and checks they belong together. server_cert_pem is left
// empty when the leaf is missing, or is due for renewal and the CA key can renew it.
Result<TlsMaterial> load_cached(const Files& files, bool have_ca_key, bool have_server) {
  Result<FilePair> ca = read_pair(files.ca_cert, have_ca_key ? &files.ca_key : nullptr);
  if (!ca) return std::move(ca).error();
  TlsMaterial m{ca->cert_pem, {}, {}, ca->key_pem};
  if (!have_server) return m;
  Result<FilePair> leaf = read_pair(files.server_cert, &files.server_key);
  if (!leaf) return std::move(leaf).error();
  // Clients trust ca.pem; a leaf from some other issuer would fail every handshake.
  if (X509_verify(leaf->parsed.cert.get(), X509_get0_pubkey(ca->parsed.cert.get())) != 1)
    return openssl_error(files.server_cert.string() + " was not issued by " +
                         files.ca_cert.string());
  if (!(have_ca_key && expires_soon(leaf->parsed.cert.get()))) {
    m.server_cert_pem = std::move(leaf->cert_pem);
    m.server_key_pem = std::move(leaf->key_pem);
  }
  return m;
}

// ---- Files ---------------------------------------------------------------------------------

ArmError io_error(const std::string& what, const fs::path& file, int err) {
  return internal_error(what + " " + file.string() + ": " + std::strerror(err));
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// Makes the rename itself durable; best effort, as some filesystems refuse to fsync a directory.
void sync_directory(const fs::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

// ---- Public API ----------------------------------------------------------------------------

Result<TlsMaterial> generate_tls_material(const std::vector<std::string>& extra_hosts) {
  std::vector<std::string> hosts = kDefaultHosts;
  hosts.insert(hosts.end(), extra_hosts.begin(), extra_hosts.end());
  Result<PkeyPtr> ca_key = new_p256_key();
  if (!ca_key) return std::move(ca_key).error();
  Result<X509Ptr> ca = make_ca_cert(ca_key->get());
  if (!ca) return std::move(ca).error();
  Result<Leaf> leaf = issue_leaf(ca->get(), ca_key->get(), hosts);
  if (!leaf) return std::move(leaf).error();
  return to_material(ca->get(), ca_key->get(), *leaf);
}

Result<std::pair<std::string, std::string>> issue_server_certificate(
    const TlsMaterial& ca, const std::vector<std::string>& hosts) {
  if (ca.ca_key_pem.empty())
    return internal_error("cannot issue a server certificate: the CA's private key is not known");
  Result<Pair> pair = parse_pair(ca.ca_cert_pem, ca.ca_key_pem, "the CA certificate",
                                 "the CA private key");
  if (!pair) return std::move(pair).error();
  Result<Leaf> leaf = issue_leaf(pair->cert.get(), pair->key.get(), hosts);
  if (!leaf) return std::move(leaf).error();
  std::pair<std::string, std::string> pems;
  if (!cert_pem(leaf->cert.get(), pems.first) || !key_pem(leaf->key.get(), pems.second))
    return openssl_error("cannot encode the server certificate as PEM");
  return pems;
}

Result<TlsMaterial> load_or_create_tls_material(const std::filesystem::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    return internal_error("cannot create TLS directory " + dir.string() + ": " + ec.message());
  const Files files(dir);
  bool found[4];
  const fs::path* paths[4] = {&files.ca_cert, &files.ca_key, &files.server_cert, &files.server_key};
  for (int i = 0; i < 4; ++i) {
    Result<bool> exists = file_exists(*paths[i]);
    if (!exists) return std::move(exists).error();
    found[i] = *exists;
  }
  const auto [have_ca, have_ca_key, have_cert, have_key] = found;
  const bool have_server = have_cert && have_key;
  // Without a CA certificate, or with only a CA certificate that cannot sign, nothing can be
  // salvaged: start over.
  if (!have_ca || (!have_server && !have_ca_key)) return generate_and_store(files);
  Result<TlsMaterial> cached = load_cached(files, have_ca_key, have_server);
  if (!cached || !cached->server_cert_pem.empty()) return cached;
  return reissue_and_store(files, std::move(*cached));
}

Result<TlsMaterial> load_tls_material_from_files(const std::filesystem::path& cert,
                                                 const std::filesystem::path& key) {
  Result<FilePair> pair = read_pair(cert, &key);
  if (!pair) return std::move(pair).error();
  TlsMaterial m;
  // Re-encoding normalises any key format OpenSSL reads (SEC1, PKCS#1) to PKCS#8.
  if (!key_pem(pair->parsed.key.get(), m.server_key_pem))
    return openssl_error("cannot encode the private key from " + key.string());
  m.ca_cert_pem = pair->cert_pem;
  m.server_cert_pem = std::move(pair->cert_pem);
  return m;
}

Result<std::string> read_text_file(const std::filesystem::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return io_error("cannot open", file, errno);
  std::string text;
  char buffer[16384];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return io_error("cannot read", file, err);
    }
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
    if (text.size() > kMaxFileBytes) {
      ::close(fd);
      return internal_error(file.string() + " is larger than 1 MiB: not a certificate or key");
    }
  }
  ::close(fd);
  return text;
}

Status write_file_atomically(const std::filesystem::path& file, std::string_view contents,
                             bool secret) {
  fs::path temp = file;
  temp += ".tmp-" + std::to_string(::getpid());
  // A stale temp file from a crashed run could carry a wider mode; O_EXCL guarantees ours is new.
  ::unlink(temp.c_str());
  const int fd =
      ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, secret ? 0600 : 0644);
  if (fd < 0) return io_error("cannot create", temp, errno);
  bool written = write_all(fd, contents) && ::fsync(fd) == 0;
  int err = written ? 0 : errno;
  if (::close(fd) != 0 && written) {
    written = false;
    err = errno;
  }
  if (!written) {
    ::unlink(temp.c_str());
    return io_error("cannot write", temp, err);
  }
  if (::rename(temp.c_str(), file.c_str()) != 0) {
    const int rename_err = errno;
    ::unlink(temp.c_str());
    return io_error("cannot replace", file, rename_err);
  }
  sync_directory(file.parent_path());
  return ok_status();
}

}  // namespace acg::api
