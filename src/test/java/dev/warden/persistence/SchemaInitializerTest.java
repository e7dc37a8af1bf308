package dev.warden.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.ResultSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shipped H2 DDL on a real H2 file database: created once, found the second time. */
class SchemaInitializerTest {

  @TempDir Path dir;

  @Test
  void createsTheJournalTablesOnceAndLeavesThemAlone() throws Exception {
    DatabaseSettings db = new DatabaseSettings(DatabaseSettings.Kind.H2, "jdbc:h2:file:" + dir.resolve("db"), "sa", "");
    assertTrue(SchemaInitializer.ensureSchema(db));
    assertFalse(SchemaInitializer.ensureSchema(db));
    try (var connection = DriverManager.getConnection(db.url(), "sa", "");
        ResultSet tables = connection.getMetaData().getTables(null, null, null, new String[] {"TABLE"})) {
      java.util.Set<String> names = new java.util.TreeSet<>();
      while (tables.next()) {
        names.add(tables.getString("TABLE_NAME"));
      }
      assertTrue(names.containsAll(java.util.Set.of("event_journal", "event_tag", "snapshot")), names.toString());
    }
  }

  @Test
  void splitsScriptsIntoStatementsWithoutComments() {
    assertEquals(java.util.List.of("CREATE TABLE a (x INT)", "CREATE INDEX i ON a (x)"),
        SchemaInitializer.statements("-- comment;\nCREATE TABLE a (x INT);\n\n-- another\nCREATE INDEX i ON a (x);\n"));
  }
}
