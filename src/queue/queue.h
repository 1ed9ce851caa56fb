// The seam between the engine's policy and the physical queue technology.
//
// A Backend is one namespace's queue: the embedded log, a Kafka topic set or an
// SQS queue. The engine hands it serialized wal.v1.LogRecord bytes and learns
// whether they are durable. Backends know nothing about delays, retries or
// targets; the engine knows nothing about files, brokers or HTTP.
//
// Adding a backend means adding a folder under src/queue/ and one line to
// queue/backend_registry.cc; the engine does not change.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/durability.h"
#include "common/file_system.h"
#include "common/status.h"
#include "config/config.h"

namespace wal::queue {

struct AppendOutcome {
  Durability durability = Durability::kUnknown;
  uint64_t id = 0;  // the entry's position in its log (offset, sequence)
  Status status;    // why, when durability is not kTrue
};

using AppendCallback = std::function<void(const AppendOutcome&)>;

struct StoredEntry {
  uint64_t id = 0;
  std::string record;  // serialized wal.v1.LogRecord
};

struct BackendStats {
  uint64_t first_id = 0;
  uint64_t log_end = 0;
  uint64_t consumed = 0;
  uint64_t segments = 0;
  uint64_t bytes = 0;
  bool writable = true;
};

class Backend {
 public:
  virtual ~Backend() = default;

  // Makes `record` durable. `callback` runs exactly once: kTrue only when the
  // record survives kill -9 of this process (and power loss on the embedded log),
  // kFalse when it was not stored, kUnknown when that cannot be known. It runs on
  // a backend-owned thread, or inline when the backend refuses at once; it must
  // not block. Thread-safe.
  virtual void Append(std::string record, AppendCallback callback) = 0;

  // Reads stored records with id >= from_id, for inspection (walctl log read).
  virtual Result<std::vector<StoredEntry>> Read(uint64_t from_id, size_t limit) = 0;

  virtual BackendStats Stats() const = 0;

  // Finishes in-flight appends (their callbacks run), then releases resources.
  virtual Status Close() = 0;
};

struct BackendContext {
  FileSystem* file_system = nullptr;  // outlives the backend
  std::string data_dir;               // this namespace's private data directory
};

// Opens the backend the namespace config names. Fails with a clear Status when
// the backend cannot be opened (corrupt log, unreachable broker at open time is
// NOT a failure for remote backends: they connect lazily).
Result<std::unique_ptr<Backend>> OpenBackend(const BackendContext& context, const config::NamespaceConfig& config);

}  // namespace wal::queue
