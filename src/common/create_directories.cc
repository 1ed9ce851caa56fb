#include "common/create_directories.h"

#include <vector>

namespace wal {

Status CreateDirectoriesDurably(const std::string& directory, DirectorySteps& steps) {
  if (directory.empty()) return InvalidArgument("cannot create a directory with an empty path");
  // Every ancestor path, outermost first: "/a/b/c" -> "/a", "/a/b", "/a/b/c".
  std::vector<std::string> paths;
  std::string prefix = directory.front() == '/' ? "/" : "";
  size_t start = 0;
  while (start < directory.size()) {
    size_t slash = directory.find('/', start);
    if (slash == std::string::npos) slash = directory.size();
    if (slash > start) {
      if (!prefix.empty() && prefix.back() != '/') prefix += '/';
      prefix.append(directory, start, slash - start);
      paths.push_back(prefix);
    }
    start = slash + 1;
  }
  std::string parent = directory.front() == '/' ? "/" : ".";
  for (const std::string& path : paths) {
    WAL_ASSIGN_OR_RETURN(bool created, steps.MakeDirectory(path));
    if (created) WAL_RETURN_IF_ERROR(steps.SyncDirectory(parent).WithContext("making " + path + " durable"));
    parent = path;
  }
  return Status::Ok();
}

}  // namespace wal
