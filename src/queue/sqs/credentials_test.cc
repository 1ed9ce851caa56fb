#include "queue/sqs/credentials.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

namespace wal::queue::sqs {
namespace {

EnvLookup Env(std::map<std::string, std::string> values) {
  return [values = std::move(values)](const std::string& name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

class CredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("wal-sqs-credentials-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_ / ".aws");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const std::filesystem::path& path, const std::string& text) {
    std::ofstream out(path);
    out << text;
  }
  std::filesystem::path dir_;
};

TEST_F(CredentialsTest, EnvironmentWins) {
  Write(dir_ / ".aws/credentials", "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = FILESECRET\n");
  auto credentials = LoadCredentials(Env({{"AWS_ACCESS_KEY_ID", "ENVKEY"},
                                          {"AWS_SECRET_ACCESS_KEY", "ENVSECRET"},
                                          {"AWS_SESSION_TOKEN", "TOKEN"},
                                          {"HOME", dir_.string()}}));
  ASSERT_TRUE(credentials.ok()) << credentials.status().ToString();
  EXPECT_EQ(credentials->keys.access_key_id, "ENVKEY");
  EXPECT_EQ(credentials->keys.secret_access_key, "ENVSECRET");
  EXPECT_EQ(credentials->keys.session_token, "TOKEN");
  EXPECT_EQ(credentials->source, "environment");
  EXPECT_EQ(credentials->Describe().find("ENVSECRET"), std::string::npos);
}

TEST_F(CredentialsTest, HalfSetEnvironmentIsAnError) {
  auto credentials = LoadCredentials(Env({{"AWS_ACCESS_KEY_ID", "ENVKEY"}}));
  ASSERT_FALSE(credentials.ok());
  EXPECT_EQ(credentials.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(credentials.status().message().find("AWS_SECRET_ACCESS_KEY"), std::string::npos);
}

TEST_F(CredentialsTest, SharedFileDefaultProfileUnderHome) {
  Write(dir_ / ".aws/credentials",
        "# comment\n[other]\naws_access_key_id=OTHER\naws_secret_access_key=OTHERSECRET\n\n"
        "[default]\r\naws_access_key_id = FILEKEY \r\naws_secret_access_key=FILESECRET\r\n");
  auto credentials = LoadCredentials(Env({{"HOME", dir_.string()}}));
  ASSERT_TRUE(credentials.ok()) << credentials.status().ToString();
  EXPECT_EQ(credentials->keys.access_key_id, "FILEKEY");
  EXPECT_EQ(credentials->keys.secret_access_key, "FILESECRET");
  EXPECT_TRUE(credentials->keys.session_token.empty());
  EXPECT_NE(credentials->source.find("[default]"), std::string::npos);
}

TEST_F(CredentialsTest, SharedFileFromVariableAndProfile) {
  Write(dir_ / "creds", "[default]\naws_access_key_id=D\naws_secret_access_key=DS\n"
                        "[profile ci]\naws_access_key_id=CI\naws_secret_access_key=CIS\naws_session_token=CIT\n");
  auto credentials = LoadCredentials(
      Env({{"AWS_SHARED_CREDENTIALS_FILE", (dir_ / "creds").string()}, {"AWS_PROFILE", "ci"}, {"HOME", "/nonexistent"}}));
  ASSERT_TRUE(credentials.ok()) << credentials.status().ToString();
  EXPECT_EQ(credentials->keys.access_key_id, "CI");
  EXPECT_EQ(credentials->keys.session_token, "CIT");
}

TEST_F(CredentialsTest, MissingProfileOrFileIsUnauthenticatedAndNamesWhereItLooked) {
  Write(dir_ / ".aws/credentials", "[default]\naws_access_key_id=D\naws_secret_access_key=DS\n");
  auto missing_profile = LoadCredentials(Env({{"HOME", dir_.string()}, {"AWS_PROFILE", "prod"}}));
  ASSERT_FALSE(missing_profile.ok());
  EXPECT_EQ(missing_profile.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(missing_profile.status().message().find("[prod]"), std::string::npos);
  auto no_file = LoadCredentials(Env({{"HOME", "/nonexistent-home"}}));
  ASSERT_FALSE(no_file.ok());
  EXPECT_EQ(no_file.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(no_file.status().message().find("/nonexistent-home/.aws/credentials"), std::string::npos);
}

TEST_F(CredentialsTest, ProfileWithoutSecretIsInvalidAndDoesNotLeakValues) {
  auto parsed = ParseSharedCredentials("[default]\naws_access_key_id=KEYONLY\n", "default", "f");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(parsed.status().message().find("KEYONLY"), std::string::npos);
}

}  // namespace
}  // namespace wal::queue::sqs
