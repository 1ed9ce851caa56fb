#include "cli/walctl/write_command.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <fstream>
#include <iostream>
#include <iterator>

#include <unistd.h>

#include "cli/walctl/output.h"
#include "cli/walctl/stream_write.h"
#include "wal/v1/wal.grpc.pb.h"

namespace walctl {
namespace {

using google::protobuf::util::TimeUtil;

// `write --each-line`: no deadline, since a stream of many writes (or a slow
// pipe) may legitimately run for long; interrupt it to stop.
int WriteEachLine(const Options& options, const std::shared_ptr<grpc::Channel>& channel,
                  const wal::v1::WriteToLogRequest& base, const std::string& source, bool progress) {
  std::ifstream file;
  if (source != "-") {
    file.open(source, std::ios::binary);
    if (!file) return ReportLocalFailure(options, "--each-line: cannot read " + source);
  }
  std::istream& input = source == "-" ? std::cin : file;
  auto context = NewContext(options, /*deadline=*/false);
  auto stub = wal::v1::WriteAheadLog::NewStub(channel);
  StreamTally tally;
  grpc::Status rpc = StreamLines(
      *stub, *context, input,
      [&base](const std::string& line) {
        wal::v1::WriteToLogRequest request = base;
        request.mutable_payload()->set_opaque(line);
        return request;
      },
      progress || isatty(STDERR_FILENO), &tally);
  if (!rpc.ok()) return ReportRpcFailure(options, rpc, channel.get());
  if (options.format == OutputFormat::kTable) {
    std::cout << "sent=" << tally.sent << " true=" << tally.durable_true << " false=" << tally.durable_false
              << " unknown=" << tally.durable_unknown << " refused=" << tally.refused << "\n";
  } else {
    Emit(options, Tree{{"sent", tally.sent},
                       {"true", tally.durable_true},
                       {"false", tally.durable_false},
                       {"unknown", tally.durable_unknown},
                       {"refused", tally.refused}});
  }
  if (tally.refused > 0) return kExitRefused;
  return tally.all_true() ? kExitOk : kExitNotDurable;
}

}  // namespace

void WriteCommand::Add(CLI::App& root) {
  command_ = root.add_subcommand("write", "Write one entry to a namespace's log");
  command_->add_option("namespace", namespace_, "Namespace to write to")->required();
  command_->add_option("payload", payload_, "Payload text, or - to read it from stdin");
  command_->add_option("--file", file_, "Read the payload from this file instead");
  command_->add_option("--delay", delay_, "Delay before delivery, e.g. 500ms, 30s, 1m30s, 2h, 7d");
  command_->add_option("--op", op_, "Send a mutation instead of opaque bytes: put (the payload is the value) or delete")
      ->check(CLI::IsMember({"put", "delete"}));
  command_->add_option("--key", key_, "Mutation key (with --op)");
  command_->add_option("--table", table_, "Mutation table (with --op)");
  command_->add_option("--partition", partition_, "Mutation partition key (with --op)");
  command_->add_option("--ttl", ttl_, "Mutation TTL, e.g. 1h (with --op)");
  command_->add_option("--target", target_,
                       R"(Target override as JSON, e.g. '{"type":"http","url":"http://127.0.0.1:8080/"}')");
  command_->add_option("--idempotency-key", idempotency_key_, "Idempotency key: a retry with the same key is one write");
  command_->add_option("--each-line", each_line_,
                       "Write one entry per line of this file (- for stdin), over one stream; each line is a payload");
  command_->add_flag("--progress", progress_,
                     "With --each-line: show progress on stderr (default when it is a terminal)");
}

int WriteCommand::Run(const Options& options, const std::shared_ptr<grpc::Channel>& channel) {
  const bool has_argument = command_->count("payload") > 0;
  const bool has_file = command_->count("--file") > 0;
  if (has_argument && has_file) {
    return ReportLocalFailure(options, "give the payload as an argument or with --file, not both");
  }
  if (op_.empty() && !(key_.empty() && table_.empty() && partition_.empty() && ttl_.empty())) {
    return ReportLocalFailure(options, "--key, --table, --partition and --ttl describe a mutation; add --op put|delete");
  }
  wal::v1::WriteToLogRequest request;
  request.set_namespace_(namespace_);
  if (!each_line_.empty()) {
    if (has_argument || has_file) {
      return ReportLocalFailure(options, "--each-line reads the payloads; give no payload argument or --file");
    }
    if (!op_.empty()) return ReportLocalFailure(options, "--each-line writes opaque payloads; --op is not supported");
    if (!idempotency_key_.empty()) {
      return ReportLocalFailure(options, "--idempotency-key names one write; it cannot go with --each-line");
    }
  } else if (op_ == "delete") {
    if (has_argument || has_file) return ReportLocalFailure(options, "--op delete takes no value; drop the payload");
  } else if (!has_argument && !has_file) {
    // Reading a pipe nobody named would surprise; writing an empty entry
    // instead would lose the piped data without a word.
    const std::string what = op_ == "put" ? "--op put needs a value" : "no payload";
    if (!isatty(STDIN_FILENO)) {
      return ReportLocalFailure(options, what + ": stdin is not a terminal; pass - to write what it holds");
    }
    return ReportLocalFailure(options, what + ": give it as an argument, - for stdin, or --file");
  }
  std::string payload;
  if (has_file) {
    std::ifstream stream(file_, std::ios::binary);
    if (!stream) return ReportLocalFailure(options, "--file: cannot read " + file_);
    payload.assign(std::istreambuf_iterator<char>(stream), {});
  } else if (payload_ == "-") {
    payload.assign(std::istreambuf_iterator<char>(std::cin), {});
  } else {
    payload = payload_;
  }
  if (!delay_.empty()) {
    auto delay = ParseFlagDuration("--delay", delay_);
    if (!delay.ok()) return ReportLocalFailure(options, delay.status().message());
    *request.mutable_lifecycle()->mutable_delay() = TimeUtil::MillisecondsToDuration(delay->count());
  }
  *request.mutable_lifecycle()->mutable_write_time() = TimeUtil::GetCurrentTime();
  if (op_.empty()) {
    request.mutable_payload()->set_opaque(payload);
  } else {
    auto* mutation = request.mutable_payload()->mutable_mutation();
    mutation->set_op(op_ == "put" ? wal::v1::Mutation::PUT : wal::v1::Mutation::DELETE);
    mutation->set_key(key_);
    mutation->set_table(table_);
    mutation->set_partition_key(partition_);
    if (op_ == "put") mutation->set_value(payload);
    if (!ttl_.empty()) {
      auto ttl = ParseFlagDuration("--ttl", ttl_);
      if (!ttl.ok()) return ReportLocalFailure(options, ttl.status().message());
      *mutation->mutable_ttl() = TimeUtil::MillisecondsToDuration(ttl->count());
    }
  }
  if (!target_.empty()) {
    // The target's settings are every key beside "type", as in namespace files.
    google::protobuf::Struct document;
    auto parsed = google::protobuf::util::JsonStringToMessage(target_, &document);
    if (!parsed.ok()) return ReportLocalFailure(options, "--target: " + std::string(parsed.message()));
    auto& fields = *document.mutable_fields();
    request.mutable_target()->set_type(fields["type"].string_value());
    fields.erase("type");
    *request.mutable_target()->mutable_settings() = document;
  }
  request.set_idempotency_key(idempotency_key_);
  if (!each_line_.empty()) return WriteEachLine(options, channel, request, each_line_, progress_);
  auto stub = wal::v1::WriteAheadLog::NewStub(channel);
  wal::v1::WriteToLogResponse response;
  grpc::Status rpc = stub->WriteToLog(NewContext(options).get(), request, &response);
  if (!rpc.ok()) return ReportRpcFailure(options, rpc, channel.get());
  if (options.format == OutputFormat::kTable) {
    std::cout << "durable=" << wal::v1::Durable_Name(response.durable()) << " id=" << response.id();
    if (!response.message().empty()) std::cout << " message=" << response.message();
    std::cout << "\n";
  } else {
    Emit(options, MessageTree(response));
  }
  return response.durable() == wal::v1::TRUE ? kExitOk : kExitNotDurable;
}

}  // namespace walctl
