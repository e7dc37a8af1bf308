package dev.warden.daemon;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import dev.warden.auth.Role;
import dev.warden.auth.TokenRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The {@code warden} config subtree, read and checked once at boot and passed down. A missing or bad
 * key stops startup with the key's path in the message.
 */
public record WardenSettings(
    Path dataDir,
    String httpHost,
    int httpPort,
    long maxBodyBytes,
    Duration askTimeout,
    List<Path> allowedRoots,
    List<TokenRegistry.Entry> tokens,
    String gitExecutable,
    Duration gitCommandTimeout,
    Duration runTokenTtl) {

  public WardenSettings {
    allowedRoots = List.copyOf(allowedRoots);
    tokens = List.copyOf(tokens);
  }

  public static WardenSettings fromConfig(Config config) {
    Config w = config.getConfig("warden");
    Path dataDir = Path.of(nonBlank(w, "data-dir")).toAbsolutePath().normalize();
    int port = w.getInt("http.port");
    if (port < 0 || port > 65535) {
      throw new ConfigException.BadValue("warden.http.port", "must be 0..65535, got " + port);
    }
    long maxBody = w.getBytes("http.max-body-bytes");
    if (maxBody <= 0) {
      throw new ConfigException.BadValue("warden.http.max-body-bytes", "must be positive");
    }
    List<Path> roots = new ArrayList<>();
    for (String root : w.getStringList("repositories.allowed-roots")) {
      Path path = Path.of(root);
      if (!path.isAbsolute()) {
        throw new ConfigException.BadValue("warden.repositories.allowed-roots", "must be absolute paths, got " + root);
      }
      roots.add(path.normalize());
    }
    return new WardenSettings(
        dataDir,
        nonBlank(w, "http.host"),
        port,
        maxBody,
        positive(w, "http.ask-timeout"),
        roots,
        tokens(w),
        nonBlank(w, "git.executable"),
        positive(w, "git.command-timeout"),
        positive(w, "auth.run-token-ttl"));
  }

  private static List<TokenRegistry.Entry> tokens(Config w) {
    List<TokenRegistry.Entry> entries = new ArrayList<>();
    List<? extends Config> configured = w.getConfigList("auth.tokens");
    for (int i = 0; i < configured.size(); i++) {
      Config token = configured.get(i);
      String path = "warden.auth.tokens[" + i + "]";
      try {
        byte[] digest = HexFormat.of().parseHex(token.getString("sha256").trim().toLowerCase());
        java.util.Set<String> features = new java.util.LinkedHashSet<>();
        if (token.hasPath("features")) {
          for (String feature : token.getStringList("features")) {
            if (!dev.warden.feature.FeatureId.isValid(feature)) {
              throw new IllegalArgumentException("features: '" + feature + "' is not a feature id (a lowercase slug)");
            }
            features.add(feature);
          }
          if (features.isEmpty()) {
            throw new IllegalArgumentException("features: an empty list would bind the token to nothing; leave it out instead");
          }
        }
        entries.add(new TokenRegistry.Entry(token.getString("name"), Role.parse(token.getString("role")), digest, features));
      } catch (ConfigException.Missing e) {
        throw new ConfigException.BadValue(path, "needs name, role and sha256 (features is optional)");
      } catch (ConfigException.WrongType e) {
        throw new ConfigException.BadValue(path, "features must be a list of feature ids");
      } catch (IllegalArgumentException e) {
        throw new ConfigException.BadValue(path, e.getMessage());
      }
    }
    return entries;
  }

  private static String nonBlank(Config w, String key) {
    String value = w.getString(key);
    if (value.isBlank()) {
      throw new ConfigException.BadValue("warden." + key, "must not be empty");
    }
    return value;
  }

  private static Duration positive(Config w, String key) {
    Duration value = w.getDuration(key);
    if (value.isZero() || value.isNegative()) {
      throw new ConfigException.BadValue("warden." + key, "must be positive");
    }
    return value;
  }

  public Path worktreesDir() {
    return dataDir.resolve("worktrees");
  }
}
