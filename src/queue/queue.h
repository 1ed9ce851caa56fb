// The seam between the engine's policy and the physical queue technology.
//
// A Backend is one namespace's queue: the embedded log, a Kafka topic set or an
// SQS queue. The engine hands it serialized wal.v1.LogRecord bytes and learns
// whether they are durable. Backends know nothing about delays, retries or
// targets; the engine knows nothing about files, brokers or HTTP.
//
// Adding a backend means adding a folder under src/queue/ (its settings struct,
// module_config.h's shape, plus the Backend; docs/adding-a-module.md) and one
// registration line in src/modules/builtin_modules.cc. Neither config/ nor the
// engine changes: the engine gets backends through a BackendFactory.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/durability.h"
#include "common/file_system.h"
#include "common/status.h"
#include "config/module_catalog.h"
#include "config/namespace_config.h"

namespace wal::queue {

using TimePoint = std::chrono::system_clock::time_point;
using StatusCallback = std::function<void(const Status&)>;

struct AppendOutcome {
  Durability durability = Durability::kUnknown;
  uint64_t id = 0;  // the entry's position in its log (offset, sequence)
  Status status;    // why, when durability is not kTrue
};

using AppendCallback = std::function<void(const AppendOutcome&)>;

// What the engine hands a backend: opaque record bytes plus the two facts a
// backend needs to schedule it. Backends never parse `record`.
struct QueueEntry {
  std::string record;        // serialized wal.v1.LogRecord
  TimePoint due{};           // never handed out before this instant
  std::string ordering_key;  // entries sharing a key keep their order where the backend partitions (Kafka key)
};

// One entry handed out by Poll().
struct Delivery {
  uint64_t id = 0;           // the entry's position; stable across redeliveries of the same entry
  QueueEntry entry;
  uint32_t receive_count = 0;  // how often the backend has handed this entry out, where it counts (SQS); else 0
  std::string receipt;       // backend-private handle (SQS receipt handle, Kafka partition/offset)
};

// Where a stored entry stands, as far as its backend can tell (admin reads).
enum class StoredState {
  kUnknown,   // the backend does not track it per entry (Kafka, SQS)
  kPending,   // not yet retired, not handed out (due or not: the engine reads the due time)
  kInFlight,  // handed out, not yet retired
  kDone,      // retired, how it ended not recorded (a retirement by an older binary)
  kDelivered,     // retired after its target applied it
  kDeadLettered,  // retired into the dead-letter queue
  kSuperseded,    // retired by a newer record of the same entry (a retry, deferral, or the log's copy-forward)
};

struct StoredEntry {
  uint64_t id = 0;
  std::string record;  // serialized wal.v1.LogRecord
  StoredState state = StoredState::kUnknown;  // Read fills it where it can; the DLQ listing leaves it
};

struct BackendStats {
  uint64_t first_id = 0;
  uint64_t log_end = 0;
  uint64_t consumed = 0;        // every id below this is done
  uint64_t pending = 0;         // accepted, not yet done (due or not)
  uint64_t pending_delayed = 0; // of those, not yet due
  uint64_t in_flight = 0;       // handed out, not yet completed
  uint64_t dead_letters = 0;    // entries in the DLQ
  uint64_t segments = 0;
  uint64_t bytes = 0;
  bool writable = true;
  // Why it is not writable (or its dependency is unreachable), when known; or
  // a problem the backend found and serves around (e.g. a bad checkpoint at
  // open), which the operator must hear about.
  std::string error;
};

// Turns a dead-lettered record into the entry to put back on the main queue
// (the engine resets the attempt count there).
using RedriveTransform = std::function<Result<QueueEntry>(const std::string& dead_record)>;

class Backend {
 public:
  Backend() = default;
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;
  virtual ~Backend() = default;

  // ---- Producer side -------------------------------------------------------

  // Makes `entry` durable. `callback` runs exactly once: kTrue only when the
  // entry survives kill -9 of this process (and power loss on the embedded log),
  // kFalse when it was not stored, kUnknown when that cannot be known. kFalse
  // with an INVALID_ARGUMENT status means it can never be stored as it is (too
  // large): the engine answers that as a rejection. It runs on
  // a backend-owned thread, or inline when the backend refuses at once; it must
  // not block. Thread-safe.
  virtual void Append(QueueEntry entry, AppendCallback callback) = 0;

  // ---- Consumer side -------------------------------------------------------
  //
  // At-least-once: an entry handed out by Poll and not yet retired (Complete,
  // Reschedule or DeadLetter whose callback reported OK) is handed out again
  // after a crash or restart. Every method here is thread-safe; callbacks run on
  // backend threads and must not block.

  // Hands out up to `max_entries` entries whose due time has passed, in due-time
  // order (ties in id order), waiting up to `wait` for the first one. An entry
  // handed out is not handed out again while this process holds it.
  virtual Result<std::vector<Delivery>> Poll(size_t max_entries, std::chrono::milliseconds wait) = 0;

  // Retires the entry: it is done and is not handed out again.
  virtual void Complete(const Delivery& delivery, StatusCallback callback) = 0;

  // Replaces the entry with `replacement` (the engine's updated record: attempt
  // count, error history, new due time). The replacement is durable before the
  // original is retired, so after a crash exactly one of them is pending, or
  // both — and then the replacement is recognised as superseding the original,
  // so an attempt count never goes backwards.
  virtual void Reschedule(const Delivery& delivery, QueueEntry replacement, StatusCallback callback) = 0;

  // Moves the entry to the namespace's dead-letter queue as `dead_record` (the
  // engine's record with its last error and attempt history). Durable in the DLQ
  // before the original is retired.
  virtual void DeadLetter(const Delivery& delivery, std::string dead_record, StatusCallback callback) = 0;

  // ---- Dead-letter queue administration ------------------------------------

  virtual Result<std::vector<StoredEntry>> ListDeadLetters(uint64_t from_id, size_t limit) = 0;
  // Puts the given DLQ entries (all of them when `ids` is empty) back on the main
  // queue through `transform`, durably, then removes them from the DLQ. Returns
  // how many moved.
  virtual Result<uint64_t> RedriveDeadLetters(const std::vector<uint64_t>& ids, const RedriveTransform& transform) = 0;
  // Drops the given DLQ entries (all when `ids` is empty). Returns how many.
  virtual Result<uint64_t> PurgeDeadLetters(const std::vector<uint64_t>& ids) = 0;

  // ---- Inspection ----------------------------------------------------------

  // Reads stored records with id >= from_id, for inspection (walctl log read).
  virtual Result<std::vector<StoredEntry>> Read(uint64_t from_id, size_t limit) = 0;

  // Read and ListDeadLetters that also stop before the record that would take
  // the page's total record bytes over `max_bytes`; the first record is always
  // returned, so paging from the last id + 1 always advances. The defaults read
  // `limit` entries and trim, bounding the answer but not the memory used on
  // the way; a backend that can stop early overrides them.
  virtual Result<std::vector<StoredEntry>> ReadBounded(uint64_t from_id, size_t limit, uint64_t max_bytes) {
    WAL_ASSIGN_OR_RETURN(std::vector<StoredEntry> entries, Read(from_id, limit));
    return TrimToBytes(std::move(entries), max_bytes);
  }
  virtual Result<std::vector<StoredEntry>> ListDeadLettersBounded(uint64_t from_id, size_t limit, uint64_t max_bytes) {
    WAL_ASSIGN_OR_RETURN(std::vector<StoredEntry> entries, ListDeadLetters(from_id, limit));
    return TrimToBytes(std::move(entries), max_bytes);
  }

  virtual BackendStats Stats() const = 0;
  // BackendStats::pending alone, for callers that ask often (the request
  // gate's max_backlog check, several times a second per namespace). A backend
  // whose Stats() does more than read counters overrides it; the default asks
  // Stats().
  virtual uint64_t Pending() const { return Stats().pending; }

  // Finishes in-flight appends and retirements (their callbacks run), then
  // releases resources. Entries handed out and not retired stay pending.
  virtual Status Close() = 0;

 protected:
  // The longest prefix of `entries` within `max_bytes` of records, at least one.
  static std::vector<StoredEntry> TrimToBytes(std::vector<StoredEntry> entries, uint64_t max_bytes) {
    uint64_t bytes = 0;
    for (size_t i = 0; i < entries.size(); ++i) {
      bytes += entries[i].record.size();
      if (i > 0 && bytes > max_bytes) {
        entries.resize(i);
        break;
      }
    }
    return entries;
  }
};

// What a backend is opened with besides the namespace config (of which it
// reads only its own settings, config.backend.settings, plus
// dlq/consumer/max_payload_bytes).
struct BackendContext {
  FileSystem* file_system = nullptr;  // outlives the backend
  std::string data_dir;               // this namespace's private data directory
  std::string region;                 // the instance's region (server config), may be empty
  // The namespace's target applies to this instance's region only (a
  // cross-region replication target): every region consumes the whole log on
  // its own, in order, so one region's lag or retries never hold back another's.
  bool regional_delivery = false;
};

// What the engine may rely on about a backend type, declared by its module.
struct BackendTraits {
  // Read() and ListDeadLetters() see every entry the backend holds (the
  // embedded log), so an entry they do not return does not exist.
  bool reads_are_complete = false;
  // What status shows when Stats().writable is false and Stats().error is empty.
  std::string not_writable_reason = "the backend is not accepting writes; the server log has its last error";
};

// Opens `config`'s backend. Fails with a clear Status when it cannot be opened
// (corrupt log; an unreachable broker is NOT a failure for remote backends:
// they connect lazily).
using OpenBackendFunction =
    std::function<Result<std::unique_ptr<Backend>>(const BackendContext& context, const config::NamespaceConfig& config)>;

// One backend type: how its settings are read (the schema's type is the
// `backend.type` users write) and how it is opened.
struct BackendModule {
  config::ModuleSchema schema;
  OpenBackendFunction open;
  BackendTraits traits;
};

// A backend module for the settings struct `Settings` (module_config.h).
template <typename Settings>
BackendModule BackendModuleOf(OpenBackendFunction open, BackendTraits traits = {}) {
  return BackendModule{config::SchemaFor<Settings>(), std::move(open), std::move(traits)};
}

// Where the engine gets backends (src/modules/ registers every backend of the
// build; tests may hand in fakes). Thread-safe; outlives what it opens.
class BackendFactory {
 public:
  BackendFactory() = default;
  BackendFactory(const BackendFactory&) = delete;
  BackendFactory& operator=(const BackendFactory&) = delete;
  virtual ~BackendFactory() = default;

  // Opens the backend config.backend names; kUnavailable when this build has
  // no such backend.
  virtual Result<std::unique_ptr<Backend>> Open(const BackendContext& context,
                                                const config::NamespaceConfig& config) const = 0;
  // The traits of the backend type `type` (defaults for an unknown type).
  virtual BackendTraits Traits(std::string_view type) const = 0;
};

}  // namespace wal::queue
