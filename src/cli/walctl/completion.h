// `walctl completion bash|zsh`: a completion script made from the CLI11 app
// itself, so it can never list a command or flag walctl does not have.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace walctl {

// The script for `shell` ("bash" or "zsh"; zsh runs the bash one through
// bashcompinit). `root` is the whole app, after every command is added.
std::string CompletionScript(const CLI::App& root, const std::string& shell);

}  // namespace walctl
