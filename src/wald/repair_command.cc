#include "wald/repair_command.h"

#include "log/directory_scan.h"
#include "log/repair.h"

namespace wal::wald {

int RunRepair(FileSystem* file_system, const std::string& data_dir, const std::string& namespace_name,
              std::ostream& out) {
  if (namespace_name.find('/') != std::string::npos || namespace_name == "." || namespace_name == "..") {
    out << "wald --repair: '" << namespace_name << "' is not a namespace name\n";
    return 1;
  }
  // Where the engine keeps namespaces: <data_dir>/namespaces/<name>/...
  std::string root = JoinPath(data_dir, "namespaces");
  if (!namespace_name.empty()) root = JoinPath(root, namespace_name);
  Result<std::vector<std::string>> directories = log::FindLogDirectories(file_system, root);
  if (!directories.ok()) {
    out << "wald --repair: cannot list " << root << ": " << directories.status().ToString() << "\n";
    return 1;
  }
  if (directories->empty()) {
    out << "wald --repair: no embedded log under " << root << "\n";
    return namespace_name.empty() ? 0 : 1;
  }
  int failed = 0;
  int repaired = 0;
  uint64_t ids_lost = 0;
  for (const std::string& directory : directories.value()) {
    out << "== " << directory << "\n";
    Result<log::RepairReport> report = log::RepairLog(file_system, directory);
    if (!report.ok()) {
      out << "repair failed: " << report.status().ToString() << "\n";
      ++failed;
      continue;
    }
    out << report->Describe();
    if (report->changed) ++repaired;
    ids_lost += report->ids_lost;
  }
  out << "wald --repair: " << directories->size() << " logs checked, " << repaired << " repaired, " << ids_lost
      << " record ids lost, " << failed << " failed\n";
  return failed == 0 ? 0 : 1;
}

}  // namespace wal::wald
