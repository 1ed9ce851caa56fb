// The seam between the delivery engine and the stores it writes to.
//
// A Target applies one mutation (put/delete) or delivers one opaque payload.
// Targets know nothing about retries, delays or DLQs: they classify each failure
// as retryable (try again later: network errors, timeouts, 5xx, throttling) or
// permanent (the same input will never succeed: bad request, value too large),
// and the engine decides what happens next.
//
// Idempotency: at-least-once delivery means a target sees duplicates, so puts
// and deletes must be idempotent (a repeated put stores the same value; deleting
// a missing key succeeds).
//
// Adding a target means adding a folder under src/target/ (its settings
// struct, module_config.h's shape, plus the Target; docs/adding-a-module.md)
// and one registration line in src/modules/builtin_modules.cc. Neither config/
// nor the engine changes: the engine gets targets through a TargetFactory.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "config/module_catalog.h"
#include "config/namespace_config.h"
#include "wal/v1/wal.pb.h"

namespace wal::target {

enum class ApplyOutcome { kOk, kRetryable, kPermanent };

struct ApplyResult {
  ApplyOutcome outcome = ApplyOutcome::kOk;
  std::string reason;  // why, when not kOk; safe to log (no secrets)

  static ApplyResult Ok() { return {}; }
  static ApplyResult Retryable(std::string reason) { return {ApplyOutcome::kRetryable, std::move(reason)}; }
  static ApplyResult Permanent(std::string reason) { return {ApplyOutcome::kPermanent, std::move(reason)}; }
  bool ok() const { return outcome == ApplyOutcome::kOk; }
};

// Facts about the entry being delivered, for targets that forward them
// (HTTP headers, Kafka headers) or need a stable identity (opaque payloads).
struct DeliveryContext {
  std::string namespace_name;
  uint64_t entry_id = 0;
  uint32_t attempt = 0;        // 1 for the first delivery
  std::string idempotency_key;
  std::string origin_region;   // the region whose producer accepted the write (may be empty)
  // The entry's write time (lifecycle.write_time, else when it was accepted)
  // in microseconds since the epoch; 0 when unknown. The same on every
  // attempt, so stores that order writes by timestamp can use it.
  int64_t write_time_micros = 0;
};

// Facts about the instance a target runs in.
struct TargetEnvironment {
  std::string local_region;  // this instance's region (server config `region`); may be empty
  // The server's data directory. A relative file path in a target's settings
  // (the SQLite target's `path`) is taken relative to it, so a namespace file
  // means the same whatever directory wald was started from. Empty: the
  // process's working directory.
  std::string data_dir;
};

class Target {
 public:
  Target() = default;
  Target(const Target&) = delete;
  Target& operator=(const Target&) = delete;
  virtual ~Target() = default;

  // Applies one PUT or DELETE. Thread-safe: the engine calls it from several
  // consumer workers at once (implementations pool or serialise connections).
  // Blocks for at most the target's configured timeout.
  virtual ApplyResult ApplyMutation(const v1::Mutation& mutation, const DeliveryContext& context) = 0;

  // Delivers opaque bytes. Targets with no meaning for opaque bytes return
  // kPermanent with a reason. Thread-safe, bounded like ApplyMutation.
  virtual ApplyResult DeliverOpaque(std::string_view payload, const DeliveryContext& context) = 0;

  // Checks, before a write is accepted, that this target can ever take the
  // payload (e.g. memcached's item size limit, a key the store cannot hold).
  // Returns kInvalidArgument with a message naming the field; never does I/O.
  virtual Status ValidatePayload(const v1::Payload& payload) const = 0;

  // A quick reachability check (connect, ping). Used at config time, where a
  // failure is a warning, not a refusal: entries wait until the target is back.
  virtual Status Probe() = 0;
};

// Builds the target `config` names from its (validated) settings. Fails with
// kInvalidArgument naming the setting when the settings cannot work here (a
// replication target without this instance's region); never fails because
// the target is unreachable (connections are made lazily).
using CreateTargetFunction =
    std::function<Result<std::unique_ptr<Target>>(const config::TargetConfig& config, const TargetEnvironment& environment)>;

// One target type: how its settings are read (the schema's type is the
// `target.type` users write) and how it is built.
struct TargetModule {
  config::ModuleSchema schema;
  CreateTargetFunction create;
  // It applies to this instance's region only, so each region consumes the
  // whole log itself (queue::BackendContext::regional_delivery).
  bool regional_delivery = false;
};

// A target module for the settings struct `Settings` (module_config.h);
// `create` gets the settings, already validated.
template <typename Settings, typename Create>
TargetModule TargetModuleOf(Create create, bool regional_delivery = false) {
  TargetModule module;
  module.schema = config::SchemaFor<Settings>();
  module.create = [create = std::move(create)](const config::TargetConfig& config,
                                               const TargetEnvironment& environment) -> Result<std::unique_ptr<Target>> {
    const Settings* settings = config.settings.As<Settings>();
    if (settings == nullptr) {
      return InvalidArgument("target: a '" + std::string(config.type()) + "' target is not a '" +
                             std::string(Settings::kType) + "' target");
    }
    auto created = create(*settings, environment);
    if (!created.ok()) return created.status();
    return std::unique_ptr<Target>(std::move(created).value());
  };
  module.regional_delivery = regional_delivery;
  return module;
}

// Where the engine gets targets (src/modules/ registers every target of the
// build; tests may hand in fakes). Thread-safe; outlives what it builds.
class TargetFactory {
 public:
  TargetFactory() = default;
  TargetFactory(const TargetFactory&) = delete;
  TargetFactory& operator=(const TargetFactory&) = delete;
  virtual ~TargetFactory() = default;

  // Builds the target `config` names; kInvalidArgument for type "none" or a
  // type this build does not have.
  virtual Result<std::unique_ptr<Target>> Create(const config::TargetConfig& config,
                                                 const TargetEnvironment& environment) const = 0;
  // TargetModule::regional_delivery of the type `type` (false when unknown).
  virtual bool RegionalDelivery(std::string_view type) const = 0;
};

}  // namespace wal::target
