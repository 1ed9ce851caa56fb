// The one namespace the power-loss workload runs on: where it lives on the
// in-memory disk and how its backend and set store are configured. The
// workload and the checker open everything through these, so a reopen after a
// crash sees exactly the configuration the run had.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "common/file_system.h"
#include "common/status.h"
#include "config/config.h"
#include "queue/local/local_backend.h"
#include "sets/local_set_store.h"

namespace wal::powerloss {

// The namespace's data directory. The test makes it (and its parents) durable
// before the run, as an installation's data directory is; everything below it
// is made by the code under test.
inline constexpr const char* kDataDir = "/var/lib/wal/ns";

inline config::NamespaceConfig NamespaceConfig() {
  config::NamespaceConfig config;
  config.name = "ns";
  // Small segments so that retention, copy-forward and segment roll-over all
  // happen within a few dozen records.
  config.backend.local.segment_bytes = 1024;
  config.backend.local.preallocate = true;
  return config;
}

inline queue::local::LocalBackendOptions BackendOptions() {
  queue::local::LocalBackendOptions options;
  // No background passes: the workload runs maintenance itself, so the order
  // of file operations (the crash points) depends only on the seed.
  options.checkpoint_interval = std::chrono::hours(24);
  options.copy_forward_interval = std::chrono::milliseconds(0);
  // One entry per copy-forward step: several concurrent copies would be
  // group-committed in an order that depends on thread timing.
  options.copy_forward_max_entries = 1;
  options.copy_forward_max_fraction = 0.5;
  return options;
}

inline sets::LocalSetStore::Options SetStoreOptions() {
  sets::LocalSetStore::Options options;
  options.directory = JoinPath(kDataDir, "sets");
  options.segment_bytes = 2048;
  options.max_chunk_bytes = 2048;
  return options;
}

inline Result<std::unique_ptr<queue::local::LocalBackend>> OpenBackend(FileSystem* file_system) {
  queue::BackendContext context{file_system, kDataDir, ""};
  return queue::local::OpenLocalBackend(context, NamespaceConfig(), BackendOptions());
}

inline Result<std::unique_ptr<sets::LocalSetStore>> OpenSetStore(FileSystem* file_system) {
  return sets::LocalSetStore::Open(file_system, SetStoreOptions());
}

}  // namespace wal::powerloss
