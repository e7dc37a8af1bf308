package dev.warden.cli;

import dev.warden.cli.Cli.UsageError;
import dev.warden.feature.FeatureId;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * The arguments of {@code warden agent --feature ID [--title T] [--no-sandbox] [--server URL]
 * [--token T] -- <command...>}: options end at {@code --} or at the first argument that is not one,
 * and everything from there is the command, as it is. Runs an {@link AgentCommand} with them.
 */
@Command(name = "agent",
    description = "Run an agent CLI under Warden, in its feature's worktree, and speak warden.agent.v1 for it"
        + " (docs/agent-protocol.md).",
    footer = {"Exit status: the command's (128+N when signal N ended it), 2 bad arguments,",
        "3 Warden refused or is unreachable (the command is not started), 1 the wrapper failed,", "130 interrupted."})
public final class AgentArguments implements Callable<Integer>, Cli.Configured, Cli.Unmatched {

  @Option(names = "--feature", paramLabel = "ID",
      description = "the feature to work on; the command runs in its worktree, under bubblewrap")
  String feature;

  @Option(names = "--title", paramLabel = "TEXT", description = "the title its proposal gets when the command exits 0:"
      + " the subject of the commit that lands it (default: Work on feature ID)")
  String title;

  @Option(names = "--no-sandbox", description = "run the command without the sandbox (the feature is marked unsandboxed)")
  boolean noSandbox;

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "show this usage and exit")
  boolean help;

  @Mixin
  ServerOptions.Given given = new ServerOptions.Given();

  @Parameters(paramLabel = "COMMAND", arity = "0..*", description = "the command to run and its arguments, after --")
  List<String> command = new ArrayList<>();

  @Spec
  CommandSpec spec;

  private final Cli.Context context;
  private final Optional<AgentCommand> agent;

  /** As {@code bin/warden agent} runs it: with the default timings. */
  AgentArguments(Cli.Context context) {
    this.context = context;
    this.agent = Optional.empty();
  }

  /** Runs {@code agent} (tests give it shorter timings). */
  AgentArguments(Cli.Context context, AgentCommand agent) {
    this.context = context;
    this.agent = Optional.of(agent);
  }

  @Override
  public void configure(CommandLine commandLine) {
    commandLine.setStopAtPositional(true);
  }

  @Override
  public String unmatched(String arg) {
    return "unknown option '" + arg + "' (the command goes after --)";
  }

  @Override
  public Integer call() {
    AgentCommand.Options options;
    try {
      options = options();
    } catch (UsageError e) {
      return Cli.usageError(spec.commandLine(), e.getMessage(), context.err());
    }
    return agent.orElseGet(() -> new AgentCommand(context.out(), context.err(), context.env(), context.cwd(),
        AgentCommand.Tuning.defaults())).execute(options);
  }

  /** What the arguments ask for, once they are known to be good. */
  AgentCommand.Options options() throws UsageError {
    Cli.given("--feature", feature);
    Optional<String> oneLine = Optional.ofNullable(Cli.given("--title", title)).map(String::strip);
    if (oneLine.filter(t -> t.contains("\n") || t.contains("\r")).isPresent()) {
      throw new UsageError("--title must be one line");
    }
    if (feature == null) {
      throw new UsageError("--feature ID is required");
    }
    if (!FeatureId.isValid(feature)) {
      throw new UsageError("--feature '" + feature + "' is not a feature id (a lowercase slug such as login-form)");
    }
    if (command.isEmpty() || command.get(0).isBlank()) {
      throw new UsageError("no command to run: put it after --");
    }
    return new AgentCommand.Options(feature, given.resolve(context.env(), context.cwd()), List.copyOf(command), noSandbox,
        oneLine);
  }
}
