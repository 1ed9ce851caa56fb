#include "server/tls.h"

#include <fcntl.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

namespace wal::server {
namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* certificate) const { X509_free(certificate); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;

BioPtr ReadBio(const std::string& text) { return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size()))); }

std::string BioText(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return size > 0 ? std::string(data, static_cast<size_t>(size)) : std::string();
}

// An encrypted key is an error, never a passphrase prompt on wald's terminal.
int NoPassphrase(char*, int, int, void*) { return 0; }

// The oldest queued OpenSSL error as text (clears the queue).
std::string OpenSslError() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown error";
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  return text;
}

// Every certificate in `text` in order; other PEM blocks (a key kept in the
// same file) are skipped. A damaged block is an error rather than a shorter
// chain.
Result<std::vector<X509Ptr>> ReadCertificates(const std::string& text, const std::string& where) {
  BioPtr bio = ReadBio(text);
  std::vector<X509Ptr> certificates;
  ERR_clear_error();
  while (X509* certificate = PEM_read_bio_X509(bio.get(), nullptr, &NoPassphrase, nullptr)) {
    certificates.emplace_back(certificate);
  }
  const unsigned long error = ERR_peek_last_error();
  const bool end_of_input = ERR_GET_LIB(error) == ERR_LIB_PEM && ERR_GET_REASON(error) == PEM_R_NO_START_LINE;
  if (error != 0 && !end_of_input) return InvalidArgument(where + ": not a valid PEM certificate: " + OpenSslError());
  ERR_clear_error();
  if (certificates.empty()) return InvalidArgument(where + ": no PEM certificate in the file");
  return certificates;
}

std::string Describe(X509* certificate) {
  BioPtr out(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(out.get(), X509_get_subject_name(certificate), 0, XN_FLAG_RFC2253);
  BIO_puts(out.get(), ", expires ");
  ASN1_TIME_print(out.get(), X509_get0_notAfter(certificate));
  return BioText(out.get());
}

std::string Fingerprint(X509* certificate) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  X509_digest(certificate, EVP_sha256(), digest, &length);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xf]);
  }
  return hex;
}

class ScopedFd {
 public:
  explicit ScopedFd(int fd = -1) : fd_(fd) {}
  ScopedFd(ScopedFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  ScopedFd& operator=(ScopedFd&& other) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    return *this;
  }
  ~ScopedFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// An anonymous in-memory file holding `contents`.
Result<ScopedFd> MemoryFileWith(const char* name, std::string_view contents) {
  ScopedFd fd(::memfd_create(name, MFD_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus("memfd_create", errno);
  while (!contents.empty()) {
    const ssize_t written = ::write(fd.get(), contents.data(), contents.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("write memfd", errno);
    }
    contents.remove_prefix(static_cast<size_t>(written));
  }
  return fd;
}

}  // namespace

struct ServerTls::Material {
  X509* certificate = nullptr;
  STACK_OF(X509)* chain = nullptr;  // the certificates after the leaf
  EVP_PKEY* key = nullptr;
  X509_STORE* client_cas = nullptr;  // mTLS only
  std::string grpc_identity;         // PEM: leaf, chain, then the key
  std::string grpc_roots;            // PEM: the client CAs
  std::string summary;               // for the reload log line; nothing secret
  std::string fingerprint;

  Material() = default;
  Material(const Material&) = delete;
  Material& operator=(const Material&) = delete;
  ~Material() {
    X509_free(certificate);
    sk_X509_pop_free(chain, X509_free);
    EVP_PKEY_free(key);
    X509_STORE_free(client_cas);
    OPENSSL_cleanse(grpc_identity.data(), grpc_identity.size());
  }
};

// contents: cert_file, key_file[, client_ca_file].
Result<std::shared_ptr<ServerTls::Material>> ServerTls::ParseMaterial(const config::TlsConfig& tls,
                                                                      const std::vector<std::string>& contents) {
  auto material = std::make_shared<ServerTls::Material>();
  WAL_ASSIGN_OR_RETURN(auto certificates, ReadCertificates(contents[0], "tls.cert_file: " + tls.cert_file));
  BioPtr identity(BIO_new(BIO_s_mem()));
  for (const X509Ptr& certificate : certificates) PEM_write_bio_X509(identity.get(), certificate.get());
  material->certificate = certificates.front().release();
  material->chain = sk_X509_new_null();
  for (size_t i = 1; i < certificates.size(); ++i) sk_X509_push(material->chain, certificates[i].release());

  BioPtr key_text = ReadBio(contents[1]);
  ERR_clear_error();
  material->key = PEM_read_bio_PrivateKey(key_text.get(), nullptr, &NoPassphrase, nullptr);
  if (material->key == nullptr) {
    return InvalidArgument("tls.key_file: " + tls.key_file +
                           ": no usable unencrypted PEM private key: " + OpenSslError());
  }
  if (X509_check_private_key(material->certificate, material->key) != 1) {
    ERR_clear_error();
    return InvalidArgument("tls.key_file: " + tls.key_file + " is not the key of the certificate in tls.cert_file " +
                           tls.cert_file + " (replace both, key and certificate, as a pair)");
  }
  PEM_write_bio_PrivateKey(identity.get(), material->key, nullptr, nullptr, 0, nullptr, nullptr);
  material->grpc_identity = BioText(identity.get());
  material->fingerprint = Fingerprint(material->certificate);
  material->summary = "certificate " + Describe(material->certificate) + ", sha256 " + material->fingerprint;

  if (!tls.client_ca_file.empty()) {
    WAL_ASSIGN_OR_RETURN(auto authorities, ReadCertificates(contents[2], "tls.client_ca_file: " + tls.client_ca_file));
    material->client_cas = X509_STORE_new();
    BioPtr roots(BIO_new(BIO_s_mem()));
    for (const X509Ptr& authority : authorities) {
      X509_STORE_add_cert(material->client_cas, authority.get());
      PEM_write_bio_X509(roots.get(), authority.get());
    }
    ERR_clear_error();  // a CA listed twice is harmless
    material->grpc_roots = BioText(roots.get());
    material->summary += ", " + std::to_string(authorities.size()) + " client CA certificate(s)";
  }
  return material;
}

// A memfd at a stable /proc/self/fd path whose contents are replaced whole:
// dup3 swaps the descriptor, so a reader opens either the old file or the new
// one, never a partly written one.
class ServerTls::MemoryFile {
 public:
  static Result<std::unique_ptr<MemoryFile>> Create(const char* name, std::string_view contents) {
    WAL_ASSIGN_OR_RETURN(ScopedFd fd, MemoryFileWith(name, contents));
    std::unique_ptr<MemoryFile> file(new MemoryFile(name, std::move(fd)));
    if (::access(file->path().c_str(), R_OK) != 0) return ErrnoStatus("open " + file->path(), errno);
    return file;
  }
  // Step one of a replacement: the new file, not yet visible.
  Result<ScopedFd> Prepare(std::string_view contents) const { return MemoryFileWith(name_.c_str(), contents); }
  // Step two. dup3 onto a descriptor this object owns only fails if the
  // process is out of memory; gRPC then keeps reading the previous version.
  void Commit(ScopedFd fresh) {
    if (::dup3(fresh.get(), fd_.get(), O_CLOEXEC) < 0) {
      spdlog::error("tls: cannot update gRPC's copy {}: {}", path(), ErrnoStatus("dup3", errno).message());
    }
  }
  std::string path() const { return "/proc/self/fd/" + std::to_string(fd_.get()); }

 private:
  MemoryFile(std::string name, ScopedFd fd) : name_(std::move(name)), fd_(std::move(fd)) {}
  std::string name_;
  ScopedFd fd_;
};

namespace {

// gRPC counts its refresh interval in whole seconds and raises anything under
// one second to one.
unsigned int GrpcRefreshSeconds(std::chrono::milliseconds poll_interval) {
  // 0 turns reloading off: gRPC's copy never changes, so it may look rarely.
  if (poll_interval.count() <= 0) return 3600;
  const auto seconds = std::chrono::ceil<std::chrono::seconds>(poll_interval).count();
  return static_cast<unsigned int>(std::max<int64_t>(1, seconds));
}

}  // namespace

ServerTls::ServerTls(FileSystem* file_system, config::TlsConfig tls, std::chrono::milliseconds poll_interval)
    : tls_(std::move(tls)), grpc_refresh_seconds_(GrpcRefreshSeconds(poll_interval)) {
  std::vector<std::string> paths = {tls_.cert_file, tls_.key_file};
  if (mutual()) paths.push_back(tls_.client_ca_file);
  reloader_ = std::make_unique<FileReloader>(
      "tls", file_system, std::move(paths), poll_interval,
      [this](const std::vector<std::string>& contents) { return Apply(contents); });
}

// Stops polling before the material and the in-memory copies it updates go.
ServerTls::~ServerTls() { reloader_.reset(); }

Result<std::unique_ptr<ServerTls>> ServerTls::Load(FileSystem* file_system, const config::TlsConfig& tls,
                                                   std::chrono::milliseconds poll_interval) {
  if (tls.cert_file.empty() || tls.key_file.empty()) {
    return InvalidArgument("tls.cert_file and tls.key_file must be set together");
  }
  std::unique_ptr<ServerTls> server_tls(new ServerTls(file_system, tls, poll_interval));
  WAL_RETURN_IF_ERROR(server_tls->reloader_->Load());
  return server_tls;
}

Result<std::string> ServerTls::Apply(const std::vector<std::string>& contents) {
  WAL_ASSIGN_OR_RETURN(std::shared_ptr<Material> material, ParseMaterial(tls_, contents));
  if (!material_.Get()) {
    // First load: make the copies gRPC will watch.
    auto identity = MemoryFile::Create("wald-tls-identity", material->grpc_identity);
    Result<std::unique_ptr<MemoryFile>> roots = std::unique_ptr<MemoryFile>();
    if (identity.ok() && mutual()) roots = MemoryFile::Create("wald-tls-client-ca", material->grpc_roots);
    if (identity.ok() && roots.ok()) {
      grpc_identity_ = std::move(identity).value();
      grpc_identity_path_ = grpc_certificate_path_ = grpc_identity_->path();
      if (mutual()) {
        grpc_roots_ = std::move(roots).value();
        grpc_roots_path_ = grpc_roots_->path();
      }
    } else {
      spdlog::warn("tls: cannot keep an in-memory copy for gRPC ({}); gRPC reads the tls files itself, so a bad "
                   "or mismatched file there fails its handshakes until the file is fixed",
                   (identity.ok() ? roots.status() : identity.status()).message());
      grpc_identity_path_ = tls_.key_file;
      grpc_certificate_path_ = tls_.cert_file;
      grpc_roots_path_ = tls_.client_ca_file;
    }
  } else if (grpc_identity_) {
    WAL_ASSIGN_OR_RETURN(ScopedFd identity, grpc_identity_->Prepare(material->grpc_identity));
    ScopedFd roots;
    if (grpc_roots_) {
      WAL_ASSIGN_OR_RETURN(roots, grpc_roots_->Prepare(material->grpc_roots));
    }
    grpc_identity_->Commit(std::move(identity));
    if (grpc_roots_) grpc_roots_->Commit(std::move(roots));
  }
  std::string summary = material->summary;
  material_.Set(std::move(material));
  return summary;
}

std::shared_ptr<grpc::ServerCredentials> ServerTls::GrpcCredentials() const {
  using grpc::experimental::FileWatcherCertificateProvider;
  // Key and chain share one file, replaced whole. gRPC opens it twice (once as
  // the key, once as the chain) but reads again when the file's mtime moved in
  // between, so it pairs a certificate with its own key, short of two rotations
  // within one second (then its next refresh straightens it out).
  auto provider =
      mutual() ? std::make_shared<FileWatcherCertificateProvider>(grpc_identity_path_, grpc_certificate_path_,
                                                                  grpc_roots_path_, grpc_refresh_seconds_)
               : std::make_shared<FileWatcherCertificateProvider>(grpc_identity_path_, grpc_certificate_path_,
                                                                  grpc_refresh_seconds_);
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  if (mutual()) {
    options.watch_root_certs();
    options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  }
  return grpc::experimental::TlsServerCredentials(options);
}

bool ServerTls::ConfigureSslContext(SSL_CTX& context) const {
  const std::shared_ptr<const Material> material = material_.Get();
  if (!material) return false;
  SSL_CTX_set_options(&context, SSL_OP_NO_COMPRESSION | SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION);
  if (SSL_CTX_set_min_proto_version(&context, TLS1_2_VERSION) != 1) return false;
  // Stands in until the callback sets the material in force on each handshake.
  if (SSL_CTX_use_cert_and_key(&context, material->certificate, material->key, material->chain, 1) != 1) return false;
  SSL_CTX_set_cert_cb(&context, &ServerTls::CertificateCallback, const_cast<ServerTls*>(this));
  // The context's own CA store stays empty: with mTLS, a handshake that somehow
  // missed the callback verifies against nothing and fails closed.
  if (mutual()) SSL_CTX_set_verify(&context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  return true;
}

int ServerTls::CertificateCallback(SSL* ssl, void* self) {
  const std::shared_ptr<const Material> material = static_cast<const ServerTls*>(self)->material_.Get();
  if (!material) return 0;
  if (SSL_use_cert_and_key(ssl, material->certificate, material->key, material->chain, 1) != 1) return 0;
  if (material->client_cas != nullptr && SSL_set1_verify_cert_store(ssl, material->client_cas) != 1) return 0;
  return 1;
}

std::string ServerTls::CertificateFingerprint() const {
  const std::shared_ptr<const Material> material = material_.Get();
  return material ? material->fingerprint : std::string();
}

}  // namespace wal::server
