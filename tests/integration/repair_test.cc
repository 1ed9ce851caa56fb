// `wald --repair` through the real binary: a namespace whose log was damaged in
// the middle is repaired offline, the report names exactly the lost record ids,
// and the restarted server serves every other acknowledged entry.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "wal/v1/wal.grpc.pb.h"
#include "wald_process.h"

namespace wal::testing {
namespace {

CommandResult Repair(const WaldProcess& wald, const std::string& name) {
  return RunCommand({WALD_BINARY, "--repair", "--data-dir", wald.data_dir(), "--namespace", name});
}

TEST(RepairTest, WaldRepairCutsOutMidLogDamageAndTheNamespaceServesAgain) {
  TempDir dir;
  WaldProcess wald(dir.path());
  wald.WriteNamespaceFile("orders", "name: orders\nbackend:\n  type: local\n  local: {segment_bytes: 4096}\n");
  wald.Start();
  std::map<uint64_t, std::string> acknowledged;
  auto stub = v1::WriteAheadLog::NewStub(wald.Channel());
  for (int i = 0; i < 60; ++i) {
    std::string payload = "order-" + std::to_string(i) + "-" + std::string(150, static_cast<char>('a' + i % 26));
    v1::WriteToLogRequest request;
    request.set_namespace_("orders");
    request.mutable_payload()->set_opaque(payload);
    v1::WriteToLogResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    ASSERT_TRUE(stub->WriteToLog(&context, request, &response).ok());
    ASSERT_EQ(response.durable(), v1::TRUE);
    acknowledged[response.id()] = payload;
  }
  ASSERT_EQ(wald.Stop(), 0);

  // Damage one byte in the middle of the oldest segment: acknowledged entries
  // follow it, so this is corruption, not a torn tail.
  const std::string log_dir = wald.data_dir() + "/namespaces/orders/log";
  std::vector<std::string> segments;
  for (const auto& entry : std::filesystem::directory_iterator(log_dir)) {
    if (entry.path().extension() == ".seg") segments.push_back(entry.path().string());
  }
  std::sort(segments.begin(), segments.end());
  ASSERT_GE(segments.size(), 2u);
  {
    std::fstream file(segments.front(), std::ios::in | std::ios::out | std::ios::binary);
    file.seekg(0, std::ios::end);
    const std::streamoff middle = file.tellg() / 2;
    file.seekg(middle);
    char byte = 0;
    file.read(&byte, 1);
    byte = static_cast<char>(byte ^ 0x5A);
    file.seekp(middle);
    file.write(&byte, 1);
  }

  CommandResult repaired = Repair(wald, "orders");
  std::cout << repaired.output;
  ASSERT_EQ(repaired.exit_code, 0) << repaired.output;
  EXPECT_NE(repaired.output.find("namespaces/orders/log"), std::string::npos) << repaired.output;
  std::smatch match;
  ASSERT_TRUE(std::regex_search(repaired.output, match, std::regex(R"(record ids (\d+)\.\.(\d+) lost)")))
      << repaired.output;
  const uint64_t first_lost = std::stoull(match[1]);
  const uint64_t last_lost = std::stoull(match[2]);
  EXPECT_EQ(last_lost, first_lost) << "one damaged byte loses one record:\n" << repaired.output;
  EXPECT_NE(repaired.output.find("1 repaired, 1 record ids lost"), std::string::npos) << repaired.output;
  CommandResult again = Repair(wald, "orders");
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("0 repaired, 0 record ids lost"), std::string::npos) << again.output;
  EXPECT_NE(again.output.find("log is healthy"), std::string::npos) << again.output;
  EXPECT_EQ(Repair(wald, "missing").exit_code, 1);

  // The server opens the namespace again and serves everything but the lost id.
  wald.Start();
  auto read = wald.Walctl({"log", "read", "orders", "--from", "0", "--limit", "0"});
  ASSERT_EQ(read.exit_code, 0) << read.output.substr(0, 2000);
  // Nothing is delivered (no target), so every entry keeps its id; the log's
  // checksums vouch for the contents of what is read back.
  std::set<uint64_t> stored;
  std::istringstream lines(read.output);
  std::string line;
  while (std::getline(lines, line)) {
    auto entry = nlohmann::json::parse(line);
    stored.insert(std::stoull(entry["id"].get<std::string>()));
    EXPECT_FALSE(entry["record"]["payload"]["opaque"].get<std::string>().empty());
  }
  for (const auto& [id, payload] : acknowledged) {
    if (id >= first_lost && id <= last_lost) {
      EXPECT_FALSE(stored.count(id)) << "id " << id << " was reported lost but is still there";
    } else {
      EXPECT_TRUE(stored.count(id)) << "acknowledged entry " << id << " (" << payload.substr(0, 12)
                                    << ") did not survive the repair";
    }
  }
  EXPECT_EQ(stored.size(), acknowledged.size() - 1);
  wald.Kill();
}

}  // namespace
}  // namespace wal::testing
