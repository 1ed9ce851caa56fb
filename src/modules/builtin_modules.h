// Every module of this build, registered once: what wald, walctl and the
// tests that need real backends and targets use.
//
// Threading: built on first use (thread-safe), then read-only.
#pragma once

#include "modules/module_registry.h"

namespace wal::modules {

const ModuleRegistry& BuiltinModules();

}  // namespace wal::modules
