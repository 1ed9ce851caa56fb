#include "target/mutation_util.h"

namespace wal::target {

int64_t TtlMillis(const v1::Mutation& mutation) {
  if (!mutation.has_ttl()) return 0;
  const auto& ttl = mutation.ttl();
  if (ttl.seconds() < 0 || ttl.nanos() < 0) return -1;
  // Duration seconds are bounded by ~10000 years, so this cannot overflow.
  int64_t millis = ttl.seconds() * 1000 + ttl.nanos() / 1'000'000;
  if (ttl.nanos() % 1'000'000 != 0) ++millis;
  return millis;
}

Status ValidateMutationBasics(const v1::Mutation& mutation, std::string_view field) {
  std::string path(field);
  if (mutation.op() != v1::Mutation::PUT && mutation.op() != v1::Mutation::DELETE) {
    return InvalidArgument(path + ".op: must be PUT or DELETE, got " + std::string(OperationName(mutation.op())));
  }
  if (TtlMillis(mutation) < 0) return InvalidArgument(path + ".ttl: must not be negative");
  return Status::Ok();
}

Status ValidateMutation(const v1::Mutation& mutation, std::string_view field) {
  WAL_RETURN_IF_ERROR(ValidateMutationBasics(mutation, field));
  std::string path(field);
  if (mutation.key().empty()) {
    return InvalidArgument(path + ".key: a " + std::string(OperationName(mutation.op())) + " needs a key");
  }
  if (mutation.op() == v1::Mutation::DELETE && !mutation.value().empty()) {
    return InvalidArgument(path + ".value: a DELETE carries no value");
  }
  return Status::Ok();
}

Status ForEachMutation(const v1::Payload& payload,
                       const std::function<Status(const v1::Mutation&, const std::string&)>& check,
                       const std::function<Status()>& check_opaque) {
  switch (payload.kind_case()) {
    case v1::Payload::kMutation:
      return check(payload.mutation(), "payload.mutation");
    case v1::Payload::kMutationSet:
      for (int i = 0; i < payload.mutation_set().mutations_size(); ++i) {
        WAL_RETURN_IF_ERROR(
            check(payload.mutation_set().mutations(i), "payload.mutation_set.mutations[" + std::to_string(i) + "]"));
      }
      return Status::Ok();
    case v1::Payload::kOpaque:
      return check_opaque ? check_opaque() : Status::Ok();
    case v1::Payload::KIND_NOT_SET:
      break;
  }
  return InvalidArgument("payload: one of opaque, mutation or mutation_set is required");
}

std::string CacheKey(std::string_view prefix, const v1::Mutation& mutation) {
  std::string key(prefix);
  if (!mutation.table().empty()) key.append(mutation.table()).push_back(':');
  if (!mutation.partition_key().empty()) key.append(mutation.partition_key()).push_back(':');
  key.append(mutation.key());
  return key;
}

std::string_view OperationName(v1::Mutation::Operation op) {
  switch (op) {
    case v1::Mutation::PUT: return "PUT";
    case v1::Mutation::DELETE: return "DELETE";
    default: return "OPERATION_UNSPECIFIED";
  }
}

std::string Excerpt(std::string_view text, size_t limit) {
  std::string out;
  for (char c : text.substr(0, limit)) {
    unsigned char byte = static_cast<unsigned char>(c);
    out.push_back(byte < 0x20 || byte == 0x7f ? '.' : c);
  }
  if (text.size() > limit) out += "...";
  return out;
}

}  // namespace wal::target
