#include "common/log_context.h"

namespace wal {
namespace {

thread_local const std::string* current_namespace = nullptr;

}  // namespace

LogNamespaceScope::LogNamespaceScope(std::string name) : name_(std::move(name)), previous_(current_namespace) {
  current_namespace = &name_;
}

LogNamespaceScope::~LogNamespaceScope() { current_namespace = previous_; }

const std::string& CurrentLogNamespace() {
  static const std::string kNone;
  return current_namespace != nullptr ? *current_namespace : kNone;
}

}  // namespace wal
