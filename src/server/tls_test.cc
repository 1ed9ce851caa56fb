// ServerTls: certificates, keys and client CAs loaded from files, rotated live
// (each handshake takes the newest good set), bad files refused at start-up.
#include "server/tls.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>

#include "server/server_test_support.h"

namespace wal::server {
namespace {

using testing::CapturedLog;
using testing::TempDir;
using testing::WriteFile;

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
    WriteFile(dir_.path() + "/server.crt", pair.certificate);
    WriteFile(dir_.path() + "/server.key", pair.key);
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
  WriteFile(dir_.path() + "/server.crt", third.certificate);
  EXPECT_EQ(tls.PollOnce(), ReloadOutcome::kRefused);
  EXPECT_NE(log.text().find("is not the key of the certificate"), std::string::npos) << log.text();
  WriteFile(dir_.path() + "/server.crt", "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
  EXPECT_EQ(tls.PollOnce(), ReloadOutcome::kRefused);
  std::filesystem::remove(dir_.path() + "/server.key");
  EXPECT_EQ(tls.PollOnce(), ReloadOutcome::kUnreadable);
  EXPECT_EQ(tls.CertificateFingerprint(), FingerprintOf(second.certificate));
  EXPECT_EQ(https.Handshake(), FingerprintOf(second.certificate));
  EXPECT_EQ(FingerprintOf(GrpcCopy(tls)), FingerprintOf(second.certificate));

  // The rest of the rotation arrives: applied.
  WriteFile(dir_.path() + "/server.key", third.key);
  WriteFile(dir_.path() + "/server.crt", third.certificate);
  EXPECT_EQ(tls.PollOnce(), ReloadOutcome::kApplied);
  EXPECT_EQ(https.Handshake(), FingerprintOf(third.certificate));
  EXPECT_EQ(FingerprintOf(GrpcCopy(tls)), FingerprintOf(third.certificate));
  EXPECT_EQ(log.text().find("PRIVATE KEY"), std::string::npos) << "key material reached the log";
}

TEST_F(ServerTlsTest, StartUpRefusesBadFiles) {
  const KeyPair first = SelfSigned("first"), second = SelfSigned("second");
  EXPECT_FALSE(ServerTls::Load(DefaultFileSystem(), Config(false), std::chrono::milliseconds(0)).ok());  // missing
  WriteFile(dir_.path() + "/server.crt", first.certificate);
  WriteFile(dir_.path() + "/server.key", second.key);
  auto mismatched = ServerTls::Load(DefaultFileSystem(), Config(false), std::chrono::milliseconds(0));
  ASSERT_FALSE(mismatched.ok());
  EXPECT_NE(mismatched.status().message().find("is not the key of the certificate"), std::string::npos);
  WriteFile(dir_.path() + "/server.crt", "not a certificate");
  EXPECT_FALSE(ServerTls::Load(DefaultFileSystem(), Config(false), std::chrono::milliseconds(0)).ok());
}

TEST_F(ServerTlsTest, RotatedClientCaDecidesWhichClientsGetIn) {
  const KeyPair server = SelfSigned("server"), alice = SelfSigned("alice"), bob = SelfSigned("bob");
  Install(server);
  // Self-signed client certificates act as their own CA.
  WriteFile(dir_.path() + "/ca.crt", alice.certificate);
  auto loaded = ServerTls::Load(DefaultFileSystem(), Config(true), std::chrono::milliseconds(0));
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  ServerTls& tls = **loaded;
  EXPECT_TRUE(tls.mutual());
  const ServerContext https(tls);
  EXPECT_EQ(https.Handshake(), "");  // no client certificate
  EXPECT_EQ(https.Handshake(&alice), FingerprintOf(server.certificate));
  EXPECT_EQ(https.Handshake(&bob), "");

  WriteFile(dir_.path() + "/ca.crt", bob.certificate);
  EXPECT_EQ(tls.PollOnce(), ReloadOutcome::kApplied);
  EXPECT_EQ(https.Handshake(&alice), "");
  EXPECT_EQ(https.Handshake(&bob), FingerprintOf(server.certificate));

  WriteFile(dir_.path() + "/ca.crt", "garbage");
  EXPECT_EQ(tls.PollOnce(), ReloadOutcome::kRefused);
  EXPECT_EQ(https.Handshake(&bob), FingerprintOf(server.certificate));
}

}  // namespace
}  // namespace wal::server
