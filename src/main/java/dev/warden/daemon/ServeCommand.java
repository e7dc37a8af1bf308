package dev.warden.daemon;

import akka.actor.CoordinatedShutdown;
import akka.actor.typed.javadsl.Adapter;
import dev.warden.cli.Cli;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code warden serve [--config FILE]}: the daemon, in the foreground until a signal stops it. */
@Command(name = "serve", description = "Run the daemon in the foreground (bin/warden builds it first if needed).",
    footer = "Exit status: 0 stopped by a signal (Ctrl-C, SIGTERM), 1 it failed to start or stopped by itself, 2 bad arguments.")
public final class ServeCommand implements Callable<Integer> {

  @Option(names = "--config", paramLabel = "FILE", description = "a HOCON file over the defaults (default: $WARDEN_CONFIG)")
  Path config;

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "show this usage and exit")
  boolean help;

  private final Cli.Context context;

  public ServeCommand(Cli.Context context) {
    this.context = context;
  }

  @Override
  public Integer call() {
    Optional<Path> configFile = Optional.ofNullable(config)
        .or(() -> Optional.ofNullable(context.env().get("WARDEN_CONFIG")).filter(s -> !s.isBlank()).map(Path::of));
    WardenDaemon daemon;
    try {
      daemon = WardenDaemon.start(WardenConfig.load(configFile));
    } catch (RuntimeException e) {
      context.err().println("warden: " + e.getMessage());
      return 1;
    }
    // SIGTERM / Ctrl-C run the JVM's shutdown hooks; Akka's hook runs CoordinatedShutdown.
    daemon.system().getWhenTerminated().toCompletableFuture().join();
    // Stopped by a signal: a clean exit. Stopped by itself (a failure, a lost cluster): let systemd restart it.
    Optional<CoordinatedShutdown.Reason> reason = CoordinatedShutdown.get(Adapter.toClassic(daemon.system())).getShutdownReason();
    boolean bySignal = reason.isPresent() && reason.get() == CoordinatedShutdown.jvmExitReason();
    if (!bySignal) {
      context.err().println("warden: the daemon stopped by itself (" + reason.map(Object::toString).orElse("unknown reason") + ")");
    }
    return bySignal ? 0 : 1;
  }
}
