// "host:port" text, as every listen address, broker list and cache server in
// the config is written.
//
// Accepted: a non-empty host without spaces, tabs or '/', a colon, and a port
// 1..65535; an IPv6 host is bracketed ("[::1]:6379"). The split is at the last
// colon, so the brackets are what make an IPv6 address unambiguous.
//
// Threading: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wal {

struct HostPort {
  std::string host;  // without brackets: what client libraries want
  uint16_t port = 0;
  bool operator==(const HostPort&) const = default;
};

// The parts of `text`, or nullopt when it is not host:port as described above.
std::optional<HostPort> ParseHostPort(std::string_view text);

// host:port again; an IPv6 host gets its brackets back.
std::string FormatHostPort(const HostPort& address);

}  // namespace wal
