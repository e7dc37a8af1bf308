package dev.warden;

import dev.warden.daemon.WardenConfig;
import dev.warden.daemon.WardenDaemon;
import java.nio.file.Path;
import java.util.Optional;

/** {@code warden serve [--config FILE]} and {@code warden version}. */
public final class Main {

  private Main() {}

  public static void main(String[] args) {
    String command = args.length == 0 ? "serve" : args[0];
    switch (command) {
      case "serve" -> serve(args);
      case "version", "--version" -> System.out.println("warden " + version());
      default -> {
        System.err.println("usage: warden serve [--config FILE] | warden version");
        System.exit(2);
      }
    }
  }

  private static void serve(String[] args) {
    Optional<Path> configFile = Optional.ofNullable(System.getenv("WARDEN_CONFIG")).filter(s -> !s.isBlank()).map(Path::of);
    for (int i = 1; i < args.length; i++) {
      if (args[i].equals("--config") && i + 1 < args.length) {
        configFile = Optional.of(Path.of(args[++i]));
      } else {
        System.err.println("warden serve: unknown argument '" + args[i] + "' (usage: warden serve [--config FILE])");
        System.exit(2);
      }
    }
    WardenDaemon daemon;
    try {
      daemon = WardenDaemon.start(WardenConfig.load(configFile));
    } catch (RuntimeException e) {
      System.err.println("warden: " + e.getMessage());
      System.exit(1);
      return;
    }
    // SIGTERM / Ctrl-C run the JVM's shutdown hooks; Akka's hook runs CoordinatedShutdown.
    daemon.system().getWhenTerminated().toCompletableFuture().join();
  }

  static String version() {
    String version = Main.class.getPackage().getImplementationVersion();
    return version == null ? "dev" : version;
  }
}
