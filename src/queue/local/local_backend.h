// The embedded-log backend: a queue::Backend over log::Log.
#pragma once

#include <memory>

#include "log/log.h"
#include "queue/queue.h"

namespace wal::queue::local {

// Opens (and recovers) the log under context.data_dir/log. A corrupt log fails
// here with kCorruption; the namespace is then not served, the others are.
Result<std::unique_ptr<Backend>> OpenLocalBackend(const BackendContext& context, const config::NamespaceConfig& config);

}  // namespace wal::queue::local
