package dev.warden.persistence;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.DispatcherSelector;
import akka.actor.typed.Extension;
import akka.actor.typed.ExtensionId;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/**
 * A tiny connection pool to the journal database for Warden's own probes (readiness), separate from
 * the journal's pool so a probe never queues behind event writes. Closed when the system terminates.
 */
public final class JournalDatabase implements Extension {

  private final HikariDataSource dataSource;
  private final Executor blocking;

  private JournalDatabase(ActorSystem<?> system) {
    var config = system.settings().config();
    Path dataDir = Path.of(config.getString("warden.data-dir")).toAbsolutePath().normalize();
    DatabaseSettings db = DatabaseSettings.fromConfig(config, dataDir);
    HikariConfig hikari = new HikariConfig();
    hikari.setPoolName("warden-probe");
    hikari.setDriverClassName(db.kind().driver);
    hikari.setJdbcUrl(db.url());
    hikari.setUsername(db.user());
    hikari.setPassword(db.password());
    hikari.setMaximumPoolSize(2);
    hikari.setMinimumIdle(0);
    hikari.setConnectionTimeout(2000);
    hikari.setInitializationFailTimeout(-1);
    this.dataSource = new HikariDataSource(hikari);
    this.blocking = system.dispatchers().lookup(DispatcherSelector.fromConfig("warden-blocking-dispatcher"));
    system.getWhenTerminated().thenRun(dataSource::close);
  }

  /** True when a connection can be had and answers within a second. */
  public CompletionStage<Boolean> isReachable() {
    return CompletableFuture.supplyAsync(
        () -> {
          try (Connection connection = dataSource.getConnection()) {
            return connection.isValid(1);
          } catch (SQLException e) {
            return false;
          }
        },
        blocking);
  }

  /**
   * The journal's highest global offset ({@code ordering}), 0 when it is empty: where the live feed's
   * reader starts, so a daemon does not re-read its whole history at start. The quoted lower-case names
   * are right for H2 and PostgreSQL alike.
   */
  public CompletionStage<Long> maxOrdering() {
    return CompletableFuture.supplyAsync(
        () -> {
          try (Connection connection = dataSource.getConnection();
              var statement = connection.createStatement();
              var result = statement.executeQuery("SELECT MAX(\"ordering\") FROM \"event_journal\"")) {
            return result.next() ? result.getLong(1) : 0L;
          } catch (SQLException e) {
            throw new java.util.concurrent.CompletionException(e);
          }
        },
        blocking);
  }

  public static JournalDatabase get(ActorSystem<?> system) {
    return Id.INSTANCE.apply(system);
  }

  private static final class Id extends ExtensionId<JournalDatabase> {
    static final Id INSTANCE = new Id();

    @Override
    public JournalDatabase createExtension(ActorSystem<?> system) {
      return new JournalDatabase(system);
    }
  }
}
