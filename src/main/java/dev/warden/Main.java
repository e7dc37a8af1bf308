package dev.warden;

import dev.warden.bench.BenchCommand;
import dev.warden.daemon.ServeCommand;
import dev.warden.cli.AgentArguments;
import dev.warden.cli.AskCommand;
import dev.warden.cli.ApprovalCommands;
import dev.warden.cli.Cli;
import dev.warden.cli.FeatureCommands;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code warden} command line: one picocli tree ({@link Cli} reads arguments alike for every
 * command). A new command is one class, listed in {@code subcommands} below; {@code warden help} and
 * {@code warden <command> --help} are generated from the annotations. Without a command, {@code serve}.
 */
@Command(name = "warden", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = "Warden supervises AI coding agents: each works on a feature in its own worktree, under checkpoints,"
        + " validation and approvals. See README.md and docs/operations.md, \"The command line\".",
    subcommands = {
        ServeCommand.class,
        AgentArguments.class,
        AskCommand.class,
        FeatureCommands.Features.class,
        FeatureCommands.Status.class,
        ApprovalCommands.Approvals.class,
        ApprovalCommands.Approve.class,
        ApprovalCommands.Reject.class,
        BenchCommand.class,
        Main.VersionCommand.class,
        CommandLine.HelpCommand.class,
    },
    footer = {"The API clients (features, status, approvals, approve, reject) and agent take --server URL and --token T.",
        "Environment: WARDEN_HTTP_HOST, WARDEN_HTTP_PORT, WARDEN_DATA_DIR, WARDEN_DB_URL, WARDEN_DB_USER,",
        "WARDEN_DB_PASSWORD, WARDEN_CONFIG, WARDEN_CLUSTER_HOST, WARDEN_CLUSTER_PORT, WARDEN_JAVA_OPTS,",
        "WARDEN_URL and WARDEN_TOKEN (agent and the API clients). See README.md and conf/warden.conf."})
public final class Main implements Callable<Integer> {

  private final Cli.Context context;

  Main(Cli.Context context) {
    this.context = context;
  }

  public static void main(String[] args) {
    System.exit(run(Cli.Context.system(), args));
  }

  /** Runs one command line; the exit status. */
  static int run(Cli.Context context, String... args) {
    return Cli.execute(Cli.tree(new Main(context), context), args);
  }

  /** {@code warden} alone: the daemon, as {@code warden serve}. */
  @Override
  public Integer call() {
    return new ServeCommand(context).call();
  }

  /** {@code warden version}. */
  @Command(name = "version", description = "Print the version.")
  static final class VersionCommand implements Callable<Integer> {
    private final Cli.Context context;

    VersionCommand(Cli.Context context) {
      this.context = context;
    }

    @Override
    public Integer call() {
      context.out().println("warden " + version());
      return 0;
    }
  }

  /** {@code warden --version}. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"warden " + version()};
    }
  }

  static String version() {
    String version = Main.class.getPackage().getImplementationVersion();
    return version == null ? "dev" : version;
  }
}
