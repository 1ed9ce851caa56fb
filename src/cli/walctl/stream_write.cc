#include "cli/walctl/stream_write.h"

#include <atomic>
#include <chrono>
#include <iostream>
#include <thread>

namespace walctl {

namespace {

void PrintProgress(uint64_t sent, uint64_t answered, std::chrono::steady_clock::time_point started, bool last) {
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const double rate = seconds > 0 ? static_cast<double>(answered) / seconds : 0;
  std::cerr << "\r" << answered << " answered of " << sent << " sent, " << static_cast<uint64_t>(rate) << "/s"
            << (last ? "\n" : "") << std::flush;
}

}  // namespace

grpc::Status StreamLines(wal::v1::WriteAheadLog::Stub& stub, grpc::ClientContext& context, std::istream& input,
                         const std::function<wal::v1::WriteToLogRequest(const std::string& line)>& make,
                         bool progress, StreamTally* tally) {
  auto stream = stub.WriteToLogStream(&context);
  std::atomic<uint64_t> sent{0};
  // The sequence of a write is its line number, so an answer names its line.
  std::thread writer([&] {
    std::string line;
    uint64_t line_number = 0;
    while (std::getline(input, line)) {
      ++line_number;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) continue;
      wal::v1::WriteToLogStreamRequest request;
      request.set_sequence(line_number);
      *request.mutable_write() = make(line);
      if (!stream->Write(request)) break;  // the call ended; Finish says why
      sent.fetch_add(1, std::memory_order_relaxed);
    }
    stream->WritesDone();
  });
  const auto started = std::chrono::steady_clock::now();
  auto last_print = started;
  uint64_t answered = 0;
  wal::v1::WriteToLogStreamResponse response;
  while (stream->Read(&response)) {
    ++answered;
    const auto& result = response.result();
    if (result.has_refused()) {
      ++tally->refused;
      std::cerr << "line " << response.sequence() << ": refused: " << result.refused().message() << "\n";
    } else if (result.written().durable() == wal::v1::TRUE) {
      ++tally->durable_true;
    } else {
      (result.written().durable() == wal::v1::FALSE ? tally->durable_false : tally->durable_unknown)++;
      std::cerr << "line " << response.sequence() << ": durable=" << wal::v1::Durable_Name(result.written().durable())
                << ": " << result.written().message() << "\n";
    }
    if (progress && std::chrono::steady_clock::now() - last_print > std::chrono::milliseconds(200)) {
      last_print = std::chrono::steady_clock::now();
      PrintProgress(sent.load(std::memory_order_relaxed), answered, started, false);
    }
  }
  writer.join();
  tally->sent = sent.load();
  if (progress) PrintProgress(tally->sent, answered, started, true);
  return stream->Finish();
}

}  // namespace walctl
