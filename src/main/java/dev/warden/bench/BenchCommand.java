package dev.warden.bench;

import dev.warden.cli.Cli;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code warden bench checkpoint|validate|feed [options]}: the benchmarks (docs/performance.md). Each
 * bench is a command of its own; nothing in the product imports this package.
 */
@Command(name = "bench", description = "Benchmarks; see docs/performance.md.",
    subcommands = {CheckpointBench.class, ValidateBench.class, FeedBench.class})
public final class BenchCommand implements Callable<Integer> {

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "show this usage and exit")
  boolean help;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    throw new ParameterException(spec.commandLine(), "name a bench: checkpoint, validate or feed");
  }

  /** {@code warden bench <name> args...} on its own (the benches' {@code main}, tests). */
  static int run(String name, String[] args) {
    String[] line = new String[args.length + 1];
    line[0] = name;
    System.arraycopy(args, 0, line, 1, args.length);
    return Cli.execute(Cli.tree(new BenchCommand(), Cli.Context.system()), line);
  }
}
