// walctl through the real binary against a real wald: where flags may go,
// output formats, exit codes, the duration grammar, refused ambiguous input,
// --version, help and shell completion.
#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <vector>

#include "wald_process.h"

namespace wal::testing {
namespace {

using google::protobuf::util::TimeUtil;

constexpr const char* kOrdersNamespace = R"(name: orders
backend:
  type: local
  local: {segment_bytes: 1048576}
delay: {max_delay: 7d}
)";

// The "message" of a {"error":{...}} answer, or "" if the output is not one.
std::string ErrorMessage(const CommandResult& result) {
  auto answer = nlohmann::json::parse(result.output, nullptr, false);
  if (answer.is_discarded() || !answer.contains("error")) return "";
  return answer["error"].value("message", "");
}

// One JSON document per line of `output` (walctl's log read output).
std::vector<nlohmann::json> JsonLines(const std::string& output) {
  std::vector<nlohmann::json> parsed;
  std::stringstream stream(output);
  for (std::string line; std::getline(stream, line);) parsed.push_back(nlohmann::json::parse(line));
  return parsed;
}

class WalctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    wald_ = std::make_unique<WaldProcess>(dir_.path());
    wald_->WriteNamespaceFile("orders", kOrdersNamespace);
    wald_->Start();
  }

  std::string WriteFile(const std::string& name, const std::string& text) {
    const std::string path = dir_.path() + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  TempDir dir_;
  std::unique_ptr<WaldProcess> wald_;
};

TEST_F(WalctlTest, GlobalFlagsAreAcceptedAfterTheCommand) {
  auto written = wald_->Walctl({"write", "orders", "x", "--json"});
  ASSERT_EQ(written.exit_code, 0) << written.output;
  EXPECT_EQ(nlohmann::json::parse(written.output)["durable"], "TRUE") << written.output;
  auto status = wald_->Walctl({"status", "orders", "-o", "json", "--timeout", "5s"});
  ASSERT_EQ(status.exit_code, 0) << status.output;
  EXPECT_EQ(nlohmann::json::parse(status.output)["namespaces"][0]["name"], "orders");
}

TEST_F(WalctlTest, ServerComesFromWalServerWhenNotGiven) {
  ::setenv("WAL_SERVER", wald_->grpc_address().c_str(), 1);
  auto listed = RunCommand({WalctlBinary(), "namespaces", "list", "-o", "json"});
  ::unsetenv("WAL_SERVER");
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_EQ(nlohmann::json::parse(listed.output)["names"][0], "orders");
}

TEST_F(WalctlTest, YamlOutputIsTheJsonDataAndKeysAreSorted) {
  auto as_json = wald_->Walctl({"namespaces", "get", "orders", "-o", "json"});
  auto as_yaml = wald_->Walctl({"namespaces", "get", "orders", "-o", "yaml"});
  ASSERT_EQ(as_json.exit_code, 0) << as_json.output;
  ASSERT_EQ(as_yaml.exit_code, 0) << as_yaml.output;
  EXPECT_EQ(as_yaml.output.rfind("---\n", 0), 0u) << as_yaml.output;
  EXPECT_NE(as_yaml.output.find("name: orders"), std::string::npos) << as_yaml.output;
  // Sorted keys at every level make two runs byte-identical and diffable.
  auto ordered = nlohmann::ordered_json::parse(as_json.output);
  std::vector<std::string> keys;
  for (const auto& item : ordered.items()) keys.push_back(item.key());
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end())) << as_json.output;
  EXPECT_EQ(wald_->Walctl({"namespaces", "get", "orders", "-o", "json"}).output, as_json.output);
  EXPECT_EQ(wald_->Walctl({"--json", "-o", "yaml", "status"}).exit_code, 2);
}

TEST_F(WalctlTest, ExitCodesAreTheDocumentedOnes) {
  EXPECT_EQ(wald_->Walctl({"status", "--no-such-flag"}).exit_code, 2);
  EXPECT_EQ(wald_->Walctl({"status", "orders", "extra"}).exit_code, 2);
  EXPECT_EQ(wald_->Walctl({"no-such-command"}).exit_code, 2);
  EXPECT_EQ(wald_->Walctl({}).exit_code, 2);
  EXPECT_EQ(wald_->Walctl({"write", "--help"}).exit_code, 0);
  EXPECT_EQ(wald_->Walctl({"--json", "namespaces", "get", "missing"}).exit_code, 1);
  // Nothing listens on port 1: unreachable, whatever the command.
  auto unreachable = RunCommand({WalctlBinary(), "--server", "127.0.0.1:1", "--timeout", "3s", "-o", "json", "status"});
  EXPECT_EQ(unreachable.exit_code, 4) << unreachable.output;
  EXPECT_NE(unreachable.output.find("UNAVAILABLE"), std::string::npos) << unreachable.output;
}

TEST_F(WalctlTest, DurationsTakeCompoundValuesAndRefuseBareNumbers) {
  auto bare = wald_->Walctl({"-o", "json", "write", "orders", "x", "--delay", "90"});
  EXPECT_EQ(bare.exit_code, 2);
  EXPECT_NE(ErrorMessage(bare).find("--delay: give a unit, e.g. 90s"), std::string::npos) << bare.output;
  EXPECT_EQ(wald_->Walctl({"--timeout", "5", "status"}).exit_code, 2);
  EXPECT_EQ(wald_->Walctl({"write", "orders", "x", "--delay", "30s1m"}).exit_code, 2);
  EXPECT_EQ(wald_->Walctl({"write", "orders", "x", "--delay", "-1s"}).exit_code, 2);

  // The server's refusal speaks in the same units.
  auto over = wald_->Walctl({"-o", "json", "write", "orders", "x", "--delay", "8d"});
  EXPECT_EQ(over.exit_code, 1);
  EXPECT_NE(ErrorMessage(over).find("8d is over the namespace's max_delay of 7d"), std::string::npos) << over.output;

  ASSERT_EQ(wald_->Walctl({"write", "orders", "compound", "--delay", "1m30s"}).exit_code, 0);
  auto read = wald_->Walctl({"log", "read", "orders", "-o", "json"});
  ASSERT_EQ(read.exit_code, 0) << read.output;
  auto entry = nlohmann::json::parse(read.output.substr(0, read.output.find('\n')));
  google::protobuf::Timestamp due, accepted;
  ASSERT_TRUE(TimeUtil::FromString(entry["record"]["due_time"].get<std::string>(), &due)) << read.output;
  ASSERT_TRUE(TimeUtil::FromString(entry["record"]["accepted_time"].get<std::string>(), &accepted));
  EXPECT_EQ(TimeUtil::TimestampToMilliseconds(due) - TimeUtil::TimestampToMilliseconds(accepted), 90'000);
}

TEST_F(WalctlTest, AmbiguousInputIsRefusedNotDropped) {
  const std::string file = WriteFile("payload.txt", "from the file");
  // RunCommand gives walctl a pipe on stdin, as `echo x | walctl write orders` would.
  auto piped = wald_->Walctl({"-o", "json", "write", "orders"}, "piped data");
  EXPECT_EQ(piped.exit_code, 2);
  EXPECT_NE(ErrorMessage(piped).find("pass -"), std::string::npos) << piped.output;
  EXPECT_EQ(wald_->Walctl({"write", "orders", "argument", "--file", file}).exit_code, 2);
  EXPECT_EQ(wald_->Walctl({"write", "orders", "value", "--op", "delete", "--key", "k"}).exit_code, 2);
  EXPECT_EQ(wald_->Walctl({"write", "orders", "--file", file, "--op", "delete", "--key", "k"}).exit_code, 2);
  EXPECT_EQ(wald_->Walctl({"write", "orders", "--op", "put", "--key", "k"}).exit_code, 2);
  EXPECT_EQ(wald_->Walctl({"write", "orders", "x", "--key", "k"}).exit_code, 2);
  // Nothing above reached the log; the explicit forms below do.
  EXPECT_EQ(wald_->Walctl({"write", "orders", "-"}, "piped data").exit_code, 0);
  EXPECT_EQ(wald_->Walctl({"write", "orders", "--file", file}).exit_code, 0);
  EXPECT_EQ(wald_->Walctl({"write", "orders", "--op", "delete", "--key", "k"}).exit_code, 0);
  auto status = nlohmann::json::parse(wald_->Walctl({"-o", "json", "status", "orders"}).output);
  EXPECT_EQ(status["namespaces"][0]["log_end"], "3") << status.dump();
}

TEST_F(WalctlTest, DryRunApplyValidatesAndChangesNothing) {
  const std::string good = WriteFile("audit.yaml", "name: audit\nbackend: {type: local}\n");
  auto checked = wald_->Walctl({"namespaces", "apply", good, "--dry-run", "-o", "json"});
  ASSERT_EQ(checked.exit_code, 0) << checked.output;
  EXPECT_EQ(nlohmann::json::parse(checked.output)["name"], "audit") << checked.output;
  auto listed = nlohmann::json::parse(wald_->Walctl({"-o", "json", "namespaces", "list"}).output);
  EXPECT_EQ(listed["names"].size(), 1u) << listed.dump();
  EXPECT_FALSE(std::filesystem::exists(wald_->namespaces_dir() + "/audit.yaml"));
  const std::string bad = WriteFile("bad.yaml", "name: bad\nbackend: {type: local}\nmax_payload_bytes: -1\n");
  EXPECT_EQ(wald_->Walctl({"namespaces", "apply", bad, "--dry-run"}).exit_code, 2);

  // The server says what applying would change, against what it runs now.
  auto would_create = wald_->Walctl({"namespaces", "apply", good, "--dry-run"});
  ASSERT_EQ(would_create.exit_code, 0) << would_create.output;
  EXPECT_NE(would_create.output.find("would create it"), std::string::npos) << would_create.output;
  ASSERT_EQ(wald_->Walctl({"namespaces", "apply", good}).exit_code, 0);
  auto unchanged = wald_->Walctl({"namespaces", "apply", good, "--dry-run"});
  EXPECT_NE(unchanged.output.find("would change nothing"), std::string::npos) << unchanged.output;
  const std::string retries = WriteFile("audit-retries.yaml", "name: audit\nbackend: {type: local}\nmax_retries: 2\n");
  auto policy = wald_->Walctl({"namespaces", "apply", retries, "--dry-run"});
  EXPECT_NE(policy.output.find("keep its log open"), std::string::npos) << policy.output;
  const std::string segments =
      WriteFile("audit-segments.yaml", "name: audit\nbackend: {type: local, local: {segment_bytes: 1048576}}\n");
  auto reopen = wald_->Walctl({"namespaces", "apply", segments, "--dry-run"});
  EXPECT_NE(reopen.output.find("open it again"), std::string::npos) << reopen.output;
  auto current = nlohmann::json::parse(wald_->Walctl({"-o", "json", "namespaces", "get", "audit"}).output);
  EXPECT_NE(current["max_retries"], 2) << "a dry run applies nothing: " << current.dump();

  // It asks the server, so with none it says so rather than guessing.
  wald_->Stop();
  EXPECT_EQ(wald_->Walctl({"namespaces", "apply", retries, "--dry-run"}).exit_code, 4);
}

TEST_F(WalctlTest, ExportThenImportCarriesNamespacesAcross) {
  const std::string exported = dir_.path() + "/exported";
  auto written = wald_->Walctl({"namespaces", "export", exported});
  ASSERT_EQ(written.exit_code, 0) << written.output;
  ASSERT_TRUE(std::filesystem::exists(exported + "/orders.yaml")) << written.output;
  ASSERT_EQ(wald_->Walctl({"namespaces", "delete", "orders"}).exit_code, 0);
  auto imported = wald_->Walctl({"-o", "json", "namespaces", "import", exported});
  ASSERT_EQ(imported.exit_code, 0) << imported.output;
  EXPECT_EQ(nlohmann::json::parse(imported.output)["imported"][0], "orders");
  EXPECT_EQ(wald_->Walctl({"namespaces", "get", "orders"}).exit_code, 0);
  // One bad file: nothing is applied.
  std::ofstream(exported + "/typo.yaml") << "name: typo\nbackend: {type: local}\nmax_payload_bytez: 1\n";
  ASSERT_EQ(wald_->Walctl({"namespaces", "delete", "orders"}).exit_code, 0);
  EXPECT_EQ(wald_->Walctl({"namespaces", "import", exported}).exit_code, 2);
  EXPECT_EQ(wald_->Walctl({"namespaces", "get", "orders"}).exit_code, 1);
}

TEST_F(WalctlTest, VersionIsTheProjectVersion) {
  auto walctl = RunCommand({WalctlBinary(), "--version"});
  EXPECT_EQ(walctl.exit_code, 0);
  EXPECT_EQ(walctl.output, "walctl 0.1.0\n");
  auto wald = RunCommand({WaldBinary(), "--version"});
  EXPECT_EQ(wald.exit_code, 0);
  EXPECT_EQ(wald.output, "wald 0.1.0\n");
}

TEST_F(WalctlTest, SubcommandHelpShowsGlobalFlagsAndDescribesEveryArgument) {
  auto help = wald_->Walctl({"dlq", "list", "--help"});
  ASSERT_EQ(help.exit_code, 0);
  EXPECT_NE(help.output.find("Global flags"), std::string::npos) << help.output;
  EXPECT_NE(help.output.find("--server"), std::string::npos) << help.output;
  EXPECT_NE(help.output.find("Namespace whose dead letters to list"), std::string::npos) << help.output;
  EXPECT_NE(help.output.find("First dead-letter id"), std::string::npos) << help.output;
  EXPECT_NE(wald_->Walctl({"namespaces", "get", "--help"}).output.find("Namespace name"), std::string::npos);
}

TEST_F(WalctlTest, BashCompletionCompletesCommandsAndFlags) {
  auto script = RunCommand({WalctlBinary(), "completion", "bash"});
  ASSERT_EQ(script.exit_code, 0);
  const std::string path = WriteFile("walctl.bash", script.output);
  auto complete = [&](const std::string& words) {
    return RunCommand({"/bin/bash", "-c",
                       "source " + path + "; COMP_WORDS=(" + words + "); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); "
                       "_walctl; echo \"${COMPREPLY[*]}\""});
  };
  EXPECT_EQ(complete("walctl namespaces ap").output, "apply\n");
  EXPECT_EQ(complete("walctl dlq list ns --fr").output, "--from\n");
  EXPECT_EQ(complete("walctl write orders x --jso").output, "--json\n");
  EXPECT_EQ(complete("walctl -o y").output, "yaml\n");
  auto zsh = RunCommand({WalctlBinary(), "completion", "zsh"});
  EXPECT_EQ(zsh.exit_code, 0);
  EXPECT_NE(zsh.output.find("bashcompinit"), std::string::npos);
  EXPECT_EQ(RunCommand({WalctlBinary(), "completion", "fish"}).exit_code, 2);
}

TEST_F(WalctlTest, LogReadDecodePrintsPayloadsAsTextOrJson) {
  ASSERT_EQ(wald_->Walctl({"write", "orders", "hello", "--delay", "1h"}).exit_code, 0);
  ASSERT_EQ(wald_->Walctl({"write", "orders", R"({"a":1})", "--delay", "1h"}).exit_code, 0);
  auto raw = wald_->Walctl({"log", "read", "orders"});
  ASSERT_EQ(raw.exit_code, 0) << raw.output;
  auto plain = JsonLines(raw.output);
  ASSERT_EQ(plain.size(), 2u) << raw.output;
  EXPECT_EQ(plain[0]["record"]["payload"]["opaque"], "aGVsbG8=");  // protobuf's JSON: base64

  auto decoded_run = wald_->Walctl({"log", "read", "orders", "--decode"});
  ASSERT_EQ(decoded_run.exit_code, 0) << decoded_run.output;
  auto decoded = JsonLines(decoded_run.output);
  ASSERT_EQ(decoded.size(), 2u) << decoded_run.output;
  EXPECT_EQ(decoded[0]["record"]["payload"]["opaque"], "hello") << decoded_run.output;
  EXPECT_EQ(decoded[1]["record"]["payload"]["opaque"]["a"], 1) << decoded_run.output;
}

TEST_F(WalctlTest, LogTailPrintsTheNewestThenFollows) {
  for (const char* payload : {"first", "second"}) {
    ASSERT_EQ(wald_->Walctl({"write", "orders", payload, "--delay", "1h"}).exit_code, 0);
  }
  CommandResult tailed;
  std::thread follower([&] {
    tailed = RunCommand({"/usr/bin/timeout", "-s", "INT", "5", WalctlBinary(), "--server", wald_->grpc_address(), "log", "tail",
                         "orders", "-n", "1", "--decode"});
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(2000));
  ASSERT_EQ(wald_->Walctl({"write", "orders", "third", "--delay", "1h"}).exit_code, 0);
  follower.join();
  EXPECT_EQ(tailed.exit_code, 124) << tailed.output;  // still following when timeout stopped it
  EXPECT_EQ(tailed.output.find("\"first\""), std::string::npos) << tailed.output;
  EXPECT_NE(tailed.output.find("\"second\""), std::string::npos) << tailed.output;
  EXPECT_NE(tailed.output.find("\"third\""), std::string::npos) << tailed.output;
}

// Each record shows its write's id and where it stands; --entry and --state
// pick records by them, and the status columns add up (PENDING = DUE +
// DELAYED + IN_FLIGHT).
TEST_F(WalctlTest, LogReadShowsEntryIdsAndStatesAndFiltersByThem) {
  ASSERT_EQ(wald_->Walctl({"write", "orders", "first", "--delay", "1h"}).exit_code, 0);
  auto second_write = wald_->Walctl({"write", "orders", "second", "--delay", "1h", "-o", "json"});
  ASSERT_EQ(second_write.exit_code, 0) << second_write.output;
  // uint64 is a string in protobuf's JSON; accept a number too.
  auto text = [](const nlohmann::json& value) {
    return value.is_string() ? value.get<std::string>() : value.dump();
  };
  const std::string second_id = text(nlohmann::json::parse(second_write.output)["id"]);
  auto all = wald_->Walctl({"log", "read", "orders"});
  ASSERT_EQ(all.exit_code, 0) << all.output;
  auto records = JsonLines(all.output);
  ASSERT_EQ(records.size(), 2u) << all.output;
  for (const auto& record : records) {
    EXPECT_EQ(record["state"], "DELAYED") << record.dump();
    EXPECT_EQ(text(record["entry_id"]), text(record["id"])) << "never stored again: its own id is its entry id";
  }
  auto delayed = wald_->Walctl({"log", "read", "orders", "--state", "due,delayed"});
  EXPECT_EQ(JsonLines(delayed.output).size(), 2u) << delayed.output;
  auto due = wald_->Walctl({"log", "read", "orders", "--state", "due"});
  ASSERT_EQ(due.exit_code, 0) << due.output;
  EXPECT_TRUE(due.output.empty()) << due.output;
  auto one = wald_->Walctl({"log", "read", "orders", "--entry", second_id});
  auto only = JsonLines(one.output);
  ASSERT_EQ(only.size(), 1u) << one.output;
  EXPECT_EQ(text(only[0]["entry_id"]), second_id);
  EXPECT_EQ(only[0]["record"]["payload"]["opaque"], "c2Vjb25k");  // "second"
  EXPECT_NE(wald_->Walctl({"log", "read", "orders", "--state", "sleeping"}).exit_code, 0);

  auto table = wald_->Walctl({"status", "orders"});
  ASSERT_EQ(table.exit_code, 0) << table.output;
  std::stringstream rows(table.output);
  std::string header, row;
  std::getline(rows, header);
  std::getline(rows, row);
  std::stringstream header_words(header), row_words(row);
  std::map<std::string, std::string> columns;
  for (std::string name, value; header_words >> name && row_words >> value;) columns[name] = value;
  EXPECT_EQ(columns["PENDING"], "2") << table.output;
  EXPECT_EQ(columns["DUE"], "0") << table.output;
  EXPECT_EQ(columns["DELAYED"], "2") << table.output;
  EXPECT_EQ(columns["IN_FLIGHT"], "0") << table.output;
}

}  // namespace
}  // namespace wal::testing
