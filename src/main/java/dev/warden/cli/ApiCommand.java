package dev.warden.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.warden.cli.Cli.UsageError;
import java.io.PrintStream;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * One invocation of a client command ({@code approvals}, {@code approve}, {@code reject},
 * {@code features}, {@code status}) once its arguments are read: a single request to Warden's API and
 * how to show the answer. Also what those commands share: the common options, and how a refusal or
 * an absent daemon reads and exits.
 *
 * <p>Commands turn their arguments into an {@code ApiCommand} with pure functions and render answers
 * with pure functions, so they are tested without HTTP; {@link #perform} is the only part that talks.
 */
record ApiCommand(ServerOptions warden, String method, String path, Optional<String> body, String role, boolean json,
    Render render, Optional<Follow> follow) {

  ApiCommand(ServerOptions warden, String method, String path, Optional<String> body, String role, boolean json, Render render) {
    this(warden, method, path, body, role, json, render, Optional.empty());
  }

  /** The same request, its answer then followed with {@code follow}. */
  ApiCommand following(Follow follow) {
    return new ApiCommand(warden, method, path, body, role, json, render, Optional.of(follow));
  }

  /**
   * After a successful answer, {@code GET path} every {@code poll} while {@code waiting} holds for the
   * latest answer (at most {@code limit}), saying so once on standard error with {@code progress}; the
   * last answer is then shown instead of the first. {@code failed}: a last answer that exits 1.
   */
  record Follow(String path, java.util.function.Predicate<JsonNode> waiting, java.util.function.Function<JsonNode, String> progress,
      java.util.function.Predicate<JsonNode> failed, java.time.Duration poll, java.time.Duration limit) {}

  static final int EXIT_OK = 0;
  static final int EXIT_FAILED = 1;
  static final int EXIT_USAGE = 2;
  static final int EXIT_REFUSED = 3;
  static final int EXIT_INTERRUPTED = 130;

  /** The footer of every client command's usage. */
  static final String EXIT_STATUS =
      "Exit status: 0 done, 1 Warden unreachable or failing (5xx), 2 bad arguments, 3 Warden refused (4xx).";

  /** Shows a successful answer. */
  interface Render {
    String render(JsonNode answer, Instant now);
  }

  /** Reads one command's arguments: empty for {@code --help}. How the commands are tested without HTTP. */
  interface Parser {
    Optional<ApiCommand> parse(String[] args, Map<String, String> env, Path cwd) throws UsageError;
  }

  /** A client command once picocli has read its arguments: the request they ask for. */
  interface Request {
    ApiCommand request() throws UsageError;
  }

  /** Reads {@code args} into {@code command}; the request, or empty for {@code --help}. Nothing is sent. */
  static Optional<ApiCommand> parse(Request command, String[] args) throws UsageError {
    boolean help;
    try {
      help = Cli.parse(command, args);
    } catch (CommandLine.ParameterException e) {
      throw new UsageError(Cli.message(e));
    }
    return help ? Optional.empty() : Optional.of(command.request());
  }

  /** The request {@code command} asks for, performed: usage errors exit 2 before any request. */
  static int run(CommandSpec spec, Cli.Context context, Request command) {
    ApiCommand request;
    try {
      request = command.request();
    } catch (UsageError e) {
      return Cli.usageError(spec.commandLine(), e.getMessage(), context.err());
    }
    return request.perform(WardenClient.httpClient(), spec.name(), context.out(), context.err());
  }

  int perform(HttpClient http, String name, PrintStream out, PrintStream err) {
    WardenClient client = new WardenClient(http, warden);
    String answer;
    try {
      answer = method.equals("POST") ? client.post(path, body.orElse("{}")) : client.get(path);
    } catch (WardenClient.Unreachable e) {
      err.println("warden: " + e.getMessage());
      return EXIT_FAILED;
    } catch (WardenClient.Problem e) {
      err.println("warden: " + e.getMessage());
      hint(name, e.status()).ifPresent(hint -> err.println("warden: " + hint));
      return e.refused() ? EXIT_REFUSED : EXIT_FAILED;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return EXIT_INTERRUPTED;
    }
    Optional<JsonNode> document = AgentProtocol.parse(answer);
    int exit = EXIT_OK;
    if (follow.isPresent() && document.isPresent() && follow.get().waiting().test(document.get())) {
      Followed followed;
      try {
        followed = follow(client, follow.get(), answer, document.get(), err);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return EXIT_INTERRUPTED;
      }
      if (followed.exit() != EXIT_OK) {
        return followed.exit();
      }
      answer = followed.answer();
      document = AgentProtocol.parse(answer);
      exit = document.filter(follow.get().failed()).isPresent() ? EXIT_FAILED : EXIT_OK;
    }
    if (json) {
      out.println(answer.strip());
      return exit;
    }
    if (document.isEmpty()) {
      err.println("warden: Warden's answer is not a JSON object: " + Answer.abbreviate(answer.strip(), 200));
      return EXIT_FAILED;
    }
    out.print(render.render(document.get(), Instant.now()));
    return exit;
  }

  private record Followed(String answer, int exit) {}

  /** Polls {@code follow.path} until its answer no longer waits, or the limit: the last answer. */
  private static Followed follow(WardenClient client, Follow follow, String answer, JsonNode document, PrintStream err)
      throws InterruptedException {
    err.println("warden: " + follow.progress().apply(document));
    long deadline = System.nanoTime() + follow.limit().toNanos();
    while (follow.waiting().test(document)) {
      if (System.nanoTime() - deadline > 0) {
        err.println("warden: still waiting after " + follow.limit().toSeconds() + " s; it goes on without this command"
            + " (see warden status)");
        return new Followed(answer, EXIT_OK);
      }
      Thread.sleep(follow.poll().toMillis());
      try {
        answer = client.get(follow.path());
      } catch (WardenClient.Unreachable | WardenClient.Problem e) {
        err.println("warden: the request was done, but following it failed: " + e.getMessage());
        return new Followed(answer, EXIT_FAILED);
      }
      Optional<JsonNode> next = AgentProtocol.parse(answer);
      if (next.isEmpty()) {
        break;
      }
      document = next.get();
    }
    return new Followed(answer, EXIT_OK);
  }

  /** What to do about a 401 or 403. */
  Optional<String> hint(String name, int status) {
    return switch (status) {
      case 401 -> Optional.of("Warden does not know the token from " + warden.tokenSource()
          + "; pass one it knows with --token or WARDEN_TOKEN");
      case 403 -> Optional.of(name + " needs " + ServerOptions.article(role) + " " + role + " token"
          + (role.equals("admin") ? "" : " or a stronger one") + "; the token from " + warden.tokenSource() + " is weaker");
      default -> Optional.empty();
    };
  }

  /**
   * The options every client command takes: {@code --json}, {@code --server}, {@code --token},
   * {@code --help}; the {@link Cli.Context} the request reads its environment from.
   */
  static final class Common {
    @Option(names = "--json", description = "print Warden's JSON answer as it came")
    boolean json;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "show this usage and exit")
    boolean help;

    @Mixin
    ServerOptions.Given given = new ServerOptions.Given();

    /** A GET of {@code path}, once the command's own arguments are known to be good. */
    ApiCommand get(Cli.Context context, String path, String role, Render render) throws UsageError {
      return new ApiCommand(given.resolve(context.env(), context.cwd()), "GET", path, Optional.empty(), role, json, render);
    }

    ApiCommand post(Cli.Context context, String path, String body, String role, Render render) throws UsageError {
      return new ApiCommand(given.resolve(context.env(), context.cwd()), "POST", path, Optional.of(body), role, json, render);
    }
  }

  /** A client command: the common options, the {@link Cli.Context} it runs in, one request performed. */
  abstract static class Client implements Callable<Integer>, Request {
    @Mixin
    Common common;

    @Spec
    CommandSpec spec;

    final Cli.Context context;

    Client(Cli.Context context) {
      this.context = context;
    }

    @Override
    public Integer call() {
      return run(spec, context, this);
    }

    ApiCommand get(String path, String role, Render render) throws UsageError {
      return common.get(context, path, role, render);
    }

    ApiCommand post(String path, String body, String role, Render render) throws UsageError {
      return common.post(context, path, body, role, render);
    }
  }

  /**
   * A list command ({@code approvals}, {@code features}): {@code [--status S]} (declared by each, for
   * its usage), no operands, one GET of {@code path}. {@code statuses} are the values {@code --status} takes.
   */
  abstract static class ListCommand extends Client implements Cli.Unmatched, Cli.Configured {
    private final String things;
    private final List<String> statuses;
    private final String path;
    private final Render table;
    private CommandLine.Model.OptionSpec statusOption;

    /** Lists {@code things} ("features") from {@code path}; {@code --status} takes one of {@code statuses}. */
    ListCommand(Cli.Context context, String things, List<String> statuses, String path, Render table) {
      super(context);
      this.things = things;
      this.statuses = statuses;
      this.path = path;
      this.table = table;
    }

    /** {@code --status S}, its values those of this list, shown in the usage. */
    @Override
    public void configure(CommandLine commandLine) {
      statusOption = CommandLine.Model.OptionSpec.builder("--status").paramLabel("S").type(String.class)
          .completionCandidates(statuses)
          .description("only the " + things + " in status S: " + String.join(", ", statuses)).build();
      commandLine.getCommandSpec().addOption(statusOption);
    }

    /** {@code --status}, when given. */
    String status() {
      return statusOption == null ? null : statusOption.getValue();
    }

    @Override
    public ApiCommand request() throws UsageError {
      String status = Cli.given("--status", status());
      if (status != null && !statuses.contains(status)) {
        throw new UsageError("--status '" + status + "' is not one of " + String.join(", ", statuses));
      }
      return get(status == null ? path : path + "?status=" + status, "viewer", table);
    }

    @Override
    public String unmatched(String arg) {
      return ApiCommand.unmatched(arg);
    }
  }

  /** What a list command says about an argument it does not take. */
  static String unmatched(String arg) {
    return arg.startsWith("-") && arg.length() > 1 ? "unknown option '" + arg + "'"
        : "unexpected argument '" + arg + "' (to see one: warden status ID)";
  }

  /** The operands given: {@code first} (when given) and {@code more}. */
  static List<String> operands(String first, List<String> more) {
    List<String> operands = new java.util.ArrayList<>();
    if (first != null) {
      operands.add(first);
    }
    operands.addAll(more);
    return operands;
  }

  /** Exactly one operand, named {@code what} in the usage. */
  static String single(List<String> operands, String what) throws UsageError {
    if (operands.isEmpty()) {
      throw new UsageError(what + " is required");
    }
    if (operands.size() > 1) {
      throw new UsageError("one " + what + " only, not also '" + operands.get(1) + "'");
    }
    return operands.get(0);
  }
}
