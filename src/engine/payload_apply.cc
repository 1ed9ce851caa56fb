#include "engine/payload_apply.h"

#include <algorithm>
#include <vector>

namespace wal::engine {

target::ApplyResult ApplyPayload(target::Target& target, const v1::LogRecord& record,
                                 const target::DeliveryContext& context, const NamedTargetResolver& resolve) {
  const v1::Payload& payload = record.payload();
  switch (payload.kind_case()) {
    case v1::Payload::kOpaque:
      return target.DeliverOpaque(payload.opaque(), context);
    case v1::Payload::kMutation:
      return target.ApplyMutation(payload.mutation(), context);
    case v1::Payload::kMutationSet: {
      std::vector<const v1::Mutation*> ordered;
      for (const auto& mutation : payload.mutation_set().mutations()) ordered.push_back(&mutation);
      std::stable_sort(ordered.begin(), ordered.end(),
                       [](const v1::Mutation* left, const v1::Mutation* right) { return left->sequence() < right->sequence(); });
      for (const v1::Mutation* mutation : ordered) {
        target::Target* chosen = &target;
        std::shared_ptr<target::Target> named;
        if (resolve && !mutation->target().empty()) {
          auto found = resolve(mutation->target());
          if (!found.ok()) {
            return target::ApplyResult::Retryable("mutation sequence " + std::to_string(mutation->sequence()) +
                                                  ": target " + mutation->target() + " unavailable: " +
                                                  found.status().message());
          }
          named = std::move(found).value();
          chosen = named.get();
        }
        target::ApplyResult result = chosen->ApplyMutation(*mutation, context);
        if (!result.ok()) {
          result.reason = "mutation sequence " + std::to_string(mutation->sequence()) + ": " + result.reason;
          return result;
        }
      }
      return target::ApplyResult::Ok();
    }
    case v1::Payload::KIND_NOT_SET:
      break;
  }
  return target::ApplyResult::Permanent("the record has no payload");
}

}  // namespace wal::engine
