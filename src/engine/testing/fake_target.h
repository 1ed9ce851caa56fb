// FakeTarget: a target::Target over an in-memory key-value map, for engine
// unit tests. Puts store, deletes erase (a missing key is fine: idempotent),
// opaque payloads are kept in arrival order, and every call is counted with
// the DeliveryContext it came with.
//
// Fault switches: the next N calls, or every call, fail with a chosen outcome
// (retryable or permanent) and reason; ValidatePayload and Probe can be made
// to refuse. A failed call changes nothing.
//
// FakeTargetFactory builds targets that all forward to one shared FakeTarget,
// so a test keeps a handle on what the engine builds (the engine rebuilds its
// target on every policy change).
//
// Threading: every method is thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/module_config.h"
#include "config/object_reader.h"
#include "target/target.h"

namespace wal::engine::testing {

class FakeTarget final : public target::Target {
 public:
  FakeTarget() = default;

  // ---- Fault switches ------------------------------------------------------

  // The next `count` applies or deliveries fail with `outcome`; later ones
  // succeed again (unless FailAlways is set).
  void FailNext(int count, target::ApplyOutcome outcome, std::string reason = "injected failure") {
    std::lock_guard lock(mutex_);
    fail_next_ = count;
    fail_outcome_ = outcome;
    fail_reason_ = std::move(reason);
  }
  // Every apply fails with `outcome` until called with kOk.
  void FailAlways(target::ApplyOutcome outcome, std::string reason = "injected failure") {
    std::lock_guard lock(mutex_);
    fail_always_ = outcome;
    fail_reason_ = std::move(reason);
  }
  void RefusePayloads(Status status) {
    std::lock_guard lock(mutex_);
    validate_status_ = std::move(status);
  }
  void SetProbe(Status status) {
    std::lock_guard lock(mutex_);
    probe_status_ = std::move(status);
  }

  // ---- Inspection ----------------------------------------------------------

  struct Call {
    std::string key;  // the mutation's key; "" for opaque deliveries
    target::DeliveryContext context;
    target::ApplyOutcome outcome;
  };
  std::vector<Call> calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  size_t call_count() const {
    std::lock_guard lock(mutex_);
    return calls_.size();
  }
  // The stored value of `key`, if it is stored.
  std::optional<std::string> Value(const std::string& key) const {
    std::lock_guard lock(mutex_);
    auto found = values_.find(key);
    if (found == values_.end()) return std::nullopt;
    return found->second;
  }
  std::vector<std::string> opaque() const {
    std::lock_guard lock(mutex_);
    return opaque_;
  }

  // ---- target::Target ------------------------------------------------------

  target::ApplyResult ApplyMutation(const v1::Mutation& mutation, const target::DeliveryContext& context) override {
    std::lock_guard lock(mutex_);
    target::ApplyResult result = NextResultLocked();
    calls_.push_back({mutation.key(), context, result.outcome});
    if (!result.ok()) return result;
    if (mutation.op() == v1::Mutation::DELETE) {
      values_.erase(mutation.key());
    } else {
      values_[mutation.key()] = mutation.value();
    }
    return result;
  }

  target::ApplyResult DeliverOpaque(std::string_view payload, const target::DeliveryContext& context) override {
    std::lock_guard lock(mutex_);
    target::ApplyResult result = NextResultLocked();
    calls_.push_back({"", context, result.outcome});
    if (result.ok()) opaque_.emplace_back(payload);
    return result;
  }

  Status ValidatePayload(const v1::Payload&) const override {
    std::lock_guard lock(mutex_);
    return validate_status_;
  }

  Status Probe() override {
    std::lock_guard lock(mutex_);
    return probe_status_;
  }

 private:
  target::ApplyResult NextResultLocked() {
    target::ApplyOutcome outcome = fail_always_;
    if (outcome == target::ApplyOutcome::kOk && fail_next_ > 0) {
      --fail_next_;
      outcome = fail_outcome_;
    }
    if (outcome == target::ApplyOutcome::kOk) return target::ApplyResult::Ok();
    return target::ApplyResult{outcome, fail_reason_};
  }

  mutable std::mutex mutex_;
  std::map<std::string, std::string> values_;
  std::vector<std::string> opaque_;
  std::vector<Call> calls_;
  int fail_next_ = 0;
  target::ApplyOutcome fail_outcome_ = target::ApplyOutcome::kRetryable;
  target::ApplyOutcome fail_always_ = target::ApplyOutcome::kOk;
  std::string fail_reason_;
  Status validate_status_;
  Status probe_status_;
};

// The settings of every fake module (`type: fake` as a backend, target or
// durable_storage): there are none.
struct FakeSettings {
  static constexpr std::string_view kType = "fake";
  Status Read(config::ObjectReader&, const config::DecodeContext&) { return Status::Ok(); }
  Status Validate(const std::string&) const { return Status::Ok(); }
  void Write(config::Json&) const {}
  bool operator==(const FakeSettings&) const = default;
};

// Builds, for type "fake", a target forwarding to `shared`.
class FakeTargetFactory final : public target::TargetFactory {
 public:
  explicit FakeTargetFactory(std::shared_ptr<FakeTarget> shared) : shared_(std::move(shared)) {}

  Result<std::unique_ptr<target::Target>> Create(const config::TargetConfig& config,
                                                 const target::TargetEnvironment&) const override {
    if (config.type() != FakeSettings::kType) {
      return InvalidArgument("target.type: this build has only 'fake', got '" + std::string(config.type()) + "'");
    }
    return std::unique_ptr<target::Target>(std::make_unique<Forwarding>(shared_));
  }
  bool RegionalDelivery(std::string_view) const override { return false; }

 private:
  class Forwarding final : public target::Target {
   public:
    explicit Forwarding(std::shared_ptr<FakeTarget> to) : to_(std::move(to)) {}
    target::ApplyResult ApplyMutation(const v1::Mutation& mutation, const target::DeliveryContext& context) override {
      return to_->ApplyMutation(mutation, context);
    }
    target::ApplyResult DeliverOpaque(std::string_view payload, const target::DeliveryContext& context) override {
      return to_->DeliverOpaque(payload, context);
    }
    Status ValidatePayload(const v1::Payload& payload) const override { return to_->ValidatePayload(payload); }
    Status Probe() override { return to_->Probe(); }

   private:
    std::shared_ptr<FakeTarget> to_;
  };

  std::shared_ptr<FakeTarget> shared_;
};

}  // namespace wal::engine::testing
