package dev.warden;

import akka.actor.CoordinatedShutdown;
import akka.actor.typed.javadsl.Adapter;
import dev.warden.checkpoint.CheckpointBench;
import dev.warden.cli.AgentCommand;
import dev.warden.cli.ApprovalCommands;
import dev.warden.cli.FeatureCommands;
import dev.warden.daemon.WardenConfig;
import dev.warden.daemon.WardenDaemon;
import dev.warden.validate.ValidateBench;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;

/**
 * The {@code warden} command line: {@code serve}, {@code agent}, the API clients ({@code features},
 * {@code status}, {@code approvals}, {@code approve}, {@code reject}), {@code bench}, {@code version}.
 */
public final class Main {

  private static final String USAGE = """
      usage: warden serve [--config FILE]
             warden agent --feature ID [--title TEXT] [--no-sandbox] [--server URL] [--token T] -- <command...>
             warden ask [--timeout SECONDS] TEXT...   (from a command under warden agent)
             warden features [--status S] [--json]
             warden status ID [--json]
             warden approvals [--status S] [--json]
             warden approve ID [--reason TEXT] [--bypass] [--no-wait] [--json]
             warden reject ID --reason TEXT [--json]
             warden bench checkpoint [--files N] [--modify M] [--untracked U] [--runs R] [--json FILE]
             warden bench validate [--files N] [--runs R] [--json FILE]
             warden bench feed [--subscribers N] [--rate R] [--seconds S] [--json FILE]
             warden version""";

  private Main() {}

  public static void main(String[] args) {
    String command = args.length == 0 ? "serve" : args[0];
    String[] rest = args.length == 0 ? args : Arrays.copyOfRange(args, 1, args.length);
    int exit = switch (command) {
      case "serve" -> serve(rest);
      case "agent" -> AgentCommand.run(rest);
      case "ask" -> dev.warden.cli.AskCommand.run(rest);
      case "features", "status" -> FeatureCommands.run(args);
      case "approvals", "approve", "reject" -> ApprovalCommands.run(args);
      case "bench" -> bench(rest);
      case "version", "--version" -> {
        System.out.println("warden " + version());
        yield 0;
      }
      default -> {
        System.err.println(USAGE);
        yield 2;
      }
    };
    System.exit(exit);
  }

  private static int bench(String[] args) {
    if (args.length > 0 && args[0].equals("checkpoint")) {
      return CheckpointBench.run(Arrays.copyOfRange(args, 1, args.length));
    }
    if (args.length > 0 && args[0].equals("validate")) {
      return ValidateBench.run(Arrays.copyOfRange(args, 1, args.length));
    }
    if (args.length > 0 && args[0].equals("feed")) {
      return dev.warden.feed.FeedBench.run(Arrays.copyOfRange(args, 1, args.length));
    }
    System.err.println("usage: warden bench checkpoint|validate|feed [options]  (see docs/performance.md)");
    return 2;
  }

  private static int serve(String[] args) {
    Optional<Path> configFile = Optional.ofNullable(System.getenv("WARDEN_CONFIG")).filter(s -> !s.isBlank()).map(Path::of);
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--config") && i + 1 < args.length) {
        configFile = Optional.of(Path.of(args[++i]));
      } else {
        System.err.println("warden serve: unknown argument '" + args[i] + "' (usage: warden serve [--config FILE])");
        return 2;
      }
    }
    WardenDaemon daemon;
    try {
      daemon = WardenDaemon.start(WardenConfig.load(configFile));
    } catch (RuntimeException e) {
      System.err.println("warden: " + e.getMessage());
      return 1;
    }
    // SIGTERM / Ctrl-C run the JVM's shutdown hooks; Akka's hook runs CoordinatedShutdown.
    daemon.system().getWhenTerminated().toCompletableFuture().join();
    // Stopped by a signal: a clean exit. Stopped by itself (a failure, a lost cluster): let systemd restart it.
    Optional<CoordinatedShutdown.Reason> reason = CoordinatedShutdown.get(Adapter.toClassic(daemon.system())).getShutdownReason();
    boolean bySignal = reason.isPresent() && reason.get() == CoordinatedShutdown.jvmExitReason();
    if (!bySignal) {
      System.err.println("warden: the daemon stopped by itself (" + reason.map(Object::toString).orElse("unknown reason") + ")");
    }
    return bySignal ? 0 : 1;
  }

  static String version() {
    String version = Main.class.getPackage().getImplementationVersion();
    return version == null ? "dev" : version;
  }
}
