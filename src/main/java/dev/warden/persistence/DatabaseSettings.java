package dev.warden.persistence;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.util.Map;

/**
 * Which database holds the journal and how to reach it, read from {@code warden.database}: an
 * embedded H2 file under the data directory unless a PostgreSQL URL is configured.
 */
public record DatabaseSettings(Kind kind, String url, String user, String password) {

  /** The databases Warden ships DDL for. */
  public enum Kind {
    H2("org.h2.Driver", "slick.jdbc.H2Profile$", "ddl/h2.sql"),
    POSTGRES("org.postgresql.Driver", "slick.jdbc.PostgresProfile$", "ddl/postgres.sql");

    final String driver;
    final String slickProfile;
    final String ddlResource;

    Kind(String driver, String slickProfile, String ddlResource) {
      this.driver = driver;
      this.slickProfile = slickProfile;
      this.ddlResource = ddlResource;
    }
  }

  /** Reads {@code warden.database} of a resolved config whose data directory is {@code dataDir}. */
  public static DatabaseSettings fromConfig(Config config, Path dataDir) {
    String url = config.getString("warden.database.url").trim();
    String user = config.getString("warden.database.user");
    String password = config.getString("warden.database.password");
    if (url.isEmpty()) {
      Path file = dataDir.resolve("db").resolve("warden").toAbsolutePath();
      // DB_CLOSE_ON_EXIT=FALSE: the journal closes the database during coordinated shutdown, not H2's own hook.
      // WRITE_DELAY=0: a commit is on disk before the journal acknowledges it, so an acknowledged event
      // survives a crash or a JVM that exits before H2 flushed (H2 otherwise delays writes by 500 ms).
      return new DatabaseSettings(Kind.H2, "jdbc:h2:file:" + file + ";DB_CLOSE_ON_EXIT=FALSE;WRITE_DELAY=0",
          user.isEmpty() ? "sa" : user, password);
    }
    if (url.startsWith("jdbc:postgresql:")) {
      return new DatabaseSettings(Kind.POSTGRES, url, user, password);
    }
    if (url.startsWith("jdbc:h2:")) {
      return new DatabaseSettings(Kind.H2, url, user, password);
    }
    throw new IllegalArgumentException(
        "warden.database.url (WARDEN_DB_URL) must start with jdbc:postgresql: or jdbc:h2:, got: " + url);
  }

  /** The akka-persistence-jdbc shared-database keys for this database, to layer over application.conf. */
  public Config toAkkaConfig() {
    String base = "akka-persistence-jdbc.shared-databases.default.";
    return ConfigFactory.parseMap(
        Map.of(
            base + "profile", kind.slickProfile,
            base + "db.driver", kind.driver,
            base + "db.url", url,
            base + "db.user", user,
            base + "db.password", password));
  }

  /** The URL without credentials, fit for logs. */
  public String describe() {
    int semicolon = url.indexOf(';');
    return kind + " " + (semicolon > 0 ? url.substring(0, semicolon) : url);
  }

  @Override
  public String toString() {
    return "DatabaseSettings[" + describe() + "]";
  }
}
