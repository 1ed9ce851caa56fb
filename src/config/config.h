// The config layer in one include: the namespace schema (namespace_config.h),
// the server schema (server_config.h) and their files (config_files.h). The
// modules' own settings are declared in their folders (module_config.h says
// how) and decoded through a ModuleCatalog (module_catalog.h).
#pragma once

#include "config/config_files.h"
#include "config/module_config.h"
#include "config/namespace_config.h"
#include "config/server_config.h"
