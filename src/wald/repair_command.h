// `wald --repair [--namespace N]`: the offline repair of the embedded logs under
// the data directory (docs/operations.md, "Repairing a damaged log").
//
// Runs instead of the server: wald must not be serving the same data directory.
// Every log directory of the namespace (or of every namespace) is checked; a log
// that Open would refuse is repaired with log::RepairLog, and what was dropped
// (segment, offset, bytes, record ids) is printed to `out`.
#pragma once

#include <ostream>
#include <string>

#include "common/file_system.h"

namespace wal::wald {

// Returns the process exit code: 0 when every log checks clean afterwards, 1 if
// any could not be repaired or nothing was found for a named namespace.
int RunRepair(FileSystem* file_system, const std::string& data_dir, const std::string& namespace_name,
              std::ostream& out);

}  // namespace wal::wald
