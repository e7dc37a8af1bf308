package dev.warden.persistence;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates the journal and snapshot tables at start when they are missing, from the DDL shipped
 * under {@code deploy/ddl/} (packaged as {@code ddl/*.sql}). Runs before the actor system starts, so
 * a database that cannot be reached stops startup with a clear message instead of failing later.
 */
public final class SchemaInitializer {

  private static final Logger log = LoggerFactory.getLogger(SchemaInitializer.class);

  private SchemaInitializer() {}

  /** Returns true when it had to create the schema. */
  public static boolean ensureSchema(DatabaseSettings db) {
    try (Connection connection = DriverManager.getConnection(db.url(), db.user(), db.password())) {
      if (journalExists(connection)) {
        return false;
      }
      List<String> statements = statements(readDdl(db.kind().ddlResource));
      connection.setAutoCommit(false);
      try (Statement statement = connection.createStatement()) {
        for (String sql : statements) {
          statement.execute(sql);
        }
        connection.commit();
      } catch (SQLException e) {
        connection.rollback();
        throw e;
      }
      log.info("created the journal schema in {} ({} statements)", db.describe(), statements.size());
      return true;
    } catch (SQLException e) {
      throw new IllegalStateException(
          "cannot prepare the journal database " + db.describe() + ": " + e.getMessage(), e);
    }
  }

  private static final List<String> TABLES = List.of("event_journal", "event_tag", "snapshot");

  /** All three tables, in the connection's own schema (another schema's tables do not count). */
  private static boolean journalExists(Connection connection) throws SQLException {
    String schema = connection.getSchema();
    for (String table : TABLES) {
      try (ResultSet tables = connection.getMetaData().getTables(connection.getCatalog(), schema, table, new String[] {"TABLE"})) {
        if (!tables.next()) {
          return false;
        }
      }
    }
    return true;
  }

  private static String readDdl(String resource) {
    try (InputStream in = SchemaInitializer.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("DDL resource " + resource + " is missing from the classpath");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read DDL resource " + resource, e);
    }
  }

  /** Splits a DDL script into statements: drops {@code --} comment lines, splits on {@code ;}. */
  static List<String> statements(String script) {
    StringBuilder withoutComments = new StringBuilder();
    for (String line : script.split("\n")) {
      if (!line.strip().startsWith("--")) {
        withoutComments.append(line).append('\n');
      }
    }
    List<String> statements = new ArrayList<>();
    for (String part : withoutComments.toString().split(";")) {
      if (!part.isBlank()) {
        statements.add(part.strip());
      }
    }
    return statements;
  }
}
