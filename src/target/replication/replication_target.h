// Cross-region replication target (EVCache-style): one memcached cluster per
// region; every mutation is applied to the region(s) this instance serves.
//
// Settings (replication_config.h):
//   regions:            map region -> {servers: [host:port, ...]} (required, non-empty)
//   local_region:       the origin assumed for records that carry none (written
//                       by an instance without a region); one of `regions`
//   skip_local_region:  bool, default false: do not apply a record to the region
//                       it was written in (the writer updated its own cache)
//   timeout, key_prefix, max_item_bytes: as for the memcached target, for every region
//
// Which regions an instance applies to (TargetEnvironment.local_region, i.e.
// wald --region):
//   - a region R: only regions[R] (an R not in `regions` is a settings error).
//     One consumer per region, each in its own Kafka consumer group
//     "<consumer_group>.<R>", so a region that is down lags alone.
//   - no region: every region, one after the other (fan-out from one consumer).
//     The mutation is ok when every region took it; a retry applies it to all
//     of them again (puts and deletes are idempotent).
// A region skipped by skip_local_region counts as done.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "target/memcached/memcached_target.h"
#include "target/replication/replication_config.h"
#include "target/target.h"

namespace wal::target {

class ReplicationTarget final : public Target {
 public:
  struct Region {
    std::string name;
    std::unique_ptr<MemcachedTarget> cache;
  };

  // Builds the regions `environment` applies to. The settings must have passed
  // ReplicationTargetConfig::Validate (decoding does that); this instance's
  // region must be one of them.
  static Result<std::unique_ptr<ReplicationTarget>> Create(const ReplicationTargetConfig& settings,
                                                           const TargetEnvironment& environment);
  // Decodes and validates settings JSON (see the file comment), then Create.
  static Result<std::unique_ptr<ReplicationTarget>> FromSettings(std::string_view settings_json,
                                                                 const TargetEnvironment& environment);
  // The module: type `replication` (alias `evc-replication`), applied per
  // region (regional delivery). Registered in src/modules/.
  static TargetModule Module();

  ApplyResult ApplyMutation(const v1::Mutation& mutation, const DeliveryContext& context) override;
  ApplyResult DeliverOpaque(std::string_view payload, const DeliveryContext& context) override;
  Status ValidatePayload(const v1::Payload& payload) const override;
  Status Probe() override;

  // The regions this instance applies to, in settings order (by name).
  std::vector<std::string> AppliedRegions() const;

 private:
  ReplicationTarget(std::vector<Region> regions, std::string default_origin, bool skip_local_region);

  std::vector<Region> regions_;      // only the ones this instance applies to
  const std::string default_origin_;  // settings local_region
  const bool skip_local_region_;
};

}  // namespace wal::target
