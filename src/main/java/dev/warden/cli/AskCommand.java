package dev.warden.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warden.cli.Arguments.UsageError;
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
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code warden ask [--timeout SECONDS] TEXT...}: run by an agent's command under
 * {@code warden agent}, asks a person through the wrapper ({@link AskChannel}, the socket named in
 * {@value AskChannel#VARIABLE}) and prints the answer on stdout. It holds no token and needs none:
 * the wrapper's connection to Warden carries the question.
 */
public final class AskCommand {

  static final String USAGE = """
      usage: warden ask [--timeout SECONDS] TEXT...
        Run by a command under `warden agent`: asks a person (the feature shows awaiting_input on the
        dashboard) and prints the answer on stdout. The words of TEXT are joined by spaces; at most 8 KiB.
        --timeout SECONDS  give up after this long without an answer (default 3600)

      Exit status: 0 the answer is on stdout, 2 bad arguments, 3 no wrapper to ask through, or the
      question was refused (Warden or the wrapper said why), 4 no answer within the timeout.""";

  static final int EXIT_USAGE = 2;
  static final int EXIT_REFUSED = 3;
  static final int EXIT_TIMEOUT = 4;
  static final Duration DEFAULT_TIMEOUT = Duration.ofHours(1);

  private static final ObjectMapper JSON = new ObjectMapper();

  private final PrintStream out;
  private final PrintStream err;
  private final Map<String, String> env;

  AskCommand(PrintStream out, PrintStream err, Map<String, String> env) {
    this.out = out;
    this.err = err;
    this.env = env;
  }

  /** Runs {@code warden ask} with the arguments after the word {@code ask}; returns the exit status. */
  public static int run(String[] args) {
    return new AskCommand(System.out, System.err, System.getenv()).execute(args);
  }

  record Options(String text, Duration timeout) {}

  int execute(String[] args) {
    Options options;
    try {
      Optional<Options> parsed = parse(args);
      if (parsed.isEmpty()) {
        out.println(USAGE);
        return 0;
      }
      options = parsed.get();
    } catch (UsageError e) {
      err.println("warden ask: " + e.getMessage());
      err.println(USAGE);
      return EXIT_USAGE;
    }
    String socket = env.get(AskChannel.VARIABLE);
    if (socket == null || socket.isBlank()) {
      err.println("warden ask: no wrapper to ask through: " + AskChannel.VARIABLE + " is not set"
          + " (run the agent under `warden agent --feature ID -- ...`)");
      return EXIT_REFUSED;
    }
    return ask(Path.of(socket), options);
  }

  Optional<Options> parse(String[] args) throws UsageError {
    Arguments arguments = new Arguments(args);
    Duration timeout = DEFAULT_TIMEOUT;
    List<String> words = new ArrayList<>();
    while (arguments.hasNext()) {
      String arg = arguments.next();
      if (arg.equals("--")) {
        words.addAll(arguments.afterCurrent());
        break;
      } else if (words.isEmpty() && (arg.equals("-h") || arg.equals("--help"))) {
        return Optional.empty();
      } else if (words.isEmpty() && arguments.isOption("--timeout")) {
        String value = arguments.value("--timeout");
        try {
          long seconds = Long.parseLong(value);
          if (seconds <= 0) {
            throw new NumberFormatException();
          }
          timeout = Duration.ofSeconds(seconds);
        } catch (NumberFormatException e) {
          throw new UsageError("--timeout takes a whole number of seconds above 0, not '" + value + "'");
        }
      } else if (words.isEmpty() && arg.startsWith("--")) {
        throw new UsageError("unknown option '" + arg + "'");
      } else {
        words.add(arg);
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
    return Optional.of(new Options(text, timeout));
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
