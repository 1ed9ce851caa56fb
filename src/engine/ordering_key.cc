#include "engine/ordering_key.h"

namespace wal::engine {

std::string OrderingKey(const v1::Payload& payload) {
  const v1::Mutation* mutation = nullptr;
  if (payload.has_mutation()) mutation = &payload.mutation();
  if (payload.has_mutation_set() && payload.mutation_set().mutations_size() > 0) {
    mutation = &payload.mutation_set().mutations(0);
  }
  if (mutation == nullptr) return "";
  return mutation->table() + "\x1f" + mutation->partition_key() + "\x1f" + mutation->key();
}

}  // namespace wal::engine
