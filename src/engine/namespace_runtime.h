// Everything one namespace needs at run time: its current policy (config and
// target), its queue backend, its idempotency table and its delivery workers.
//
// The policy can be swapped while writes and deliveries run (admin apply); the
// backend stays for the runtime's whole life. Thread-safe.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config/config.h"
#include "engine/idempotency.h"
#include "queue/queue.h"
#include "target/target.h"
#include "wal/v1/record.pb.h"

namespace wal::engine {

struct DeliveryCounters {
  std::atomic<uint64_t> delivered{0};
  std::atomic<uint64_t> retried{0};
  std::atomic<uint64_t> dead_lettered{0};
  std::atomic<uint64_t> failed_applies{0};
};

// Builds the TargetConfig a per-request override describes, validated with the
// namespace schema's own rules (so overrides and namespace files fail alike).
Result<config::TargetConfig> TargetConfigFromOverride(const config::NamespaceConfig& namespace_config,
                                                      const v1::Target& target);

class NamespaceRuntime {
 public:
  struct Policy {
    std::shared_ptr<const config::NamespaceConfig> config;
    std::shared_ptr<target::Target> target;  // null when the target could not be built
    Status target_error;                      // why, when target is null
  };

  NamespaceRuntime(const config::NamespaceConfig& config, std::unique_ptr<queue::Backend> backend);
  ~NamespaceRuntime();  // stops the workers; the backend is closed by Close()

  const std::string& name() const { return name_; }
  queue::Backend& backend() { return *backend_; }
  IdempotencyTable& idempotency() { return idempotency_; }
  DeliveryCounters& counters() { return counters_; }

  Policy policy() const;
  // Replaces config and target (builds the target; a target that cannot be built
  // is recorded, and deliveries wait, retrying, until a working one is applied).
  void SetPolicy(const config::NamespaceConfig& config);

  // The target for a record: its override when it has one (cached), else the
  // namespace's. Fails when neither can be built.
  Result<std::shared_ptr<target::Target>> TargetFor(const v1::LogRecord& record);

  // Starts `concurrency` consumer workers (idempotent: a second call is ignored).
  void StartDelivery();
  // Stops and joins the workers; entries they hold stay pending (at-least-once).
  void StopDelivery();
  Status Close();

 private:
  void WorkerLoop();
  void ProcessBatch(std::vector<queue::Delivery>& deliveries);

  const std::string name_;
  std::shared_ptr<queue::Backend> backend_;
  IdempotencyTable idempotency_;
  DeliveryCounters counters_;

  mutable std::mutex policy_mutex_;
  Policy policy_;
  std::map<std::string, std::shared_ptr<target::Target>> override_targets_;  // by serialized override

  std::mutex workers_mutex_;
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> workers_;
};

}  // namespace wal::engine
