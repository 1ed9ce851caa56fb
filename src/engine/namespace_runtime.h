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

#include "common/histogram.h"
#include "common/time.h"
#include "config/config.h"
#include "config/module_catalog.h"
#include "engine/idempotency.h"
#include "queue/queue.h"
#include "sets/set_manager.h"
#include "target/target.h"
#include "wal/v1/record.pb.h"

namespace wal::engine {

struct DeliveryCounters {
  std::atomic<uint64_t> delivered{0};
  std::atomic<uint64_t> retried{0};
  std::atomic<uint64_t> dead_lettered{0};
  std::atomic<uint64_t> failed_applies{0};
  // The failed applies by class, so an operator can tell a flaky target
  // (retryable) from bad data (permanent) and from a target that cannot even
  // be built (target_unavailable: bad settings, a module missing).
  std::atomic<uint64_t> retryable_errors{0};
  std::atomic<uint64_t> permanent_errors{0};
  std::atomic<uint64_t> target_unavailable_errors{0};
  // Seconds from an entry's due time to its successful delivery: how far the
  // workers are behind. A retried entry counts from the due time of its last
  // attempt, so backoff waits are not mistaken for lag.
  Histogram delivery_lag_seconds{Histogram::LagSeconds()};

  // A failed apply: counted in failed_applies and in its class.
  void CountFailure(const target::ApplyResult& result, bool target_unavailable);
};

// Builds the TargetConfig a per-request override describes, decoded and
// validated like a namespace file's `target` (so overrides and files fail alike).
Result<config::TargetConfig> TargetConfigFromOverride(const v1::Target& target, const config::ModuleCatalog& modules);

class NamespaceRuntime {
 public:
  struct Policy {
    std::shared_ptr<const config::NamespaceConfig> config;
    std::shared_ptr<target::Target> target;  // null when the target could not be built
    Status target_error;                      // why, when target is null
    // The namespace's named targets (config `targets`) a set's mutations may
    // pick, and why any that could not be built is missing.
    std::map<std::string, std::shared_ptr<target::Target>> named_targets;
    std::map<std::string, Status> named_target_errors;
  };

  // `region` is this instance's region (replication targets apply there).
  // Targets are built through `targets`; request overrides are decoded with
  // `modules`; retries are scheduled from `clock`'s now. All three outlive the
  // runtime.
  NamespaceRuntime(const config::NamespaceConfig& config, std::unique_ptr<queue::Backend> backend, target::TargetEnvironment environment,
                   const target::TargetFactory& targets, const config::ModuleCatalog& modules, const Clock& clock);
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

  // Mutation sets (docs/mutation-sets.md; namespace_runtime_sets.cc).
  // The target a set's mutation names: "" is TargetFor(record), else one of
  // the namespace's named targets.
  Result<std::shared_ptr<target::Target>> TargetNamed(const v1::LogRecord& record, const std::string& name);
  // Each mutation of the set checked by the target it names (ValidatePayload).
  Status ValidateSetTargets(const v1::LogRecord& record);
  // Set once, before StartDelivery.
  void AttachMutationSets(std::unique_ptr<sets::SetManager> mutation_sets);
  sets::SetManager* mutation_sets() { return mutation_sets_.get(); }

  // Starts `concurrency` consumer workers (idempotent: a second call is ignored).
  void StartDelivery();
  // Tells the workers to stop without waiting for them (StopDelivery joins).
  void BeginStopDelivery() { stopping_ = true; }
  // Stops and joins the workers; entries they hold stay pending (at-least-once).
  void StopDelivery();
  Status Close();

 private:
  void WorkerLoop();
  void ProcessBatch(std::vector<queue::Delivery>& deliveries);
  // Applies the set a marker names (namespace_runtime_sets.cc).
  sets::SetManager::ApplyReport ApplySetMarker(const v1::LogRecord& record, const target::DeliveryContext& context);

  const std::string name_;
  const target::TargetEnvironment target_environment_;
  const target::TargetFactory& targets_;
  const config::ModuleCatalog& modules_;
  const Clock& clock_;
  std::shared_ptr<queue::Backend> backend_;
  std::unique_ptr<sets::SetManager> mutation_sets_;  // the sets' durable storage and key order
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
