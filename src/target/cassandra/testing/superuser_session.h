// Test-only: a session as the superuser on the node of CassandraEnvironment
// (src/cql/testing/cassandra_environment.h), with `keyspace` created (one
// replica) when it is not there yet. For the tests' own DDL and grants.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "cql/session.h"
#include "cql/testing/cassandra_environment.h"

namespace wal::cassandra::testing {

inline std::unique_ptr<cql::Session> SuperuserSessionWithKeyspace(const std::string& keyspace) {
  using namespace std::chrono_literals;
  cql::SessionOptions options;
  options.contact_points = {"127.0.0.1:" + std::to_string(cql::testing::CassandraEnvironment::Port())};
  options.connection.credentials = cql::Credentials{"cassandra", "cassandra"};
  options.connection.connect_timeout = 10s;
  options.connection.request_timeout = 60s;  // schema changes on a small, busy machine
  auto session = cql::Session::Create(options);
  EXPECT_TRUE(session.ok()) << session.status().ToString();
  if (!session.ok()) return nullptr;
  Result<cql::ResultMessage> created = (*session)->Query(
      "CREATE KEYSPACE IF NOT EXISTS " + keyspace +
      " WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
  EXPECT_TRUE(created.ok()) << created.status().ToString();
  return std::move(session).value();
}

}  // namespace wal::cassandra::testing
