#include "cli/walctl/completion.h"

#include <set>
#include <utility>
#include <vector>

namespace walctl {
namespace {

// A command's path below the root ("" for the root itself, "dlq list") and
// the words that may follow it: its subcommands and its flags.
struct Level {
  std::string path;
  std::set<std::string> words;
};

void AddFlags(const CLI::App& command, std::set<std::string>& words, std::set<std::string>& valued) {
  for (const CLI::Option* option : command.get_options()) {
    if (option->get_positional()) continue;
    std::vector<std::string> names;
    for (const std::string& name : option->get_lnames()) names.push_back("--" + name);
    for (const std::string& name : option->get_snames()) names.push_back("-" + name);
    for (const std::string& name : names) {
      words.insert(name);
      if (!option->get_type_name().empty()) valued.insert(name);  // flags have no type name
    }
  }
}

void Walk(const CLI::App& command, const std::string& path, const std::set<std::string>& global,
          std::vector<Level>& levels, std::set<std::string>& valued) {
  Level level{path, global};
  if (!path.empty()) AddFlags(command, level.words, valued);
  for (const CLI::App* child : command.get_subcommands({})) level.words.insert(child->get_name());
  levels.push_back(level);
  for (const CLI::App* child : command.get_subcommands({})) {
    Walk(*child, path.empty() ? child->get_name() : path + " " + child->get_name(), global, levels, valued);
  }
}

std::string Join(const std::set<std::string>& words) {
  std::string joined;
  for (const std::string& word : words) joined += (joined.empty() ? "" : " ") + word;
  return joined;
}

}  // namespace

std::string CompletionScript(const CLI::App& root, const std::string& shell) {
  // The root's flags are accepted after any command (they fall through), so
  // every level offers them.
  std::set<std::string> global;
  std::set<std::string> valued;
  AddFlags(root, global, valued);
  global.insert("--help");
  std::vector<Level> levels;
  Walk(root, "", global, levels, valued);

  std::string paths;
  std::string cases;
  for (const Level& level : levels) {
    if (!level.path.empty()) paths += (paths.empty() ? "'" : "|'") + level.path + "'";
    cases += "    '" + level.path + "') words='" + Join(level.words) + "' ;;\n";
  }
  std::set<std::string> file_valued = valued;
  file_valued.erase("-o");
  file_valued.erase("--output");
  std::string script;
  if (shell == "zsh") script += "#compdef walctl\nautoload -U +X bashcompinit && bashcompinit\n";
  script += "# walctl completion for " + shell + ": source <(walctl completion " + shell + ")\n";
  script +=
      "_walctl() {\n"
      "  local cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"${COMP_WORDS[COMP_CWORD-1]}\" path='' word i words\n"
      "  case \"$prev\" in\n"
      "    -o|--output) COMPREPLY=($(compgen -W 'table json yaml' -- \"$cur\")); return ;;\n"
      "    " + [&] {
        std::string alternatives;
        for (const std::string& name : file_valued) alternatives += (alternatives.empty() ? "" : "|") + name;
        return alternatives;
      }() + ") COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n"
      "  esac\n"
      "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
      "    word=\"${COMP_WORDS[i]}\"\n"
      "    case \"${path:+$path }$word\" in\n"
      "      " + paths + ") path=\"${path:+$path }$word\" ;;\n"
      "    esac\n"
      "  done\n"
      "  case \"$path\" in\n" + cases +
      "  esac\n"
      "  COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
      "}\n"
      "complete -F _walctl walctl\n";
  return script;
}

}  // namespace walctl
