package dev.warden.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warden.cli.Cli.UsageError;
import java.io.IOException;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code warden ask [--timeout SECONDS] TEXT...}: run by an agent's command under
 * {@code warden agent}, asks a person through the wrapper ({@link AskChannel}, the socket named in
 * {@value AskChannel#VARIABLE}) and prints the answer on stdout. It holds no token and needs none:
 * the wrapper's connection to Warden carries the question.
 */
@Command(name = "ask",
    description = "From a command run under `warden agent`: ask a person through the wrapper and print the answer."
        + " It needs no token: the wrapper's connection to Warden carries the question.",
    footer = {"Exit status: 0 the answer is printed, 2 bad arguments, 3 no wrapper to ask through or the question",
        "was refused (Warden or the wrapper said why), 4 no answer within the timeout."})
public final class AskCommand implements Callable<Integer>, Cli.Configured {

  @Option(names = "--timeout", paramLabel = "SECONDS", description = "give up after this long without an answer (default 3600)")
  String timeoutSeconds;

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "show this usage and exit")
  boolean help;

  @Parameters(paramLabel = "TEXT", arity = "0..*", description = "the question (its words are joined by spaces)")
  List<String> words = new ArrayList<>();

  @Spec
  CommandSpec spec;

  @Override
  public void configure(picocli.CommandLine commandLine) {
    commandLine.setStopAtPositional(true); // a word of the question that starts with -- is a word
  }


  static final int EXIT_USAGE = 2;
  static final int EXIT_REFUSED = 3;
  static final int EXIT_TIMEOUT = 4;
  static final Duration DEFAULT_TIMEOUT = Duration.ofHours(1);

  private static final ObjectMapper JSON = new ObjectMapper();

  private final PrintStream out;
  private final PrintStream err;
  private final Map<String, String> env;

  /** As {@code bin/warden ask} runs it. */
  public AskCommand(Cli.Context context) {
    this(context.out(), context.err(), context.env());
  }

  AskCommand(PrintStream out, PrintStream err, Map<String, String> env) {
    this.out = out;
    this.err = err;
    this.env = env;
  }

  record Options(String text, Duration timeout) {}

  /** Runs {@code warden ask} with the arguments after the word {@code ask}; returns the exit status. */
  int execute(String... args) {
    return Cli.execute(Cli.standalone(new Cli.Context(out, err, env, Path.of("").toAbsolutePath()), this),
        prepend("ask", args));
  }

  private static String[] prepend(String first, String[] rest) {
    String[] line = new String[rest.length + 1];
    line[0] = first;
    System.arraycopy(rest, 0, line, 1, rest.length);
    return line;
  }

  @Override
  public Integer call() {
    Options options;
    try {
      options = options();
    } catch (UsageError e) {
      return Cli.usageError(spec.commandLine(), e.getMessage(), err);
    }
    String socket = env.get(AskChannel.VARIABLE);
    if (socket == null || socket.isBlank()) {
      err.println("warden ask: no wrapper to ask through: " + AskChannel.VARIABLE + " is not set"
          + " (run the agent under `warden agent --feature ID -- ...`)");
      return EXIT_REFUSED;
    }
    return ask(Path.of(socket), options);
  }

  /** What the arguments ask for, once they are known to be good. */
  Options options() throws UsageError {
    Duration timeout = DEFAULT_TIMEOUT;
    String value = Cli.given("--timeout", timeoutSeconds);
    if (value != null) {
      try {
        long seconds = Long.parseLong(value);
        if (seconds <= 0) {
          throw new NumberFormatException();
        }
        timeout = Duration.ofSeconds(seconds);
      } catch (NumberFormatException e) {
        throw new UsageError("--timeout takes a whole number of seconds above 0, not '" + value + "'");
      }
    }
    String text = String.join(" ", words).strip();
    if (text.isEmpty()) {
      throw new UsageError("no question to ask");
    }
    int bytes = text.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > AskChannel.MAX_TEXT_BYTES) {
      throw new UsageError("the question is " + bytes + " bytes; Warden takes at most " + AskChannel.MAX_TEXT_BYTES);
    }
    return new Options(text, timeout);
  }

  private int ask(Path socket, Options options) {
    SocketChannel channel;
    try {
      channel = SocketChannel.open(StandardProtocolFamily.UNIX);
      channel.connect(UnixDomainSocketAddress.of(socket));
    } catch (IOException | RuntimeException e) {
      err.println("warden ask: cannot reach the wrapper at " + socket + " (" + AgentLink.describe(e)
          + "); is the command still running under `warden agent`?");
      return EXIT_REFUSED;
    }
    AtomicBoolean timedOut = new AtomicBoolean();
    ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(runnable -> {
      Thread thread = new Thread(runnable, "warden-ask-timeout");
      thread.setDaemon(true);
      return thread;
    });
    timer.schedule(() -> {
      timedOut.set(true);
      try {
        channel.close(); // the wrapper sees the hang-up and lets the next question go
      } catch (IOException e) {
        // closed anyway
      }
    }, options.timeout().toMillis(), TimeUnit.MILLISECONDS);
    try (channel) {
      ByteBuffer request = ByteBuffer.wrap((JSON.createObjectNode().put("text", options.text()) + "\n")
          .getBytes(StandardCharsets.UTF_8));
      while (request.hasRemaining()) {
        channel.write(request);
      }
      Optional<String> line = AskChannel.readLine(Channels.newInputStream(channel));
      JsonNode reply = line.flatMap(AgentProtocol::parse).orElse(null);
      if (reply == null || line.get().isEmpty()) {
        if (timedOut.get()) {
          return timeout(options);
        }
        err.println("warden ask: the wrapper hung up without an answer");
        return EXIT_REFUSED;
      }
      Optional<String> answer = AgentProtocol.text(reply, "answer");
      if (answer.isPresent()) {
        out.println(answer.get());
        out.flush();
        return 0;
      }
      err.println("warden ask: refused: " + AgentProtocol.text(reply, "refused").orElse("(no reason given)"));
      return EXIT_REFUSED;
    } catch (IOException e) {
      if (timedOut.get()) {
        return timeout(options);
      }
      err.println("warden ask: lost the wrapper (" + AgentLink.describe(e) + ")");
      return EXIT_REFUSED;
    } finally {
      timer.shutdownNow();
    }
  }

  private int timeout(Options options) {
    err.println("warden ask: no answer within " + options.timeout().toSeconds() + " s (--timeout); the question stays"
        + " open on the dashboard, but its answer will not reach this command");
    return EXIT_TIMEOUT;
  }
}
