// The namespace a log line is about, kept per thread, so that structured logs
// (server/logging.h, log_format json) carry it as a field of its own and a log
// pipeline can filter by namespace without parsing messages.
//
// Modules that act for one namespace (its delivery workers, its admin
// operations, a request) open a scope; every line logged on that thread until
// the scope closes is about that namespace. Lines logged on other threads for
// it (a backend's callback) open their own.
//
// Threading: thread-local; a scope must close on the thread that opened it.
#pragma once

#include <string>

namespace wal {

class LogNamespaceScope {
 public:
  // Keeps its own copy of `name`; "" means "no namespace" for the scope.
  explicit LogNamespaceScope(std::string name);
  ~LogNamespaceScope();
  LogNamespaceScope(const LogNamespaceScope&) = delete;
  LogNamespaceScope& operator=(const LogNamespaceScope&) = delete;

 private:
  std::string name_;
  const std::string* previous_;
};

// The innermost open scope's namespace on this thread ("" when none).
const std::string& CurrentLogNamespace();

}  // namespace wal
