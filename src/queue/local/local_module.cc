// The embedded-log backend as a module: its settings, how it opens, and what
// the engine may rely on (reads see every entry: the log is all there is).
#include "queue/local/local_backend.h"
#include "queue/local/local_config.h"

namespace wal::queue::local {

BackendModule Module() {
  BackendTraits traits;
  traits.reads_are_complete = true;
  traits.not_writable_reason = "the log refused further writes after a failed fsync; restart to recover";
  return BackendModuleOf<LocalBackendConfig>(
      [](const BackendContext& context, const config::NamespaceConfig& config) {
        return OpenLocalBackend(context, config);
      },
      std::move(traits));
}

}  // namespace wal::queue::local
