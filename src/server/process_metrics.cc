#include "server/process_metrics.h"

#include <dirent.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace wal::server {
namespace {

Result<std::string> ReadProcFile(const char* path) {
  // /proc files report a size of 0, so they are read as a stream, not by size.
  std::ifstream file(path);
  if (!file) return IOError(std::string("cannot read ") + path);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

Result<double> ParseNumber(std::string_view text, std::string_view what) {
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    return Internal(std::string(what) + ": '" + std::string(text) + "' is not a number");
  }
  return value;
}

}  // namespace

Result<ProcessStats> ParseProcStat(std::string_view stat, double ticks_per_second, double page_size,
                                   double boot_time_seconds) {
  // The command name (field 2) is in parentheses and may itself hold spaces
  // and parentheses, so the fields are counted from the last ')'.
  const size_t close = stat.rfind(')');
  if (close == std::string_view::npos) return Internal("/proc/self/stat: no command name");
  std::vector<std::string_view> fields;  // fields[0] is field 3 (state)
  std::string_view rest = stat.substr(close + 1);
  while (!rest.empty()) {
    const size_t start = rest.find_first_not_of(" \n");
    if (start == std::string_view::npos) break;
    rest.remove_prefix(start);
    const size_t end = std::min(rest.find_first_of(" \n"), rest.size());
    fields.push_back(rest.substr(0, end));
    rest.remove_prefix(end);
  }
  // proc(5): utime 14, stime 15, starttime 22, rss 24 (in pages).
  auto field = [&fields](size_t number) { return fields[number - 3]; };
  if (fields.size() < 24 - 2) return Internal("/proc/self/stat: too few fields");
  WAL_ASSIGN_OR_RETURN(double utime, ParseNumber(field(14), "/proc/self/stat utime"));
  WAL_ASSIGN_OR_RETURN(double stime, ParseNumber(field(15), "/proc/self/stat stime"));
  WAL_ASSIGN_OR_RETURN(double start_ticks, ParseNumber(field(22), "/proc/self/stat starttime"));
  WAL_ASSIGN_OR_RETURN(double rss_pages, ParseNumber(field(24), "/proc/self/stat rss"));
  ProcessStats stats;
  stats.cpu_seconds = (utime + stime) / ticks_per_second;
  stats.resident_bytes = rss_pages * page_size;
  stats.start_time_seconds = boot_time_seconds + start_ticks / ticks_per_second;
  return stats;
}

Result<double> ParseBootTime(std::string_view proc_stat) {
  constexpr std::string_view kKey = "btime ";
  size_t at = proc_stat.starts_with(kKey) ? 0 : proc_stat.find("\n" + std::string(kKey));
  if (at == std::string_view::npos) return Internal("/proc/stat: no btime line");
  if (at != 0) ++at;
  std::string_view value = proc_stat.substr(at + kKey.size());
  value = value.substr(0, value.find('\n'));
  return ParseNumber(value, "/proc/stat btime");
}

Result<ProcessStats> ReadProcessStats() {
  WAL_ASSIGN_OR_RETURN(std::string stat, ReadProcFile("/proc/self/stat"));
  WAL_ASSIGN_OR_RETURN(std::string system, ReadProcFile("/proc/stat"));
  WAL_ASSIGN_OR_RETURN(double boot_time, ParseBootTime(system));
  return ParseProcStat(stat, static_cast<double>(sysconf(_SC_CLK_TCK)), static_cast<double>(sysconf(_SC_PAGESIZE)),
                       boot_time);
}

Result<uint64_t> CountOpenFds() {
  DIR* directory = opendir("/proc/self/fd");
  if (directory == nullptr) return IOError("cannot list /proc/self/fd");
  uint64_t count = 0;
  while (const dirent* entry = readdir(directory)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(directory);
  // The descriptor opendir itself held is not one of the process's.
  return count > 0 ? count - 1 : 0;
}

}  // namespace wal::server
