package dev.warden.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The wrapper's end of {@code warden ask} ({@link AskCommand}): a Unix domain socket in a private
 * (0700) directory that {@code warden agent} binds into the agent's sandbox and names in
 * {@value #VARIABLE}. A command asks by connecting and writing one JSON line
 * {@code {"text":"..."}}; the wrapper relays it to Warden as {@code question{id,text}} over its
 * agent link and writes back one line, {@code {"answer":"..."}} when a person answers, or
 * {@code {"refused":"..."}}, then closes. The command never holds a token: the link does.
 *
 * <p>What arrives here is the agent's, so hostile: a line is read only up to {@link #MAX_LINE_BYTES}
 * and only for {@link #FIRST_LINE} after connecting, one question per connection, at most
 * {@link #MAX_CONNECTIONS} connections at once (the next are told so and closed at once), and one
 * question at a time goes to Warden (Warden's refusal of a question carries no id, so only the one
 * in flight can be the refused one); the others wait their turn.
 */
final class AskChannel implements AutoCloseable {

  /** The variable that tells the command where the socket is. */
  static final String VARIABLE = "AGENT_ASK_SOCKET";
  /** Warden's limit on a question's text ({@code warden.agent.max-text-bytes}). */
  static final int MAX_TEXT_BYTES = 8 * 1024;
  /** A request line: the text JSON-escaped, and a little more. */
  static final int MAX_LINE_BYTES = 6 * MAX_TEXT_BYTES + 256;
  static final int MAX_CONNECTIONS = 8;
  static final Duration FIRST_LINE = Duration.ofSeconds(10);

  /** Sends {@code question{id,text}} to Warden; false when there is no connection to send it on. */
  interface Relay {
    boolean ask(String id, String text);
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path directory;
  private final Path socket;
  private final ServerSocketChannel server;
  private final Relay relay;
  private final Consumer<String> diagnostics;
  private final Duration firstLine;
  private final String prefix;
  private final AtomicLong counter = new AtomicLong();
  private final AtomicInteger open = new AtomicInteger();
  private final Semaphore turn = new Semaphore(1, true);
  private final Map<String, CompletableFuture<Reply>> waiting = new ConcurrentHashMap<>();
  private volatile String inFlight;
  private volatile boolean closed;
  private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor(daemon("warden-ask-timer"));

  /** What the asking command is told. */
  record Reply(boolean answered, String text) {
    String json() {
      return write(JSON.createObjectNode().put(answered ? "answer" : "refused", text));
    }
  }

  private AskChannel(Path directory, ServerSocketChannel server, Relay relay, Consumer<String> diagnostics, Duration firstLine) {
    this.directory = directory;
    this.socket = directory.resolve("ask.sock");
    this.server = server;
    this.relay = relay;
    this.diagnostics = diagnostics;
    this.firstLine = firstLine;
    byte[] random = new byte[4];
    new SecureRandom().nextBytes(random);
    this.prefix = "ask-" + HexFormat.of().formatHex(random) + "-"; // ids of another run of the wrapper never collide
  }

  /** A new channel in a new private directory under {@code parent}, accepting at once. */
  static AskChannel open(Path parent, Relay relay, Consumer<String> diagnostics) throws IOException {
    return open(parent, relay, diagnostics, FIRST_LINE);
  }

  static AskChannel open(Path parent, Relay relay, Consumer<String> diagnostics, Duration firstLine) throws IOException {
    Path directory = Files.createTempDirectory(parent, "warden-ask-",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    try {
      server.bind(UnixDomainSocketAddress.of(directory.resolve("ask.sock")));
    } catch (IOException | RuntimeException e) {
      server.close();
      Files.deleteIfExists(directory);
      throw e;
    }
    AskChannel channel = new AskChannel(directory, server, relay, diagnostics, firstLine);
    Thread accept = new Thread(channel::accept, "warden-ask-accept");
    accept.setDaemon(true);
    accept.start();
    return channel;
  }

  /** The private directory: what the sandbox binds in. */
  Path directory() {
    return directory;
  }

  /** The socket: the value of {@value #VARIABLE}. */
  Path socket() {
    return socket;
  }

  /** Connections being served now (tests). */
  int connections() {
    return open.get();
  }

  /** Warden's {@code answer{id,text}}: the command that asked gets it; false when no command here asked {@code id}. */
  boolean answered(String id, String text) {
    CompletableFuture<Reply> pending = waiting.get(id);
    return pending != null && pending.complete(new Reply(true, text));
  }

  /** Warden's {@code error{ref:"question"}}: the question in flight was refused. */
  boolean refused(String message) {
    String id = inFlight;
    CompletableFuture<Reply> pending = id == null ? null : waiting.get(id);
    return pending != null && pending.complete(new Reply(false, message));
  }

  /** Every command still waiting is told the run ended; the socket and its directory go. */
  @Override
  public void close() {
    closed = true;
    waiting.values().forEach(pending -> pending.complete(new Reply(false, "the agent's run under warden agent ended")));
    try {
      server.close();
    } catch (IOException e) {
      // going anyway
    }
    timers.shutdownNow();
    try {
      Files.deleteIfExists(socket);
      Files.deleteIfExists(directory);
    } catch (IOException e) {
      diagnostics.accept("cannot remove " + directory + ": " + e.getMessage());
    }
  }

  // ---- connections

  private void accept() {
    while (!closed) {
      SocketChannel client;
      try {
        client = server.accept();
      } catch (IOException e) {
        if (!closed) {
          diagnostics.accept("warden ask: the channel stopped accepting: " + e.getMessage());
        }
        return;
      }
      if (open.incrementAndGet() > MAX_CONNECTIONS) {
        open.decrementAndGet();
        replyAndClose(client, new Reply(false, "too many questions at once (" + MAX_CONNECTIONS + "); ask again later"));
        continue;
      }
      Thread handler = new Thread(() -> {
        try {
          serve(client);
        } finally {
          open.decrementAndGet();
        }
      }, "warden-ask-connection");
      handler.setDaemon(true);
      handler.start();
    }
  }

  private void serve(SocketChannel client) {
    ScheduledFuture<?> deadline = timers.schedule(() -> quietly(client), firstLine.toMillis(), TimeUnit.MILLISECONDS);
    InputStream in;
    Optional<String> line;
    try {
      in = Channels.newInputStream(client);
      line = readLine(in);
    } catch (IOException e) {
      quietly(client); // closed at the deadline, or gone
      return;
    } finally {
      deadline.cancel(false);
    }
    if (line.isEmpty()) {
      replyAndClose(client, new Reply(false, "the question is longer than " + MAX_LINE_BYTES + " bytes, or not one line"));
      return;
    }
    Reply reply;
    try {
      reply = ask(line.get(), client, in);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      reply = new Reply(false, "interrupted");
    }
    replyAndClose(client, reply);
  }

  /** One request line: validated, then relayed in its turn, then the answer awaited. */
  private Reply ask(String line, SocketChannel client, InputStream in) throws InterruptedException {
    JsonNode request;
    try {
      request = JSON.readTree(line);
    } catch (JsonProcessingException e) {
      return new Reply(false, "not a JSON object: {\"text\":\"...\"}");
    }
    JsonNode text = request == null ? null : request.get("text");
    if (text == null || !text.isTextual() || text.textValue().isBlank()) {
      return new Reply(false, "no question: send {\"text\":\"...\"}");
    }
    int bytes = text.textValue().getBytes(StandardCharsets.UTF_8).length;
    if (bytes > MAX_TEXT_BYTES) {
      return new Reply(false, "the question is " + bytes + " bytes; Warden takes at most " + MAX_TEXT_BYTES);
    }
    String id = prefix + counter.incrementAndGet();
    CompletableFuture<Reply> pending = new CompletableFuture<>();
    waiting.put(id, pending);
    watchForHangUp(client, in, pending);
    try {
      // the asker may hang up while it waits its turn: then it gives up its place
      boolean mine = false;
      while (!pending.isDone() && !(mine = turn.tryAcquire(100, TimeUnit.MILLISECONDS))) {
        // waiting
      }
      if (mine) {
        try {
          if (closed) {
            pending.complete(new Reply(false, "the agent's run under warden agent ended"));
          } else if (!pending.isDone()) {
            inFlight = id;
            if (relay.ask(id, text.textValue())) {
              diagnostics.accept("asked Warden (" + id + "): " + Answer.abbreviate(text.textValue(), 200));
            } else {
              pending.complete(new Reply(false, "the wrapper is not connected to Warden now; ask again in a moment"));
            }
          }
          return pending.join();
        } finally {
          inFlight = null;
          turn.release();
        }
      }
      return pending.join();
    } finally {
      waiting.remove(id);
    }
  }

  /**
   * The asker hanging up (its own timeout, Ctrl-C) ends its wait, so that the next question goes
   * to Warden; what it sends after its line is read and dropped, up to a limit.
   */
  private void watchForHangUp(SocketChannel client, InputStream in, CompletableFuture<Reply> pending) {
    Thread watcher = new Thread(() -> {
      byte[] buffer = new byte[1024];
      long extra = 0;
      try {
        int n;
        while (!pending.isDone() && (n = in.read(buffer)) >= 0) {
          extra += n;
          if (extra > MAX_LINE_BYTES) {
            break;
          }
        }
      } catch (IOException e) {
        // closed: answered, or gone
      }
      if (pending.complete(new Reply(false, "the asking command hung up"))) {
        quietly(client);
      }
    }, "warden-ask-hangup");
    watcher.setDaemon(true);
    watcher.start();
  }

  /** The first line, without its newline; empty when longer than the limit. EOF ends a line too. */
  static Optional<String> readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    byte[] buffer = new byte[4096];
    while (true) {
      int n = in.read(buffer);
      if (n < 0) {
        return Optional.of(line.toString(StandardCharsets.UTF_8));
      }
      for (int i = 0; i < n; i++) {
        if (buffer[i] == '\n') {
          line.write(buffer, 0, i);
          return line.size() > MAX_LINE_BYTES ? Optional.empty() : Optional.of(line.toString(StandardCharsets.UTF_8));
        }
      }
      line.write(buffer, 0, n);
      if (line.size() > MAX_LINE_BYTES) {
        return Optional.empty();
      }
    }
  }

  private static void replyAndClose(SocketChannel client, Reply reply) {
    try (client) {
      ByteBuffer bytes = ByteBuffer.wrap((reply.json() + "\n").getBytes(StandardCharsets.UTF_8));
      while (bytes.hasRemaining()) {
        client.write(bytes);
      }
    } catch (IOException e) {
      // the asking command is gone
    }
  }

  private static void quietly(SocketChannel client) {
    try {
      client.close();
    } catch (IOException e) {
      // closed anyway
    }
  }

  private static String write(JsonNode node) {
    try {
      return JSON.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return runnable -> {
      Thread thread = new Thread(runnable, name);
      thread.setDaemon(true);
      return thread;
    };
  }
}
