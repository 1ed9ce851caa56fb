// Crash test: kill -9 wald during a concurrent write load, restart, and check
// that every write answered durable=TRUE is present and intact, read back
// through `walctl log read`. Repeated for many rounds.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "wal/v1/wal.grpc.pb.h"
#include "wald_process.h"

namespace wal::testing {
namespace {

std::string Base64Decode(const std::string& text) {
  static const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=') break;
    auto position = kAlphabet.find(c);
    if (position == std::string::npos) continue;
    buffer = (buffer << 6) | static_cast<uint32_t>(position);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  return out;
}

int EnvInt(const char* name, int fallback) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::atoi(value) : fallback;
}

TEST(CrashTest, KillNineNeverLosesAnAcknowledgedWrite) {
  const int rounds = EnvInt("WAL_CRASH_ROUNDS", 25);
  const int writers = 16;
  TempDir dir;
  WaldProcess wald(dir.path());
  wald.WriteNamespaceFile("crash", "name: crash\nbackend:\n  type: local\n  local: {segment_bytes: 262144}\n");

  std::map<uint64_t, std::string> acknowledged;  // id -> payload answered TRUE
  std::mt19937_64 random(20261127);
  uint64_t unknown_answers = 0;

  for (int round = 0; round < rounds; ++round) {
    wald.Start();
    std::atomic<bool> stop{false};
    std::mutex mutex;
    std::vector<std::thread> threads;
    for (int writer = 0; writer < writers; ++writer) {
      threads.emplace_back([&, writer] {
        auto stub = v1::WriteAheadLog::NewStub(wald.Channel());
        std::mt19937 local_random(static_cast<uint32_t>(round * 1000 + writer));
        for (int sequence = 0; !stop.load(); ++sequence) {
          std::string payload = "round" + std::to_string(round) + "-writer" + std::to_string(writer) + "-seq" +
                                std::to_string(sequence) + "-";
          payload.append(local_random() % 400, static_cast<char>('a' + local_random() % 26));
          v1::WriteToLogRequest request;
          request.set_namespace_("crash");
          request.mutable_payload()->set_opaque(payload);
          v1::WriteToLogResponse response;
          grpc::ClientContext context;
          context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
          grpc::Status status = stub->WriteToLog(&context, request, &response);
          if (!status.ok()) break;  // the server is gone: outcome unknown, not counted
          std::lock_guard lock(mutex);
          if (response.durable() == v1::TRUE) {
            ASSERT_EQ(acknowledged.count(response.id()), 0u) << "id " << response.id() << " answered TRUE twice";
            acknowledged[response.id()] = payload;
          } else if (response.durable() == v1::UNKNOWN) {
            ++unknown_answers;
          }
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(150 + random() % 500));
    wald.Kill();
    stop = true;
    for (auto& thread : threads) thread.join();

    // Restart and read everything back.
    wald.Start();
    auto read = wald.Walctl({"log", "read", "crash", "--from", "0", "--limit", "0"});
    ASSERT_EQ(read.exit_code, 0) << read.output.substr(0, 2000);
    // Entries are matched by content: the embedded log may copy a long-pending
    // entry forward to a new id (so old segments can be reclaimed), and a copy
    // is the same entry.
    std::set<std::string> stored;
    std::istringstream lines(read.output);
    std::string line;
    while (std::getline(lines, line)) {
      auto entry = nlohmann::json::parse(line);
      stored.insert(Base64Decode(entry["record"]["payload"]["opaque"].get<std::string>()));
    }
    for (const auto& [id, payload] : acknowledged) {
      ASSERT_TRUE(stored.count(payload)) << "round " << round << ": acknowledged entry " << id << " ("
                                         << payload.substr(0, 40) << ") is missing or changed";
    }
    wald.Kill();
    std::cout << "round " << round << ": " << acknowledged.size() << " acknowledged writes so far, all present ("
              << stored.size() << " stored)\n";
  }
  EXPECT_GT(acknowledged.size(), static_cast<size_t>(rounds) * 50) << "the load was too light to mean anything";
  std::cout << "UNKNOWN answers seen: " << unknown_answers << "\n";
}

}  // namespace
}  // namespace wal::testing
