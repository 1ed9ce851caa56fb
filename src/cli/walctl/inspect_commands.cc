#include "cli/walctl/inspect_commands.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <set>
#include <thread>

#include "cli/walctl/output.h"
#include "config/config.h"
#include "server/shard_map.h"
#include "wal/v1/admin.grpc.pb.h"

namespace walctl {

void InspectCommands::Add(CLI::App& root) {
  status_ = root.add_subcommand("status", "Per namespace: log end, and pending entries as due, delayed and in flight");
  status_->add_option("namespace", namespace_, "Only this namespace");

  log_ = root.add_subcommand("log", "Inspect a namespace's log");
  log_->require_subcommand(1);
  log_read_ = log_->add_subcommand("read", "Print entries as JSON lines");
  log_read_->add_option("namespace", namespace_, "Namespace whose log to read")->required();
  log_read_->add_option("--from", from_, "First entry id")->capture_default_str();
  log_read_->add_option("--limit", limit_, "Entries to print (all remaining if 0)")->capture_default_str();
  log_read_->add_flag("-f,--follow", follow_, "At the end of the log, wait for new entries and print them too");
  log_tail_ = log_->add_subcommand("tail", "Print the last entries, then new ones as they are written (tail -f)");
  log_tail_->add_option("namespace", namespace_, "Namespace whose log to follow")->required();
  log_tail_->add_option("-n,--lines", tail_lines_, "How many of the newest entries to print first")
      ->capture_default_str();
  log_read_->add_option("--entry", entry_,
                        "Only the records of this entry (the id its write was answered with): the first, "
                        "then one per retry, deferral or redrive, each with its state");
  for (CLI::App* reader : {log_read_, log_tail_}) {
    reader->add_flag("--decode", decode_,
                     "Print payload bytes (opaque, key, value) as text, or as JSON when they hold JSON, "
                     "instead of base64; bytes that are not UTF-8 stay base64");
    reader->add_option("--state", states_,
                       "Only records in these states (comma-separated): delayed (not yet due), due (waiting for "
                       "a consumer), in-flight, delivered, dead (dead-lettered), superseded (stored again by a "
                       "retry, deferral or copy-forward), done (retired, however it ended); the dead letters "
                       "themselves are `walctl dlq show`")
        ->delimiter(',')
        ->check(CLI::IsMember({"delayed", "due", "in-flight", "delivered", "dead", "superseded", "done"}));
  }

  dlq_ = root.add_subcommand("dlq", "Inspect and manage a namespace's dead-letter queue");
  dlq_->require_subcommand(1);
  dlq_list_ = dlq_->add_subcommand("list", "One line per dead letter: id, attempts, last error");
  dlq_show_ = dlq_->add_subcommand("show", "Print dead letters in full, as JSON lines");
  for (CLI::App* listing : {dlq_list_, dlq_show_}) {
    listing->add_option("namespace", namespace_, "Namespace whose dead letters to list")->required();
    listing->add_option("--from", from_, "First dead-letter id")->capture_default_str();
    listing->add_option("--limit", limit_, "Dead letters to print (at most 10000; 0: as many)")->capture_default_str();
  }
  dlq_show_->add_option("ids", ids_, "Only these ids");
  dlq_redrive_ = dlq_->add_subcommand("redrive", "Put dead letters back on the queue, attempts reset");
  dlq_purge_ = dlq_->add_subcommand("purge", "Drop dead letters for good");
  for (CLI::App* action : {dlq_redrive_, dlq_purge_}) {
    action->add_option("namespace", namespace_, "Namespace whose dead letters to act on")->required();
    action->add_option("ids", ids_, "Ids to act on");
    action->add_flag("--all", all_, "Act on every dead letter");
  }
  dlq_redrive_->add_option("--to", to_namespace_,
                           "Move them into this namespace instead (a new entry each there, removed from this DLQ "
                           "once stored; mutation sets cannot move)");

  shards_ = root.add_subcommand("shards", "Show or replace the shard map");
  shards_->require_subcommand(1);
  shards_->add_subcommand("get", "Print the shard map in force on --server and where it comes from");
  shards_apply_ = shards_->add_subcommand("apply", "Store a new shard map in the config store (every instance takes it)");
  shards_apply_->add_option("file", shard_map_file_, "Shard map YAML/JSON file")->required();
}

bool InspectCommands::parsed() const {
  return status_->parsed() || log_->parsed() || dlq_->parsed() || shards_->parsed();
}

std::string InspectCommands::RoutedNamespace() const { return shards_->parsed() ? "" : namespace_; }

int InspectCommands::Run(const Options& options, const std::shared_ptr<grpc::Channel>& channel) {
  if (status_->parsed()) return Status(options, channel);
  if (log_->parsed()) return ReadLog(options, channel);
  if (dlq_list_->parsed() || dlq_show_->parsed()) return ListDeadLetters(options, channel);
  if (dlq_->parsed()) return ActOnDeadLetters(options, channel);
  return Shards(options, channel);
}

int InspectCommands::Status(const Options& options, const std::shared_ptr<grpc::Channel>& channel) {
  wal::v1::GetStatusRequest request;
  request.set_namespace_(namespace_);
  wal::v1::GetStatusResponse response;
  grpc::Status rpc = wal::v1::Admin::NewStub(channel)->GetStatus(NewContext(options).get(), request, &response);
  if (!rpc.ok()) return ReportRpcFailure(options, rpc, channel.get());
  if (options.format != OutputFormat::kTable) {
    Emit(options, MessageTree(response));
    return kExitOk;
  }
  // PENDING = DUE + DELAYED + IN_FLIGHT: entries not yet retired, by where they
  // stand. LOG_END is the next log position; positions also go to retries and
  // the log's own records, so it is not a count of entries (docs/api.md).
  std::printf("%-28s %-7s %10s %10s %10s %10s %9s %6s %s\n", "NAMESPACE", "BACKEND", "LOG_END", "PENDING", "DUE",
              "DELAYED", "IN_FLIGHT", "DLQ", "STATE");
  auto number = [](uint64_t value) { return static_cast<unsigned long long>(value); };
  for (const auto& item : response.namespaces()) {
    const uint64_t waiting = item.pending_delayed() + item.in_flight();
    const uint64_t due = item.pending() > waiting ? item.pending() - waiting : 0;
    std::printf("%-28s %-7s %10llu %10llu %10llu %10llu %9llu %6llu %s\n", item.name().c_str(), item.backend().c_str(),
                number(item.log_end()), number(item.pending()), number(due), number(item.pending_delayed()),
                number(item.in_flight()), number(item.dead_letters()),
                !item.error().empty() ? item.error().c_str() : item.delivery_paused() ? "paused" : "serving");
  }
  return kExitOk;
}

// Entries print one a line in the table format (JSON lines, as they always
// have), one document each in yaml.
int InspectCommands::ReadLog(const Options& options, const std::shared_ptr<grpc::Channel>& channel) {
  auto admin = wal::v1::Admin::NewStub(channel);
  const bool follow = follow_ || log_tail_->parsed();
  // Every record of an entry is at or after the entry's id.
  uint64_t next = std::max(from_, entry_.value_or(0));
  if (log_tail_->parsed()) {
    // The newest entries: the status's log end, back by --lines.
    wal::v1::GetStatusRequest status_request;
    status_request.set_namespace_(namespace_);
    wal::v1::GetStatusResponse status;
    grpc::Status rpc = admin->GetStatus(NewContext(options).get(), status_request, &status);
    if (!rpc.ok()) return ReportRpcFailure(options, rpc, channel.get());
    const uint64_t end = status.namespaces().empty() ? 0 : status.namespaces(0).log_end();
    next = end > tail_lines_ ? end - tail_lines_ : 0;
  }
  // Pages through the log so `--limit 0` can dump everything; following, the
  // limit does not apply.
  const uint64_t limit = follow ? 0 : limit_;
  uint64_t remaining = limit;
  while (limit == 0 || remaining > 0) {
    wal::v1::ReadLogRequest request;
    request.set_namespace_(namespace_);
    request.set_from_id(next);
    request.set_limit(static_cast<uint32_t>(limit == 0 ? 1000 : std::min<uint64_t>(remaining, 1000)));
    wal::v1::ReadLogResponse response;
    grpc::Status rpc = admin->ReadLog(NewContext(options).get(), request, &response);
    if (!rpc.ok()) return ReportRpcFailure(options, rpc, channel.get());
    uint64_t printed = 0;
    for (const auto& entry : response.entries()) {
      if (!Wanted(entry)) continue;
      if (limit != 0 && printed >= remaining) break;
      Tree tree = MessageTree(entry);
      if (decode_) DecodePayloadBytes(tree);
      Emit(options, tree);
      ++printed;
    }
    std::cout.flush();  // a follower reads line by line, often through a pipe
    if (response.entries().empty()) {
      if (!follow) break;
      // At the end: poll, as `tail -f` does; interrupting walctl ends it.
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
      continue;
    }
    next = response.next_id();
    if (limit != 0) remaining -= std::min<uint64_t>(remaining, printed);
  }
  return kExitOk;
}

bool InspectCommands::Wanted(const wal::v1::LogRecordView& entry) const {
  if (entry_ && entry.entry_id() != *entry_) return false;
  if (states_.empty()) return true;
  using View = wal::v1::LogRecordView;
  std::string state = View::State_Name(entry.state());
  for (char& c : state) c = c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (std::find(states_.begin(), states_.end(), state) != states_.end()) return true;
  // "done" is every retirement, however it ended.
  const bool retired = entry.state() == View::DONE || entry.state() == View::DELIVERED ||
                       entry.state() == View::DEAD || entry.state() == View::SUPERSEDED;
  return retired && std::find(states_.begin(), states_.end(), "done") != states_.end();
}

int InspectCommands::ListDeadLetters(const Options& options, const std::shared_ptr<grpc::Channel>& channel) {
  wal::v1::ListDeadLettersRequest request;
  request.set_namespace_(namespace_);
  request.set_from_id(from_);
  request.set_limit(static_cast<uint32_t>(std::min<uint64_t>(limit_ == 0 ? 10000 : limit_, 10000)));
  wal::v1::ListDeadLettersResponse response;
  grpc::Status rpc = wal::v1::Admin::NewStub(channel)->ListDeadLetters(NewContext(options).get(), request, &response);
  if (!rpc.ok()) return ReportRpcFailure(options, rpc, channel.get());
  const std::set<uint64_t> wanted(ids_.begin(), ids_.end());
  for (const auto& entry : response.entries()) {
    if (!wanted.empty() && wanted.count(entry.id()) == 0) continue;
    if (dlq_show_->parsed() || options.format != OutputFormat::kTable) {
      Emit(options, MessageTree(entry));
      continue;
    }
    const auto& fields = entry.record().fields();
    const auto attempts = fields.count("attempt") ? fields.at("attempt").number_value() : 0;
    std::string last_error;
    if (fields.count("errors") && fields.at("errors").list_value().values_size() > 0) {
      const auto& errors = fields.at("errors").list_value().values();
      last_error = errors[errors.size() - 1].string_value();
    }
    std::cout << entry.id() << "\tattempts=" << attempts << "\t" << last_error << "\n";
  }
  return kExitOk;
}

int InspectCommands::ActOnDeadLetters(const Options& options, const std::shared_ptr<grpc::Channel>& channel) {
  if (ids_.empty() && !all_) return ReportLocalFailure(options, "name the ids to act on, or pass --all");
  if (!ids_.empty() && all_) return ReportLocalFailure(options, "pass ids or --all, not both");
  auto admin = wal::v1::Admin::NewStub(channel);
  uint64_t count = 0;
  grpc::Status rpc;
  const bool redrive = dlq_redrive_->parsed();
  if (redrive) {
    wal::v1::RedriveDeadLettersRequest request;
    request.set_namespace_(namespace_);
    for (uint64_t id : ids_) request.add_ids(id);
    request.set_to_namespace(to_namespace_);
    wal::v1::RedriveDeadLettersResponse response;
    rpc = admin->RedriveDeadLetters(NewContext(options).get(), request, &response);
    count = response.redriven();
  } else {
    wal::v1::PurgeDeadLettersRequest request;
    request.set_namespace_(namespace_);
    for (uint64_t id : ids_) request.add_ids(id);
    request.set_all(all_);
    wal::v1::PurgeDeadLettersResponse response;
    rpc = admin->PurgeDeadLetters(NewContext(options).get(), request, &response);
    count = response.purged();
  }
  if (!rpc.ok()) return ReportRpcFailure(options, rpc, channel.get());
  const char* verb = redrive ? "redriven" : "purged";
  if (options.format != OutputFormat::kTable) Emit(options, Tree{{verb, count}});
  else if (redrive && !to_namespace_.empty()) std::cout << "moved " << count << " dead letters to " << to_namespace_ << "\n";
  else std::cout << verb << " " << count << " dead letters\n";
  return kExitOk;
}

int InspectCommands::Shards(const Options& options, const std::shared_ptr<grpc::Channel>& channel) {
  auto admin = wal::v1::Admin::NewStub(channel);
  wal::v1::ShardMapResponse response;
  grpc::Status rpc;
  if (shards_apply_->parsed()) {
    std::ifstream stream(shard_map_file_, std::ios::binary);
    if (!stream) return ReportLocalFailure(options, "cannot read shard map file " + shard_map_file_);
    const std::string text(std::istreambuf_iterator<char>(stream), {});
    // Checked here too, so a typo is reported before anything is sent.
    auto format = wal::config::FormatFromPath(shard_map_file_);
    auto parsed =
        wal::server::ShardMap::Parse(text, format.ok() ? *format : wal::config::Format::kYaml, shard_map_file_);
    if (!parsed.ok()) return ReportLocalFailure(options, parsed.status().message());
    wal::v1::ApplyShardMapRequest request;
    request.set_map(text);
    rpc = admin->ApplyShardMap(NewContext(options).get(), request, &response);
  } else {
    rpc = admin->GetShardMap(NewContext(options).get(), {}, &response);
  }
  if (!rpc.ok()) return ReportRpcFailure(options, rpc, channel.get());
  if (options.format != OutputFormat::kTable) {
    Emit(options, MessageTree(response));
    return kExitOk;
  }
  std::cout << "# source: " << response.source() << (response.shard().empty() ? "" : ", this shard: ")
            << response.shard() << "\n"
            << response.map();
  if (!response.map().empty() && response.map().back() != '\n') std::cout << "\n";
  return kExitOk;
}

}  // namespace walctl
