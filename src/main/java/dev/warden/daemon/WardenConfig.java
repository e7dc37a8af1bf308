package dev.warden.daemon;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import dev.warden.persistence.DatabaseSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Builds the daemon's configuration. Precedence, strongest first: JVM system properties, the
 * operator's file ({@code --config} or {@code WARDEN_CONFIG}), environment variables named in
 * application.conf, application.conf, the libraries' reference.conf. The journal's connection keys
 * are then derived from {@code warden.database}.
 */
public final class WardenConfig {

  private WardenConfig() {}

  public static Config load(Optional<Path> operatorFile) {
    Config application = ConfigFactory.parseResources("application.conf");
    Config layered = application;
    if (operatorFile.isPresent()) {
      Path file = operatorFile.get();
      if (!Files.isRegularFile(file)) {
        throw new IllegalArgumentException("config file " + file + " does not exist or is not a file");
      }
      layered = ConfigFactory.parseFile(file.toFile(), ConfigParseOptions.defaults().setAllowMissing(false))
          .withFallback(application);
    }
    Config loaded = withDatabase(ConfigFactory.load(layered));
    // remembered so that every sandbox hides it (it may hold the database password)
    return operatorFile.isEmpty() ? loaded : loaded.withValue(OPERATOR_FILE,
        com.typesafe.config.ConfigValueFactory.fromAnyRef(operatorFile.get().toAbsolutePath().normalize().toString()));
  }

  /** Where {@link #load(Optional)} notes the operator's file, when there is one. */
  public static final String OPERATOR_FILE = "warden.internal.operator-config-file";

  /** Layers over a test's or operator's config: the given keys win over application.conf. */
  public static Config load(Config overrides) {
    return withDatabase(ConfigFactory.load(overrides.withFallback(ConfigFactory.parseResources("application.conf"))));
  }

  private static Config withDatabase(Config resolved) {
    Path dataDir = Path.of(resolved.getString("warden.data-dir")).toAbsolutePath().normalize();
    return DatabaseSettings.fromConfig(resolved, dataDir).toAkkaConfig().withFallback(withClusterPort(resolved));
  }

  /** Akka's remoting port, {@code auto} in cluster.conf unless configured. */
  public static final String CLUSTER_PORT = "akka.remote.artery.canonical.port";
  /** The port a node of a real cluster (one with seed nodes) takes when none is configured. */
  public static final int DEFAULT_CLUSTER_PORT = 25520;

  /**
   * {@code auto}: a lone node (no seed nodes) takes a free port, so that daemons on one host differ
   * only in their HTTP port and data directory; a node with seed nodes takes {@value #DEFAULT_CLUSTER_PORT}.
   */
  static Config withClusterPort(Config resolved) {
    if (!resolved.hasPath(CLUSTER_PORT) || !resolved.getString(CLUSTER_PORT).strip().equalsIgnoreCase("auto")) {
      return resolved;
    }
    boolean lone = !resolved.hasPath("akka.cluster.seed-nodes") || resolved.getStringList("akka.cluster.seed-nodes").isEmpty();
    return resolved.withValue(CLUSTER_PORT, com.typesafe.config.ConfigValueFactory.fromAnyRef(lone ? 0 : DEFAULT_CLUSTER_PORT));
  }
}
