package dev.warden.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * The wrapper's WebSocket to its feature, kept up while the agent runs: it says {@code hello} on
 * every connection, sends heartbeats, and reconnects with backoff when the connection is lost.
 *
 * <p>One thread (the link thread) does all sending, because a JDK WebSocket allows one pending
 * send at a time. Control messages (acks, heartbeats) go before log lines; they belong to the
 * connection they answer and are dropped when it is lost. Log lines wait in a bounded queue,
 * across reconnects too; when it is full new lines are dropped and a notice saying how many takes
 * their place, so a slow or absent Warden never holds up the agent's output.
 */
final class AgentLink {

  /**
   * What the link reports, on the HTTP client's threads or the link thread: implementations hand
   * the work to a thread of their own. Messages of one connection arrive in order.
   */
  interface Events {
    void onMessage(JsonNode message);

    void onConnected(boolean reconnected);

    void onDisconnected(String why);
  }

  /** Warden answered the upgrade with an HTTP status instead of a WebSocket. */
  static final class Refused extends Exception {
    private final int status;

    Refused(int status, String detail) {
      super(detail);
      this.status = status;
    }

    int status() {
      return status;
    }
  }

  /** No answer at all: not listening, unreachable, timed out. */
  static final class Unreachable extends Exception {
    Unreachable(String message) {
      super(message);
    }
  }

  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
  private static final Duration SEND_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(2);
  private static final long FIRST_BACKOFF_MS = 200;
  private static final long MAX_BACKOFF_MS = 5_000;

  private final HttpClient http;
  private final URI uri;
  private final java.util.function.Supplier<String> token;
  private final Events events;
  private final Consumer<String> diagnostics;
  private final int logCapacity;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  // guarded by lock
  private final ArrayDeque<String> control = new ArrayDeque<>();
  private final ArrayDeque<String> logs = new ArrayDeque<>();
  private long droppedSinceNotice;
  private long droppedTotal;
  private Connection greeted; // the connection that has had its hello, null while there is none
  private boolean finishing;
  private long finishDeadline;
  private String finalMessage;
  private boolean finalDelivered;

  private final ScheduledExecutorService heartbeats = Executors.newSingleThreadScheduledExecutor(daemon("warden-agent-heartbeat"));
  private ScheduledFuture<?> nextBeat; // guarded by heartbeats' monitor
  private volatile long heartbeatMs = 5_000;
  private final CountDownLatch linkDone = new CountDownLatch(1);
  private volatile Connection first;
  private volatile Thread linkThread;

  AgentLink(HttpClient http, URI uri, java.util.function.Supplier<String> token, Events events, Consumer<String> diagnostics, int logCapacity) {
    this.http = http;
    this.uri = uri;
    this.token = token;
    this.events = events;
    this.diagnostics = diagnostics;
    this.logCapacity = logCapacity;
  }

  /** Opens the first connection, without saying anything yet: {@link #start} says hello. */
  void connect() throws Refused, Unreachable {
    first = open();
  }

  /** Starts the link thread: hello on the open connection, then heartbeats, acks and logs. */
  void start(String hello) {
    Thread thread = new Thread(() -> run(hello), "warden-agent-link");
    thread.setDaemon(true);
    linkThread = thread;
    thread.start();
    scheduleHeartbeat();
  }

  /** Heartbeat interval from {@code welcome}; takes effect at once. */
  void heartbeatEvery(long millis) {
    heartbeatMs = millis;
    scheduleHeartbeat();
  }

  /** Queues a control message for the current connection; false (and dropped) when there is none. */
  boolean sendControl(String json) {
    lock.lock();
    try {
      if (greeted == null) {
        return false;
      }
      control.add(json);
      changed.signalAll();
      return true;
    } finally {
      lock.unlock();
    }
  }

  /** Queues one output line; never blocks. When the queue is full the line is dropped and counted. */
  void sendLog(String stream, String line) {
    String json = AgentProtocol.log(stream, line);
    lock.lock();
    try {
      if (logs.size() >= logCapacity) {
        droppedSinceNotice++;
        droppedTotal++;
        return;
      }
      queueDropNotice();
      logs.add(json);
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** Lines that never reached Warden because the queue was full. */
  long droppedLines() {
    lock.lock();
    try {
      return droppedTotal;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Sends what is queued, then {@code last} if given, then closes the connection normally; within
   * {@code within} (reconnecting if need be). Returns whether {@code last} was delivered (true
   * when there was none).
   */
  boolean finish(Optional<String> last, Duration within) {
    Thread thread = linkThread;
    lock.lock();
    try {
      if (!finishing) {
        finishing = true;
        finishDeadline = System.nanoTime() + within.toNanos();
        finalMessage = last.orElse(null);
        queueDropNotice();
      }
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    synchronized (heartbeats) {
      heartbeats.shutdownNow();
    }
    if (thread == null) { // never started: nothing was said on the first connection
      Connection connection = first;
      if (connection != null) {
        connection.close();
      }
      return last.isEmpty();
    }
    try {
      if (!linkDone.await(within.toMillis() + 1_000, TimeUnit.MILLISECONDS)) {
        thread.interrupt();
        Connection connection = greetedConnection();
        if (connection != null) {
          connection.ws().abort();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    lock.lock();
    try {
      return last.isEmpty() || finalDelivered;
    } finally {
      lock.unlock();
    }
  }

  // ---- the link thread

  private void run(String hello) {
    try {
      Connection connection = first;
      boolean reconnected = false;
      while (!Thread.currentThread().isInterrupted()) {
        if (connection == null || !connection.isOpen()) {
          forget(connection);
          connection = reconnect();
          if (connection == null) {
            return;
          }
          reconnected = true;
        }
        if (!connection.greeted) {
          if (!send(connection, hello)) {
            continue;
          }
          connection.greeted = true;
          greet(connection);
          events.onConnected(reconnected);
        }
        Next next = next(connection);
        switch (next.kind) {
          case SEND -> send(connection, next.json);
          case FINAL -> {
            if (send(connection, next.json)) {
              delivered();
            }
          }
          case CLOSE -> {
            connection.close();
            return;
          }
          case RECHECK -> { }
        }
      }
    } finally {
      linkDone.countDown();
    }
  }

  private enum Kind { SEND, FINAL, CLOSE, RECHECK }

  private record Next(Kind kind, String json) {}

  /** What to send next on {@code connection}; waits until there is something. */
  private Next next(Connection connection) {
    lock.lock();
    try {
      while (true) {
        if (finishing && System.nanoTime() - finishDeadline >= 0) {
          return new Next(Kind.CLOSE, null);
        }
        if (!connection.isOpen()) {
          return new Next(Kind.RECHECK, null);
        }
        if (!control.isEmpty()) {
          return new Next(Kind.SEND, control.poll());
        }
        if (!logs.isEmpty()) {
          return new Next(Kind.SEND, logs.poll());
        }
        if (finishing) {
          return finalMessage != null && !finalDelivered ? new Next(Kind.FINAL, finalMessage) : new Next(Kind.CLOSE, null);
        }
        changed.await(1, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Next(Kind.CLOSE, null);
    } finally {
      lock.unlock();
    }
  }

  /** A new connection after backoff, or null once finishing and out of time. */
  private Connection reconnect() {
    long backoff = FIRST_BACKOFF_MS;
    String lastFailure = null;
    while (true) {
      lock.lock();
      try {
        long wait = TimeUnit.MILLISECONDS.toNanos(backoff);
        if (finishing) {
          wait = Math.min(wait, finishDeadline - System.nanoTime());
        }
        while (wait > 0) {
          wait = changed.awaitNanos(wait);
        }
        if (finishing && System.nanoTime() - finishDeadline >= 0) {
          return null;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return null;
      } finally {
        lock.unlock();
      }
      try {
        return open();
      } catch (Refused | Unreachable e) {
        String failure = e instanceof Refused refused ? "HTTP " + refused.status() + " " + e.getMessage() : e.getMessage();
        if (!failure.equals(lastFailure)) {
          diagnostics.accept("cannot reconnect to Warden (" + failure + "); still trying");
          lastFailure = failure;
        }
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  }

  private boolean send(Connection connection, String json) {
    try {
      connection.ws().sendText(json, true).get(SEND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (ExecutionException | TimeoutException e) {
      connection.lost("sending failed: " + describe(e instanceof ExecutionException ? e.getCause() : e));
      connection.ws().abort();
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      connection.ws().abort();
      return false;
    }
  }

  private void greet(Connection connection) {
    lock.lock();
    try {
      greeted = connection;
    } finally {
      lock.unlock();
    }
  }

  /** A lost connection's acks and heartbeats mean nothing to the next one. */
  private void forget(Connection connection) {
    lock.lock();
    try {
      if (greeted == connection) {
        greeted = null;
      }
      control.clear();
    } finally {
      lock.unlock();
    }
  }

  private Connection greetedConnection() {
    lock.lock();
    try {
      return greeted;
    } finally {
      lock.unlock();
    }
  }

  private void delivered() {
    lock.lock();
    try {
      finalDelivered = true;
    } finally {
      lock.unlock();
    }
  }

  /** Puts the count of lines dropped so far where they would have been. Called with the lock held. */
  private void queueDropNotice() {
    if (droppedSinceNotice > 0) {
      logs.add(AgentProtocol.log("stderr", "[warden agent] " + droppedSinceNotice
          + " output line(s) not forwarded here: Warden was too slow or unreachable"));
      droppedSinceNotice = 0;
    }
  }

  private void scheduleHeartbeat() {
    synchronized (heartbeats) {
      if (heartbeats.isShutdown()) {
        return;
      }
      if (nextBeat != null) {
        nextBeat.cancel(false);
      }
      nextBeat = heartbeats.schedule(this::beat, heartbeatMs, TimeUnit.MILLISECONDS);
    }
  }

  private void beat() {
    sendControl(AgentProtocol.HEARTBEAT);
    scheduleHeartbeat();
  }

  private void signalChange() {
    lock.lock();
    try {
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  // ---- connections

  private Connection open() throws Refused, Unreachable {
    Connection connection = new Connection();
    try {
      WebSocket ws = http.newWebSocketBuilder()
          .header("Authorization", "Bearer " + token.get()) // asked on every connection: a run token may have been renewed
          .connectTimeout(CONNECT_TIMEOUT)
          .buildAsync(uri, connection)
          .get(CONNECT_TIMEOUT.toMillis() * 2, TimeUnit.MILLISECONDS);
      connection.opened(ws);
      return connection;
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof WebSocketHandshakeException handshake) {
        HttpResponse<?> response = handshake.getResponse();
        throw new Refused(response.statusCode(), detail(response.body()));
      }
      throw new Unreachable(describe(cause));
    } catch (TimeoutException e) {
      throw new Unreachable("no answer within " + CONNECT_TIMEOUT.toSeconds() * 2 + " s");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Unreachable("interrupted");
    }
  }

  /** The problem+json {@code detail} of a refusal, when the body carries one. */
  private static String detail(Object body) {
    String text = body instanceof byte[] bytes ? new String(bytes, StandardCharsets.UTF_8)
        : body instanceof String string ? string : "";
    return AgentProtocol.parse(text).flatMap(json -> AgentProtocol.text(json, "detail")).orElse("");
  }

  static String describe(Throwable failure) {
    if (failure instanceof ConnectException) {
      return "connection refused";
    }
    if (failure instanceof HttpTimeoutException) {
      return "timed out";
    }
    String message = failure.getMessage();
    return message == null || message.isBlank() ? failure.getClass().getSimpleName() : message;
  }

  /** One WebSocket and what its listener has seen. */
  private final class Connection implements WebSocket.Listener {
    private final StringBuilder text = new StringBuilder();
    private final CompletableFuture<Void> ended = new CompletableFuture<>();
    private final AtomicBoolean reported = new AtomicBoolean();
    private volatile WebSocket ws;
    private volatile boolean closing;
    volatile boolean greeted;

    void opened(WebSocket ws) {
      this.ws = ws;
    }

    WebSocket ws() {
      return ws;
    }

    boolean isOpen() {
      return !ended.isDone();
    }

    @Override
    public void onOpen(WebSocket webSocket) {
      ws = webSocket;
      webSocket.request(1);
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
      text.append(data); // a message may come in several frames
      if (last) {
        String message = text.toString();
        text.setLength(0);
        AgentProtocol.parse(message).ifPresentOrElse(events::onMessage,
            () -> diagnostics.accept("ignoring a message from Warden that is not a JSON object: " + Answer.abbreviate(message, 200)));
      }
      webSocket.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
      lost("Warden closed the connection: " + statusCode + (reason == null || reason.isBlank() ? "" : " " + reason));
      return null; // the JDK answers the close
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
      lost(describe(error));
    }

    void lost(String why) {
      ended.complete(null);
      signalChange();
      if (!closing && greeted && reported.compareAndSet(false, true)) {
        events.onDisconnected(why);
      }
    }

    /** Close handshake, bounded; then the TCP connection goes whatever Warden did. */
    void close() {
      closing = true;
      WebSocket socket = ws;
      if (socket == null) {
        return;
      }
      try {
        if (isOpen()) {
          socket.sendClose(WebSocket.NORMAL_CLOSURE, "agent finished").get(CLOSE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
          ended.get(CLOSE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS); // Warden's close in reply
        }
      } catch (ExecutionException | TimeoutException e) {
        // closing anyway
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        socket.abort();
        ended.complete(null);
      }
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
