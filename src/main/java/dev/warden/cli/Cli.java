package dev.warden.cli;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.lang.reflect.Constructor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Help.Ansi;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;

/**
 * How every {@code bin/warden} command reads its arguments: one picocli tree, configured here alike
 * for every command. An option takes its value as {@code --name VALUE} or {@code --name=VALUE}, the
 * next argument whatever it looks like; a value is never blank; the last of a repeated option wins;
 * {@code @file} is an argument like any other. Bad arguments print {@code warden <cmd>: <why>} and the
 * command's usage on standard error and exit 2; {@code --help} prints the usage on standard output.
 *
 * <p>Adding a command is one class: annotate it with {@code @Command(name = ...)}, implement
 * {@code Callable<Integer>} (the exit status), give it a constructor taking a {@link Context} if it
 * prints or reads the environment, and list it in the {@code subcommands} of {@code dev.warden.Main}.
 */
public final class Cli {

  private Cli() {}

  /** Where a command prints, the environment it reads, the directory it runs in. */
  public record Context(PrintStream out, PrintStream err, Map<String, String> env, Path cwd) {

    /** The JVM's own. */
    public static Context system() {
      return new Context(System.out, System.err, System.getenv(), Path.of("").toAbsolutePath());
    }
  }

  /** Bad arguments: the command prints why and its usage, and exits 2. */
  public static final class UsageError extends Exception {
    public UsageError(String message) {
      super(message);
    }
  }

  /** A command that needs its parser set up its own way (the agent stops reading options at its command). */
  public interface Configured {
    void configure(CommandLine commandLine);
  }

  static final int EXIT_USAGE = 2;

  /** The tree rooted at {@code root}, its commands built with their {@link Context}, configured alike. */
  public static CommandLine tree(Object root, Context context) {
    CommandLine commandLine = new CommandLine(root, factory(context));
    configure(commandLine, context);
    return commandLine;
  }

  /**
   * A tree of {@code warden} and the given commands only: how a client command is run and tested on
   * its own, with the same synopsis ({@code warden approve ...}) as in the full tree.
   */
  static CommandLine standalone(Context context, Object... commands) {
    CommandLine root = new CommandLine(new Root(), factory(context));
    for (Object command : commands) {
      root.addSubcommand(new CommandLine(command, factory(context)));
    }
    configure(root, context);
    return root;
  }

  /** {@code command} as the one command of a standalone tree: to read arguments, or print its usage. */
  static CommandLine command(Object command) {
    return standalone(Context.system(), command).getSubcommands().values().iterator().next();
  }

  /**
   * Reads {@code args} into {@code command} (the fields picocli sets) without running it: true when
   * {@code --help} was asked. Bad arguments throw.
   */
  static boolean parse(Object command, String... args) {
    CommandLine root = standalone(Context.system(), command);
    String[] line = new String[args.length + 1];
    line[0] = root.getSubcommands().keySet().iterator().next();
    System.arraycopy(args, 0, line, 1, args.length);
    return root.parseArgs(line).subcommand().isUsageHelpRequested();
  }

  @CommandLine.Command(name = "warden")
  private static final class Root {}

  /** Runs the tree on {@code args}; the exit status. */
  public static int execute(CommandLine tree, String... args) {
    return tree.execute(args);
  }

  /** The usage {@code --help} prints, without its last line break. */
  public static String usage(CommandLine commandLine) {
    return commandLine.getUsageMessage(Ansi.OFF).stripTrailing();
  }

  /** {@code value} when given: never blank ({@code --reason=} or {@code --reason " "} is an error). */
  static String given(String option, String value) throws UsageError {
    if (value != null && value.isBlank()) {
      throw new UsageError(option + " needs a value");
    }
    return value;
  }

  /** Why the arguments are bad, in this project's words: the option or argument named. */
  static String message(ParameterException e) {
    if (e instanceof CommandLine.UnmatchedArgumentException unmatched && !unmatched.getUnmatched().isEmpty()) {
      String arg = unmatched.getUnmatched().get(0);
      Object command = e.getCommandLine().getCommand();
      if (command instanceof Unmatched hint) {
        return hint.unmatched(arg);
      }
      if (arg.startsWith("-") && arg.length() > 1) {
        return "unknown option '" + arg + "'";
      }
      return e.getCommandLine().getSubcommands().isEmpty() ? "unexpected argument '" + arg + "'" : "unknown command '" + arg + "'";
    }
    if (e instanceof CommandLine.MissingParameterException missing && !missing.getMissing().isEmpty()) {
      ArgSpec arg = missing.getMissing().get(0);
      if (arg instanceof OptionSpec option) {
        return option.longestName() + " needs a value";
      }
      return arg.paramLabel() + " is required";
    }
    return e.getMessage();
  }

  /** A command that words an unknown option or an unexpected argument its own way. */
  interface Unmatched {
    String unmatched(String arg);
  }

  /** Prints {@code warden <cmd>: <why>} and the command's usage on standard error: exit 2. */
  static int usageError(CommandLine commandLine, String why, PrintStream err) {
    err.println(commandLine.getCommandSpec().qualifiedName() + ": " + why);
    err.println(usage(commandLine));
    return EXIT_USAGE;
  }

  private static void configure(CommandLine root, Context context) {
    root.setOut(new PrintWriter(context.out(), true, StandardCharsets.UTF_8));
    root.setErr(new PrintWriter(context.err(), true, StandardCharsets.UTF_8));
    root.setExpandAtFiles(false);
    root.setOverwrittenOptionsAllowed(true);
    root.setAllowOptionsAsOptionParameters(true);
    root.setUsageHelpWidth(100);
    root.setParameterExceptionHandler((e, args) -> usageError(e.getCommandLine(), message(e), context.err()));
    root.setExecutionExceptionHandler((e, commandLine, parsed) -> {
      context.err().println(commandLine.getCommandSpec().qualifiedName() + ": " + e);
      e.printStackTrace(context.err());
      return 1;
    });
    each(root);
  }

  private static void each(CommandLine commandLine) {
    commandLine.getCommandSpec().usageMessage().synopsisHeading("usage: ").commandListHeading("%nCommands:%n")
        .optionListHeading("%n").parameterListHeading("%n").descriptionHeading("%n").footerHeading("%n");
    if (commandLine.getCommand() instanceof Configured configured) {
      configured.configure(commandLine);
    }
    commandLine.getSubcommands().values().forEach(Cli::each);
  }

  /** Builds commands with a constructor taking a {@link Context} when they have one. */
  private static CommandLine.IFactory factory(Context context) {
    CommandLine.IFactory fallback = CommandLine.defaultFactory();
    return new CommandLine.IFactory() {
      @Override
      public <K> K create(Class<K> type) throws Exception {
        Constructor<K> constructor;
        try {
          constructor = type.getDeclaredConstructor(Context.class);
        } catch (NoSuchMethodException e) {
          return fallback.create(type);
        }
        constructor.setAccessible(true);
        return constructor.newInstance(context);
      }
    };
  }
}
