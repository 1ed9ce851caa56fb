// Unit tests for reloading server-level files without a restart: the
// FileReloader itself, the tokens file and shard map through the RequestGate,
// and TLS material (the HTTPS certificate callback and gRPC's in-memory copy).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "common/fault_injecting_file_system.h"
#include "engine/engine.h"
#include "modules/builtin_modules.h"
#include "server/auth.h"
#include "server/file_reloader.h"
#include "server/request_gate.h"
#include "server/shard_map.h"
#include "server/swappable.h"
#include "server/tls.h"

namespace wal::server {
namespace {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "wal-reload-test-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Rewrites in place (same inode), as an editor or `>` does.
void Overwrite(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::trunc) << text; }

// Writes a new file and renames it over `path` (a new inode), as careful tools do.
void Replace(const std::string& path, const std::string& text) {
  Overwrite(path + ".new", text);
  std::filesystem::rename(path + ".new", path);
}

// Sends spdlog's default logger to a string for the test's lifetime.
class CapturedLog {
 public:
  CapturedLog() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_);
    sink->set_pattern("%l %v");
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("captured", sink));
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  std::string text() const { return stream_.str(); }
  int Count(const std::string& needle) const {
    const std::string all = text();
    int count = 0;
    for (size_t at = all.find(needle); at != std::string::npos; at = all.find(needle, at + 1)) ++count;
    return count;
  }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::ostringstream stream_;
};

// A reloader over one file holding a decimal number; anything else is refused.
class FileReloaderTest : public ::testing::Test {
 protected:
  FileReloaderTest()
      : path_(dir_.path() + "/value.txt"),
        reloader_("value", &file_system_, {path_}, std::chrono::milliseconds(0),
                  [this](const std::vector<std::string>& contents) -> Result<std::string> {
                    ++applies_;
                    const std::string& text = contents.front();
                    if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) {
                      return InvalidArgument(path_ + ": not a number");
                    }
                    value_.Set(std::make_shared<const int>(std::stoi(text)));
                    return "value " + text;
                  }) {}

  int value() const {
    auto current = value_.Get();
    return current ? *current : -1;
  }

  TempDir dir_;
  FaultInjectingFileSystem file_system_{DefaultFileSystem()};
  std::string path_;
  Swappable<int> value_;
  int applies_ = 0;
  FileReloader reloader_;
};

TEST_F(FileReloaderTest, LoadReportsABadOrMissingFileInsteadOfLogging) {
  CapturedLog log;
  EXPECT_EQ(reloader_.Load().code(), StatusCode::kNotFound);
  Overwrite(path_, "twelve");
  Status bad = reloader_.Load();
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("not a number"), std::string::npos) << bad.message();
  EXPECT_EQ(value(), -1);
  Overwrite(path_, "12");
  ASSERT_TRUE(reloader_.Load().ok());
  EXPECT_EQ(value(), 12);
  EXPECT_EQ(log.text(), "");
}

TEST_F(FileReloaderTest, IgnoresAnUnchangedOrTouchedFile) {
  Overwrite(path_, "1");
  ASSERT_TRUE(reloader_.Load().ok());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(reloader_.PollOnce(), ReloadOutcome::kUnchanged);
  // A new mtime and a new inode, the same contents: nothing to apply.
  ASSERT_EQ(::utimensat(AT_FDCWD, path_.c_str(), nullptr, 0), 0);
  EXPECT_EQ(reloader_.PollOnce(), ReloadOutcome::kUnchanged);
  Replace(path_, "1");
  EXPECT_EQ(reloader_.PollOnce(), ReloadOutcome::kUnchanged);
  EXPECT_EQ(applies_, 1);
  EXPECT_EQ(value(), 1);
}

TEST_F(FileReloaderTest, DetectsAChange) {
  CapturedLog log;
  Overwrite(path_, "1");
  ASSERT_TRUE(reloader_.Load().ok());
  // Same size, same inode, and most likely the same mtime tick: only the
  // contents tell.
  Overwrite(path_, "2");
  EXPECT_EQ(reloader_.PollOnce(), ReloadOutcome::kApplied);
  EXPECT_EQ(value(), 2);
  Replace(path_, "345");
  EXPECT_EQ(reloader_.PollOnce(), ReloadOutcome::kApplied);
  EXPECT_EQ(value(), 345);
  EXPECT_EQ(reloader_.PollOnce(), ReloadOutcome::kUnchanged);
  EXPECT_EQ(log.Count("info value: reloaded from " + path_ + ": value 2\n"), 1) << log.text();
  EXPECT_EQ(log.Count("info value: reloaded from " + path_ + ": value 345\n"), 1) << log.text();
}

TEST_F(FileReloaderTest, KeepsTheOldValueOnABadFileAndLogsItOnce) {
  CapturedLog log;
  Overwrite(path_, "7");
  ASSERT_TRUE(reloader_.Load().ok());
  Replace(path_, "secret-looking-garbage");
  EXPECT_EQ(reloader_.PollOnce(), ReloadOutcome::kRefused);
  EXPECT_EQ(value(), 7);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(reloader_.PollOnce(), ReloadOutcome::kUnchanged);
  EXPECT_EQ(applies_, 2);  // the refused version is not retried until it changes
  EXPECT_EQ(log.Count("error value: not reloaded, the previous version stays in force"), 1) << log.text();
  EXPECT_EQ(log.text().find("secret-looking-garbage"), std::string::npos) << "file contents reached the log";
  // A different bad version is reported too.
  Replace(path_, "still bad");
  EXPECT_EQ(reloader_.PollOnce(), ReloadOutcome::kRefused);
  EXPECT_EQ(log.Count("error value: not reloaded"), 2);
  // Fixed: applied.
  Replace(path_, "8");
  EXPECT_EQ(reloader_.PollOnce(), ReloadOutcome::kApplied);
  EXPECT_EQ(value(), 8);
}

TEST_F(FileReloaderTest, HandlesDeletion) {
  CapturedLog log;
  Overwrite(path_, "5");
  ASSERT_TRUE(reloader_.Load().ok());
  std::filesystem::remove(path_);
  EXPECT_EQ(reloader_.PollOnce(), ReloadOutcome::kUnreadable);
  EXPECT_EQ(value(), 5);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(reloader_.PollOnce(), ReloadOutcome::kUnchanged);
  EXPECT_EQ(log.Count("error value: not reloaded"), 1) << log.text();
  EXPECT_NE(log.text().find("No such file"), std::string::npos) << log.text();
  // Put back as it was: nothing to apply, and the log says the error is over.
  Overwrite(path_, "5");
  EXPECT_EQ(reloader_.PollOnce(), ReloadOutcome::kUnchanged);
  EXPECT_EQ(log.Count("match the version in force again"), 1) << log.text();
  std::filesystem::remove(path_);
  EXPECT_EQ(reloader_.PollOnce(), ReloadOutcome::kUnreadable);
  Overwrite(path_, "6");
  EXPECT_EQ(reloader_.PollOnce(), ReloadOutcome::kApplied);
  EXPECT_EQ(value(), 6);
}

// Reports mtimes in whole seconds, as ext3, HFS+ and some NFS servers keep them
// (and as a kernel's coarse clock does within one tick).
class CoarseTimestampFileSystem final : public FileSystem {
 public:
  explicit CoarseTimestampFileSystem(FileSystem* base) : base_(base) {}
  Result<FileInfo> Stat(const std::string& path) override {
    auto info = base_->Stat(path);
    if (info.ok()) info->mtime_ns -= info->mtime_ns % 1'000'000'000;
    return info;
  }
  Result<std::unique_ptr<WritableFile>> OpenAppendable(const std::string& path) override {
    return base_->OpenAppendable(path);
  }
  Result<std::unique_ptr<RandomAccessFile>> OpenRandomAccess(const std::string& path) override {
    return base_->OpenRandomAccess(path);
  }
  Result<std::string> ReadFile(const std::string& path) override { return base_->ReadFile(path); }
  Status WriteFileAtomically(const std::string& path, std::string_view contents) override {
    return base_->WriteFileAtomically(path, contents);
  }
  Result<std::vector<std::string>> ListDirectory(const std::string& directory) override {
    return base_->ListDirectory(directory);
  }
  Status CreateDirectories(const std::string& directory) override { return base_->CreateDirectories(directory); }
  Status RemoveFile(const std::string& path) override { return base_->RemoveFile(path); }
  Status RemoveAll(const std::string& directory) override { return base_->RemoveAll(directory); }
  Status Rename(const std::string& from, const std::string& to) override { return base_->Rename(from, to); }
  Status SyncDirectory(const std::string& directory) override { return base_->SyncDirectory(directory); }
  bool Exists(const std::string& path) override { return base_->Exists(path); }

 private:
  FileSystem* base_;
};

TEST(FileReloader, DetectsARewriteThatLeavesSizeInodeAndMtimeAlone) {
  TempDir dir;
  const std::string path = dir.path() + "/value.txt";
  CoarseTimestampFileSystem file_system(DefaultFileSystem());
  std::string applied;
  FileReloader reloader("value", &file_system, {path}, std::chrono::milliseconds(0),
                        [&](const std::vector<std::string>& contents) -> Result<std::string> {
                          applied = contents.front();
                          return std::string();
                        });
  Overwrite(path, "1");
  ASSERT_TRUE(reloader.Load().ok());
  // In place, same size, (almost always) within the same second: only the
  // contents tell the versions apart.
  Overwrite(path, "2");
  EXPECT_EQ(reloader.PollOnce(), ReloadOutcome::kApplied);
  EXPECT_EQ(applied, "2");
  EXPECT_EQ(reloader.PollOnce(), ReloadOutcome::kUnchanged);
}

TEST(FileReloader, PollsOnItsOwnThreadUntilStopped) {
  TempDir dir;
  const std::string path = dir.path() + "/value.txt";
  Overwrite(path, "a");
  Swappable<std::string> value;
  FileReloader reloader("value", DefaultFileSystem(), {path}, std::chrono::milliseconds(10),
                        [&](const std::vector<std::string>& contents) -> Result<std::string> {
                          value.Set(std::make_shared<const std::string>(contents.front()));
                          return std::string();
                        });
  ASSERT_TRUE(reloader.Load().ok());
  reloader.Start();
  reloader.Start();  // idempotent
  Replace(path, "b");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (*value.Get() != "b" && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(*value.Get(), "b");
  reloader.Stop();
  Replace(path, "c");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(*value.Get(), "b");  // stopped: no more polls
}

TEST(FileReloader, WatchesSeveralFilesAsOneSet) {
  TempDir dir;
  const std::string first = dir.path() + "/first", second = dir.path() + "/second";
  Overwrite(first, "1");
  Overwrite(second, "1");
  std::string applied;
  // Valid only when both files agree, like a certificate and its key.
  FileReloader reloader("pair", DefaultFileSystem(), {first, second}, std::chrono::milliseconds(0),
                        [&](const std::vector<std::string>& contents) -> Result<std::string> {
                          if (contents[0] != contents[1]) return InvalidArgument("the files disagree");
                          applied = contents[0];
                          return std::string();
                        });
  ASSERT_TRUE(reloader.Load().ok());
  Replace(first, "2");
  EXPECT_EQ(reloader.PollOnce(), ReloadOutcome::kRefused);
  EXPECT_EQ(applied, "1");
  Replace(second, "2");
  EXPECT_EQ(reloader.PollOnce(), ReloadOutcome::kApplied);
  EXPECT_EQ(applied, "2");
}

// --- the tokens file and the shard map, through the gate -------------------

class GateReloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_.path() + "/ns");
    for (const char* name : {"orders", "payments"}) {
      Overwrite(dir_.path() + "/ns/" + name + ".yaml", std::string("name: ") + name + "\n");
    }
    engine::EngineOptions options{DefaultFileSystem(), dir_.path() + "/data", dir_.path() + "/ns",
                                  engine::Role::kProducer, ""};
    const modules::ModuleRegistry& modules = modules::BuiltinModules();
    options.modules = {&modules.catalog(), &modules, &modules, &modules};
    auto created = engine::Engine::Create(options);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    engine_ = std::move(created).value();
  }
  void TearDown() override {
    if (engine_) engine_->Shutdown();
  }

  static std::string Tokens(const std::string& token) {
    return "tokens:\n  - {name: app, sha256: " + Sha256Hex(token) + ", scopes: [write], namespaces: ['*']}\n";
  }

  TempDir dir_;
  std::unique_ptr<engine::Engine> engine_;
};

TEST_F(GateReloadTest, RotatedTokensApplyAndABadOrDeletedFileKeepsThem) {
  CapturedLog log;
  const std::string path = dir_.path() + "/tokens.yaml";
  Overwrite(path, Tokens("old-token"));
  auto holder = std::make_shared<Swappable<Authenticator>>();
  auto reloader = NewTokensFileReloader(DefaultFileSystem(), path, std::chrono::milliseconds(0), holder);
  ASSERT_TRUE(reloader->Load().ok());
  RequestGate gate(engine_.get(), holder, nullptr, "");
  EXPECT_TRUE(gate.AdmitWrite("Bearer old-token", "orders").ok());

  Replace(path, Tokens("new-token"));
  EXPECT_EQ(reloader->PollOnce(), ReloadOutcome::kApplied);
  EXPECT_EQ(gate.AdmitWrite("Bearer old-token", "orders").status.code(), StatusCode::kUnauthenticated);
  EXPECT_TRUE(gate.AdmitWrite("Bearer new-token", "orders").ok());

  // Broken, emptied, deleted: the new token keeps working and auth stays on.
  for (const std::string bad : {"tokens: [{name: x, sha256: nothex, scopes: [write], namespaces: ['*']}]\n",
                                "tokens: []\n", "tokens: [\n", ""}) {
    SCOPED_TRACE("tokens file: '" + bad + "'");
    if (bad.empty()) {
      std::filesystem::remove(path);
      EXPECT_EQ(reloader->PollOnce(), ReloadOutcome::kUnreadable);
    } else {
      Replace(path, bad);
      EXPECT_EQ(reloader->PollOnce(), ReloadOutcome::kRefused);
    }
    EXPECT_TRUE(gate.AdmitWrite("Bearer new-token", "orders").ok());
    EXPECT_EQ(gate.AdmitWrite("", "orders").status.code(), StatusCode::kUnauthenticated);
    EXPECT_EQ(gate.AdmitWrite("Bearer old-token", "orders").status.code(), StatusCode::kUnauthenticated);
  }
  EXPECT_EQ(log.Count("error auth.tokens_file: not reloaded"), 4) << log.text();
  EXPECT_EQ(log.Count("info auth.tokens_file: reloaded from " + path + ": 1 tokens"), 1) << log.text();
  for (const std::string& secret : {Sha256Hex("old-token"), Sha256Hex("new-token"), std::string("nothex")}) {
    EXPECT_EQ(log.text().find(secret), std::string::npos) << log.text();
  }
}

TEST_F(GateReloadTest, EditedShardMapRedirectsAndABadMapKeepsTheOldOne) {
  CapturedLog log;
  const std::string path = dir_.path() + "/shards.yaml";
  auto map = [](const std::string& a_namespaces, const std::string& b_namespaces) {
    return "shards:\n  a: {addresses: ['10.0.0.1:7400'], namespaces: [" + a_namespaces +
           "]}\n  b: {addresses: ['10.0.0.2:7400'], http: ['10.0.0.2:7401'], namespaces: [" + b_namespaces + "]}\n";
  };
  Overwrite(path, map("orders, payments", ""));
  auto holder = std::make_shared<Swappable<ShardMap>>();
  auto reloader = NewShardMapReloader(DefaultFileSystem(), path, "a", std::chrono::milliseconds(0), holder);
  ASSERT_TRUE(reloader->Load().ok());
  RequestGate gate(engine_.get(), nullptr, holder, "a");
  EXPECT_TRUE(gate.AdmitWrite("", "orders").ok());

  Replace(path, map("payments", "orders"));
  EXPECT_EQ(reloader->PollOnce(), ReloadOutcome::kApplied);
  Admission moved = gate.AdmitWrite("", "orders");
  EXPECT_TRUE(moved.misdirected());
  EXPECT_EQ(moved.address, "10.0.0.2:7400");
  EXPECT_EQ(moved.http_address, "10.0.0.2:7401");
  EXPECT_TRUE(gate.AdmitWrite("", "payments").ok());

  // A map without this instance's shard, and one that does not parse.
  Replace(path, "shards:\n  b: {addresses: ['10.0.0.2:7400'], namespaces: [orders, payments]}\n");
  EXPECT_EQ(reloader->PollOnce(), ReloadOutcome::kRefused);
  Replace(path, "shards: {a: {addresses: ['h:1'], namespaces: [x]}, b: {addresses: ['h:2'], namespaces: [x]}}\n");
  EXPECT_EQ(reloader->PollOnce(), ReloadOutcome::kRefused);
  EXPECT_TRUE(gate.AdmitWrite("", "orders").misdirected());
  EXPECT_TRUE(gate.AdmitWrite("", "payments").ok());
  EXPECT_NE(log.text().find("shard: 'a' is not in the shard map " + path), std::string::npos) << log.text();
  EXPECT_NE(log.text().find("already assigned to shard 'a'"), std::string::npos) << log.text();

  // Start-up refuses the same map outright.
  auto fresh = NewShardMapReloader(DefaultFileSystem(), path, "c", std::chrono::milliseconds(0),
                                   std::make_shared<Swappable<ShardMap>>());
  EXPECT_FALSE(fresh->Load().ok());
}

// --- TLS ------------------------------------------------------------------

struct KeyPair {
  std::string certificate;  // PEM
  std::string key;          // PEM
};

std::string ToPem(const std::function<void(BIO*)>& write) {
  BIO* bio = BIO_new(BIO_s_mem());
  write(bio);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(size));
  BIO_free(bio);
  return pem;
}

// A self-signed P-256 certificate, valid for an hour.
KeyPair SelfSigned(const std::string& common_name) {
  static long serial = 1;
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* certificate = X509_new();
  X509_set_version(certificate, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(certificate), serial++);
  X509_gmtime_adj(X509_getm_notBefore(certificate), -60);
  X509_gmtime_adj(X509_getm_notAfter(certificate), 3600);
  X509_set_pubkey(certificate, key);
  X509_NAME* name = X509_get_subject_name(certificate);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                             -1, 0);
  X509_set_issuer_name(certificate, name);
  X509_sign(certificate, key, EVP_sha256());
  KeyPair pair{ToPem([&](BIO* bio) { PEM_write_bio_X509(bio, certificate); }),
               ToPem([&](BIO* bio) { PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr); })};
  X509_free(certificate);
  EVP_PKEY_free(key);
  return pair;
}

std::string FingerprintOf(X509* certificate) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  X509_digest(certificate, EVP_sha256(), digest, &length);
  std::string hex;
  char byte[3];
  for (unsigned int i = 0; i < length; ++i) {
    std::snprintf(byte, sizeof(byte), "%02x", digest[i]);
    hex += byte;
  }
  return hex;
}

std::string FingerprintOf(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* certificate = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (certificate == nullptr) return "";
  std::string fingerprint = FingerprintOf(certificate);
  X509_free(certificate);
  return fingerprint;
}

// A server SSL_CTX configured once, as httplib's SSLServer does, and reused for
// every handshake: what changes between handshakes comes from the callback.
class ServerContext {
 public:
  explicit ServerContext(const ServerTls& tls) : context_(SSL_CTX_new(TLS_method())) {
    EXPECT_TRUE(tls.ConfigureSslContext(*context_));
  }
  ~ServerContext() { SSL_CTX_free(context_); }
  ServerContext(const ServerContext&) = delete;
  ServerContext& operator=(const ServerContext&) = delete;

  // Runs a TLS handshake in memory; returns the fingerprint of the certificate
  // the client saw, or "" if the handshake failed. `client` (optional) is
  // presented as the client certificate.
  std::string Handshake(const KeyPair* client = nullptr) const;

 private:
  SSL_CTX* context_;
};

std::string ServerContext::Handshake(const KeyPair* client) const {
  SSL_CTX* client_context = SSL_CTX_new(TLS_client_method());
  if (client != nullptr) {
    BIO* cert_bio = BIO_new_mem_buf(client->certificate.data(), static_cast<int>(client->certificate.size()));
    BIO* key_bio = BIO_new_mem_buf(client->key.data(), static_cast<int>(client->key.size()));
    X509* certificate = PEM_read_bio_X509(cert_bio, nullptr, nullptr, nullptr);
    EVP_PKEY* key = PEM_read_bio_PrivateKey(key_bio, nullptr, nullptr, nullptr);
    EXPECT_EQ(SSL_CTX_use_cert_and_key(client_context, certificate, key, nullptr, 1), 1);
    X509_free(certificate);
    EVP_PKEY_free(key);
    BIO_free(cert_bio);
    BIO_free(key_bio);
  }
  SSL* server = SSL_new(context_);
  SSL* client_ssl = SSL_new(client_context);
  BIO* client_end = nullptr;
  BIO* server_end = nullptr;
  BIO_new_bio_pair(&client_end, 0, &server_end, 0);
  SSL_set_bio(client_ssl, client_end, client_end);
  SSL_set_bio(server, server_end, server_end);
  SSL_set_connect_state(client_ssl);
  SSL_set_accept_state(server);
  bool client_done = false, server_done = false, failed = false;
  for (int round = 0; round < 50 && !(client_done && server_done) && !failed; ++round) {
    if (!client_done) {
      const int result = SSL_do_handshake(client_ssl);
      client_done = result == 1;
      failed = result <= 0 && SSL_get_error(client_ssl, result) != SSL_ERROR_WANT_READ;
    }
    if (!server_done && !failed) {
      const int result = SSL_do_handshake(server);
      server_done = result == 1;
      failed = result <= 0 && SSL_get_error(server, result) != SSL_ERROR_WANT_READ;
    }
  }
  std::string fingerprint;
  if (client_done && server_done && !failed) {
    X509* peer = SSL_get1_peer_certificate(client_ssl);
    if (peer != nullptr) fingerprint = FingerprintOf(peer);
    X509_free(peer);
  }
  ERR_clear_error();
  SSL_free(client_ssl);
  SSL_free(server);
  SSL_CTX_free(client_context);
  return fingerprint;
}

class ServerTlsTest : public ::testing::Test {
 protected:
  config::TlsConfig Config(bool mutual) const {
    config::TlsConfig tls;
    tls.cert_file = dir_.path() + "/server.crt";
    tls.key_file = dir_.path() + "/server.key";
    if (mutual) tls.client_ca_file = dir_.path() + "/ca.crt";
    return tls;
  }
  void Install(const KeyPair& pair) const {
    Replace(dir_.path() + "/server.crt", pair.certificate);
    Replace(dir_.path() + "/server.key", pair.key);
  }
  std::string GrpcCopy(const ServerTls& tls) const {
    auto text = DefaultFileSystem()->ReadFile(tls.grpc_identity_path());
    EXPECT_TRUE(text.ok()) << text.status().ToString();
    return text.ok() ? text.value() : "";
  }

  TempDir dir_;
};

TEST_F(ServerTlsTest, RotatedCertificateIsServedAndABadOneIsNot) {
  CapturedLog log;
  const KeyPair first = SelfSigned("first"), second = SelfSigned("second"), third = SelfSigned("third");
  Install(first);
  auto loaded = ServerTls::Load(DefaultFileSystem(), Config(false), std::chrono::milliseconds(0));
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  ServerTls& tls = **loaded;
  EXPECT_FALSE(tls.mutual());
  EXPECT_EQ(tls.CertificateFingerprint(), FingerprintOf(first.certificate));
  const ServerContext https(tls);
  EXPECT_EQ(https.Handshake(), FingerprintOf(first.certificate));
  // gRPC reads an in-memory copy holding the chain and the key.
  EXPECT_EQ(tls.grpc_identity_path().rfind("/proc/self/fd/", 0), 0u) << tls.grpc_identity_path();
  EXPECT_EQ(FingerprintOf(GrpcCopy(tls)), FingerprintOf(first.certificate));
  EXPECT_NE(GrpcCopy(tls).find("PRIVATE KEY"), std::string::npos);

  Install(second);
  EXPECT_EQ(tls.PollOnce(), ReloadOutcome::kApplied);
  EXPECT_EQ(https.Handshake(), FingerprintOf(second.certificate));
  EXPECT_EQ(FingerprintOf(GrpcCopy(tls)), FingerprintOf(second.certificate));
  EXPECT_NE(log.text().find("CN=second"), std::string::npos) << log.text();

  // Half a rotation (a new certificate, the old key), then garbage, then no key
  // at all: the second pair stays, for HTTPS and for gRPC alike.
  Replace(dir_.path() + "/server.crt", third.certificate);
  EXPECT_EQ(tls.PollOnce(), ReloadOutcome::kRefused);
  EXPECT_NE(log.text().find("is not the key of the certificate"), std::string::npos) << log.text();
  Replace(dir_.path() + "/server.crt", "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
  EXPECT_EQ(tls.PollOnce(), ReloadOutcome::kRefused);
  std::filesystem::remove(dir_.path() + "/server.key");
  EXPECT_EQ(tls.PollOnce(), ReloadOutcome::kUnreadable);
  EXPECT_EQ(tls.CertificateFingerprint(), FingerprintOf(second.certificate));
  EXPECT_EQ(https.Handshake(), FingerprintOf(second.certificate));
  EXPECT_EQ(FingerprintOf(GrpcCopy(tls)), FingerprintOf(second.certificate));

  // The rest of the rotation arrives: applied.
  Replace(dir_.path() + "/server.key", third.key);
  Replace(dir_.path() + "/server.crt", third.certificate);
  EXPECT_EQ(tls.PollOnce(), ReloadOutcome::kApplied);
  EXPECT_EQ(https.Handshake(), FingerprintOf(third.certificate));
  EXPECT_EQ(FingerprintOf(GrpcCopy(tls)), FingerprintOf(third.certificate));
  EXPECT_EQ(log.text().find("PRIVATE KEY"), std::string::npos) << "key material reached the log";
}

TEST_F(ServerTlsTest, StartUpRefusesBadFiles) {
  const KeyPair first = SelfSigned("first"), second = SelfSigned("second");
  EXPECT_FALSE(ServerTls::Load(DefaultFileSystem(), Config(false), std::chrono::milliseconds(0)).ok());  // missing
  Replace(dir_.path() + "/server.crt", first.certificate);
  Replace(dir_.path() + "/server.key", second.key);
  auto mismatched = ServerTls::Load(DefaultFileSystem(), Config(false), std::chrono::milliseconds(0));
  ASSERT_FALSE(mismatched.ok());
  EXPECT_NE(mismatched.status().message().find("is not the key of the certificate"), std::string::npos);
  Replace(dir_.path() + "/server.crt", "not a certificate");
  EXPECT_FALSE(ServerTls::Load(DefaultFileSystem(), Config(false), std::chrono::milliseconds(0)).ok());
}

TEST_F(ServerTlsTest, RotatedClientCaDecidesWhichClientsGetIn) {
  const KeyPair server = SelfSigned("server"), alice = SelfSigned("alice"), bob = SelfSigned("bob");
  Install(server);
  // Self-signed client certificates act as their own CA.
  Replace(dir_.path() + "/ca.crt", alice.certificate);
  auto loaded = ServerTls::Load(DefaultFileSystem(), Config(true), std::chrono::milliseconds(0));
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  ServerTls& tls = **loaded;
  EXPECT_TRUE(tls.mutual());
  const ServerContext https(tls);
  EXPECT_EQ(https.Handshake(), "");  // no client certificate
  EXPECT_EQ(https.Handshake(&alice), FingerprintOf(server.certificate));
  EXPECT_EQ(https.Handshake(&bob), "");

  Replace(dir_.path() + "/ca.crt", bob.certificate);
  EXPECT_EQ(tls.PollOnce(), ReloadOutcome::kApplied);
  EXPECT_EQ(https.Handshake(&alice), "");
  EXPECT_EQ(https.Handshake(&bob), FingerprintOf(server.certificate));

  Replace(dir_.path() + "/ca.crt", "garbage");
  EXPECT_EQ(tls.PollOnce(), ReloadOutcome::kRefused);
  EXPECT_EQ(https.Handshake(&bob), FingerprintOf(server.certificate));
}

}  // namespace
}  // namespace wal::server
