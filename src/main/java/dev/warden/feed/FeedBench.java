package dev.warden.feed;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.Props;
import akka.persistence.typed.PersistenceId;
import akka.persistence.typed.javadsl.CommandHandler;
import akka.persistence.typed.javadsl.EventHandler;
import akka.persistence.typed.javadsl.EventSourcedBehavior;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import dev.warden.CborSerializable;
import dev.warden.FeedTags;
import dev.warden.auth.TokenRegistry;
import dev.warden.daemon.WardenConfig;
import dev.warden.daemon.WardenDaemon;
import dev.warden.git.Directories;
import dev.warden.persistence.DatabaseSettings;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code warden bench feed}: delivery latency of the live feed, from persist to client, with many
 * clients. Starts a real daemon in this JVM (embedded H2 journal in a temp directory, HTTP on a free
 * port), connects N WebSocket clients to {@code /api/v1/events}, and has W event-sourced writers
 * persist events at the given rate for a warm-up and then the measured seconds. Each event carries the
 * {@code System.nanoTime()} of the moment its writer decided to persist it (just before the journal
 * write); a client's latency is its receive time minus that. The clients are one NIO selector thread
 * speaking just enough WebSocket (RFC 6455) to read frames, so the client side takes as little of the
 * shared cores as it can.
 *
 * <p>Options: {@code --subscribers N} (1000) {@code --rate R} events/s (1000) {@code --seconds S} (20)
 * {@code --warmup W} (5) {@code --writers K} (32: each persists one event at a time, and an H2 commit
 * waits for the disk) {@code --events-per-write E} (1; more makes the writers cheaper, which on a small
 * machine leaves more of it to the feed) {@code --buffer B} (the daemon's subscriber buffer, default as configured)
 * {@code --batch} (the clients ask for {@code ?batch=true}: every event ready for a client in one message)
 * {@code --json FILE}. The report says how many events were really written per second: on a busy
 * machine the writers fall short of the rate asked.
 */
public final class FeedBench {

  private static final String FEATURE = "bench";
  /** Latency histogram resolution and range: 10 µs buckets up to 10 s (later ones count in the last). */
  private static final long BUCKET_NANOS = 10_000;
  private static final int BUCKETS = 1_000_000;

  private FeedBench() {}

  public static void main(String[] args) {
    System.exit(run(args));
  }

  public static int run(String[] args) {
    int subscribers = 1000;
    int rate = 1000;
    int seconds = 20;
    int warmup = 5;
    int writers = 32;
    int perWrite = 1;
    Integer buffer = null;
    boolean batch = false;
    Path json = null;
    try {
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--subscribers" -> subscribers = Integer.parseInt(args[++i]);
          case "--rate" -> rate = Integer.parseInt(args[++i]);
          case "--seconds" -> seconds = Integer.parseInt(args[++i]);
          case "--warmup" -> warmup = Integer.parseInt(args[++i]);
          case "--writers" -> writers = Integer.parseInt(args[++i]);
          case "--events-per-write" -> perWrite = Integer.parseInt(args[++i]);
          case "--buffer" -> buffer = Integer.parseInt(args[++i]);
          case "--batch" -> batch = true;
          case "--json" -> json = Path.of(args[++i]);
          default -> throw new IllegalArgumentException("unknown option " + args[i]);
        }
      }
      if (subscribers < 1 || rate < 1 || seconds < 1 || warmup < 0 || writers < 1 || perWrite < 1) {
        throw new IllegalArgumentException("subscribers, rate, seconds, writers and events-per-write must be at least 1, warmup at least 0");
      }
    } catch (RuntimeException e) {
      System.err.println("bench feed: " + e.getMessage());
      System.err.println("usage: bench feed [--subscribers N] [--rate R] [--seconds S] [--warmup W] [--writers K] [--events-per-write E] [--buffer B] [--batch] [--json FILE]");
      return 2;
    }
    try {
      Result result = measure(subscribers, rate, seconds, warmup, writers, perWrite, buffer, batch);
      System.out.print(result.table());
      if (json != null) {
        if (json.toAbsolutePath().getParent() != null) {
          Files.createDirectories(json.toAbsolutePath().getParent());
        }
        Files.writeString(json, result.json());
        System.out.println("wrote " + json);
      }
      return 0;
    } catch (Exception e) {
      System.err.println("bench feed failed: " + e);
      e.printStackTrace();
      return 1;
    }
  }

  record Result(int subscribers, int rate, int seconds, int warmup, int writers, int perWrite, int buffer, boolean batch, long events,
      long expected, long delivered, long messages, int lagged, int closed, double p50, double p95, double p99, double max, double writeP50, double writeP99,
      int cores, double loadBefore, double loadAfter) {

    double achievedRate() {
      return (double) events / seconds;
    }

    String table() {
      return String.format(Locale.ROOT, """
          feed bench: %d subscribers, %d events/s asked (%.1f/s written) for %d s after %d s of warm-up, %d writers,
                      %d event(s) per write, subscriber buffer %d, %s, H2 journal in process, %d cores,
                      load average %.2f before / %.2f after
          events written %d, delivered %d of %d by 10 s after the last write (%.3f %%) in %d messages
          (%.1f events per message), subscribers lagged %d, closed otherwise %d
          | persist → client | p50 | p95 | p99 | max |
          |---|---:|---:|---:|---:|
          | ms | %s | %s | %s | %s |
          of which the journal write (decided → persisted): p50 %.1f ms, p99 %.1f ms
          """, subscribers, rate, achievedRate(), seconds, warmup, writers, perWrite, buffer,
          batch ? "batched messages (?batch=true)" : "one event per message", cores, loadBefore, loadAfter, events,
          delivered, expected, expected == 0 ? 0.0 : 100.0 * delivered / expected, messages, perMessage(), lagged, closed, ms(p50), ms(p95), ms(p99), ms(max),
          writeP50, writeP99);
    }

    double perMessage() {
      return messages == 0 ? 0.0 : (double) delivered / messages;
    }

    /** A latency for the table; the histogram ends at 10 s. */
    private static String ms(double value) {
      return value >= BUCKETS * BUCKET_NANOS / 1e6 ? "≥ 10000" : String.format(Locale.ROOT, "%.1f", value);
    }

    String json() {
      return String.format(Locale.ROOT,
          "{\"subscribers\":%d,\"rate\":%d,\"achieved_rate\":%.1f,\"seconds\":%d,\"warmup\":%d,\"writers\":%d,\"events_per_write\":%d,\"subscriber_buffer\":%d,"
              + "\"batch\":%b,\"events\":%d,\"expected_deliveries\":%d,\"delivered\":%d,\"messages\":%d,\"lagged\":%d,\"closed\":%d,"
              + "\"latency_ms\":{\"p50\":%.2f,\"p95\":%.2f,\"p99\":%.2f,\"max\":%.2f},\"journal_write_ms\":{\"p50\":%.2f,\"p99\":%.2f},"
              + "\"cores\":%d,\"load_before\":%.2f,\"load_after\":%.2f}%n",
          subscribers, rate, achievedRate(), seconds, warmup, writers, perWrite, buffer, batch, events, expected, delivered, messages,
          lagged, closed, p50, p95, p99, max, writeP50, writeP99, cores, loadBefore, loadAfter);
    }
  }

  private static Result measure(int subscribers, int rate, int seconds, int warmup, int writerCount, int perWrite, Integer buffer,
      boolean batch)
      throws Exception {
    Path tmp = Files.createTempDirectory("warden-feed-bench");
    String token = Base64.getUrlEncoder().withoutPadding().encodeToString(new SecureRandom().generateSeed(24));
    Config overrides = ConfigFactory.empty()
        .withValue("warden.data-dir", ConfigValueFactory.fromAnyRef(tmp.resolve("data").toString()))
        .withValue("warden.http.port", ConfigValueFactory.fromAnyRef(0))
        .withValue("warden.policy.file", ConfigValueFactory.fromAnyRef(tmp.resolve("no-policy.conf").toString()))
        .withValue("akka.remote.artery.canonical.port", ConfigValueFactory.fromAnyRef(0))
        .withValue("akka.http.server.max-connections", ConfigValueFactory.fromAnyRef(subscribers + 256))
        .withValue("akka.coordinated-shutdown.run-by-jvm-shutdown-hook", ConfigValueFactory.fromAnyRef("off"))
        .withValue("warden.auth.tokens", ConfigValueFactory.fromIterable(List.of(
            Map.of("name", "bench", "role", "viewer", "sha256", TokenRegistry.sha256Hex(token)))));
    if (buffer != null) {
      overrides = overrides.withValue("warden.feed.subscriber-buffer", ConfigValueFactory.fromAnyRef(buffer));
    }
    Config config = WardenConfig.load(overrides);
    int subscriberBuffer = config.getInt("warden.feed.subscriber-buffer");
    WardenDaemon daemon = WardenDaemon.start(config);
    ScheduledExecutorService pacer = Executors.newSingleThreadScheduledExecutor(r -> new Thread(r, "feed-bench-pacer"));
    Clients clients = null;
    try {
      long totalNanos = TimeUnit.SECONDS.toNanos(warmup + seconds);
      Window window = new Window();
      List<ActorRef<Writer.Tick>> writers = new ArrayList<>();
      for (int i = 0; i < writerCount; i++) {
        writers.add(daemon.system().systemActorOf(Writer.create(i, window, perWrite), "feed-bench-writer-" + i, Props.empty()));
      }
      System.out.printf(Locale.ROOT, "connecting %d subscribers ...%n", subscribers);
      clients = Clients.connect(daemon.httpAddress().getPort(), token, subscribers, window, batch);
      double loadBefore = load();
      System.out.printf(Locale.ROOT, "writing %d events/s for %d s (%d s warm-up) ...%n", rate, warmup + seconds, warmup);
      long start = System.nanoTime();
      window.from = start + TimeUnit.SECONDS.toNanos(warmup);
      window.to = start + totalNanos;
      AtomicLong sent = new AtomicLong();
      pacer.scheduleAtFixedRate(() -> {
        long elapsed = System.nanoTime() - start;
        long due = Math.min(totalNanos, elapsed) * rate / perWrite / 1_000_000_000L;
        for (long n = sent.get(); n < due; n++) {
          writers.get((int) (n % writers.size())).tell(Writer.Tick.INSTANCE);
        }
        sent.set(Math.max(sent.get(), due));
      }, 0, 1, TimeUnit.MILLISECONDS);
      Thread.sleep(TimeUnit.NANOSECONDS.toMillis(totalNanos) + 200);
      pacer.shutdownNow();
      // let the last events arrive: until every client that is still open has them all, 10 s at most
      long drainUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (System.nanoTime() < drainUntil && !clients.caughtUp(window.events.get())) {
        Thread.sleep(50);
      }
      double loadAfter = load();
      clients.stop();
      long[] histogram = clients.histogram();
      long expected = 0;
      for (Clients.Connection c : clients.connections) {
        // a lagged client was told so and closed: what it would have got later is not "lost", it is resumed
        expected += c.lagged || c.closed ? c.delivered : window.events.get();
      }
      return new Result(subscribers, rate, seconds, warmup, writerCount, perWrite, subscriberBuffer, batch, window.events.get(), expected,
          clients.delivered(), clients.messages(), clients.count(c -> c.lagged), clients.count(c -> c.closed && !c.lagged),
          percentile(histogram, 50), percentile(histogram, 95), percentile(histogram, 99), percentile(histogram, 100),
          percentile(window.writeHistogram(), 50), percentile(window.writeHistogram(), 99), Runtime.getRuntime().availableProcessors(), loadBefore, loadAfter);
    } finally {
      pacer.shutdownNow();
      if (clients != null) {
        clients.close();
      }
      daemon.stop().toCompletableFuture().get(60, TimeUnit.SECONDS);
      closeDatabase(DatabaseSettings.fromConfig(config, daemon.dataDir()));
      Directories.deleteTree(tmp);
    }
  }

  /**
   * The embedded database may still be open when the actor system has terminated (pools close after
   * it): shut it down before its files are deleted, or H2 writes them again at exit.
   */
  private static void closeDatabase(DatabaseSettings database) {
    if (database.kind() != DatabaseSettings.Kind.H2) {
      return;
    }
    try (Connection connection = DriverManager.getConnection(database.url() + ";IFEXISTS=TRUE", database.user(), database.password());
        Statement statement = connection.createStatement()) {
      statement.execute("SHUTDOWN");
    } catch (SQLException alreadyClosed) {
      // nothing left open
    }
  }

  private static double load() {
    return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
  }

  /** Nearest-rank percentile (as {@link dev.warden.metrics.Percentiles}) of the histogram, in ms. */
  static double percentile(long[] histogram, double p) {
    long total = 0;
    for (long count : histogram) {
      total += count;
    }
    if (total == 0) {
      return Double.NaN;
    }
    long rank = Math.max(1, (long) Math.ceil(p / 100.0 * total));
    long seen = 0;
    for (int i = 0; i < histogram.length; i++) {
      seen += histogram[i];
      if (seen >= rank) {
        return (i + 1) * BUCKET_NANOS / 1e6; // the bucket's upper bound
      }
    }
    return histogram.length * BUCKET_NANOS / 1e6;
  }

  /** The measured interval, and how many events were created in it. */
  static final class Window {
    volatile long from = Long.MAX_VALUE;
    volatile long to = Long.MIN_VALUE;
    final AtomicLong events = new AtomicLong();
    /** How long the journal write took (decided → persisted), same buckets as the delivery latency. */
    final java.util.concurrent.atomic.AtomicLongArray writes = new java.util.concurrent.atomic.AtomicLongArray(BUCKETS);

    void written(long nanos) {
      writes.incrementAndGet((int) Math.min(BUCKETS - 1, Math.max(0, nanos) / BUCKET_NANOS));
    }

    long[] writeHistogram() {
      long[] copy = new long[BUCKETS];
      for (int i = 0; i < BUCKETS; i++) {
        copy[i] = writes.get(i);
      }
      return copy;
    }

    boolean contains(long nanos) {
      return nanos >= from && nanos < to;
    }
  }

  // ---- the writers ----

  /** The bench's event; the feed shows it as {@code bench.ticked} through the catalog's generic rule. */
  public record BenchTicked(String featureId, long n, long createdNanos) implements CborSerializable {}

  /** An event-sourced writer tagged for the feed like every Warden entity; {@code perWrite} events per tick, one write. */
  static final class Writer extends EventSourcedBehavior<Writer.Tick, BenchTicked, Long> {

    enum Tick { INSTANCE }

    private final Window window;
    private final int perWrite;

    private Writer(int index, Window window, int perWrite) {
      super(PersistenceId.of("FeedBench", FEATURE + "-" + index));
      this.window = window;
      this.perWrite = perWrite;
    }

    static Behavior<Tick> create(int index, Window window, int perWrite) {
      return new Writer(index, window, perWrite);
    }

    @Override
    public Long emptyState() {
      return 0L;
    }

    @Override
    public CommandHandler<Tick, BenchTicked, Long> commandHandler() {
      return newCommandHandlerBuilder().forAnyState().onCommand(Tick.class, (n, tick) -> {
        long now = System.nanoTime();
        if (window.contains(now)) {
          window.events.addAndGet(perWrite);
        }
        List<BenchTicked> events = new ArrayList<>();
        for (int i = 1; i <= perWrite; i++) {
          events.add(new BenchTicked(FEATURE, n + i, now));
        }
        return Effect().persist(events).thenRun(state -> {
          if (window.contains(now)) {
            window.written(System.nanoTime() - now);
          }
        });
      }).build();
    }

    @Override
    public EventHandler<Long, BenchTicked> eventHandler() {
      return newEventHandlerBuilder().forAnyState().onEvent(BenchTicked.class, (n, event) -> event.n()).build();
    }

    @Override
    public Set<String> tagsFor(BenchTicked event) {
      return Set.of(FeedTags.ALL);
    }
  }

  // ---- the clients ----

  /** N WebSocket connections read by one selector thread: frames parsed, latencies counted in a histogram. */
  static final class Clients implements AutoCloseable {
    private static final byte[] CREATED = "\"createdNanos\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] LAGGED = "{\"type\":\"lagged\"".getBytes(StandardCharsets.US_ASCII);

    final List<Connection> connections = new ArrayList<>();
    private final Selector selector;
    private final Window window;
    private final long[] histogram = new long[BUCKETS];
    private final Thread thread;
    private volatile boolean running = true;

    static final class Connection {
      final SocketChannel channel;
      ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
      volatile long delivered;
      /** Messages that carried at least one measured event. */
      volatile long messages;
      volatile boolean lagged;
      volatile boolean closed;

      Connection(SocketChannel channel) {
        this.channel = channel;
      }
    }

    private Clients(Selector selector, Window window) {
      this.selector = selector;
      this.window = window;
      this.thread = new Thread(this::loop, "feed-bench-clients");
    }

    static Clients connect(int port, String token, int count, Window window, boolean batch) throws IOException {
      Clients clients = new Clients(Selector.open(), window);
      for (int i = 0; i < count; i++) {
        clients.connections.add(clients.handshake(port, token, batch));
      }
      for (Connection c : clients.connections) {
        c.channel.configureBlocking(false);
        c.channel.register(clients.selector, SelectionKey.OP_READ, c);
      }
      clients.thread.setDaemon(true);
      clients.thread.start();
      return clients;
    }

    private Connection handshake(int port, String token, boolean batch) throws IOException {
      SocketChannel channel = SocketChannel.open(new InetSocketAddress("127.0.0.1", port));
      channel.socket().setTcpNoDelay(true);
      byte[] key = new byte[16];
      new SecureRandom().nextBytes(key);
      String request = "GET /api/v1/events" + (batch ? "?batch=true" : "") + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nUpgrade: websocket\r\n"
          + "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + Base64.getEncoder().encodeToString(key)
          + "\r\nAuthorization: Bearer " + token + "\r\n\r\n";
      channel.write(ByteBuffer.wrap(request.getBytes(StandardCharsets.US_ASCII)));
      Connection connection = new Connection(channel);
      ByteBuffer buffer = connection.buffer;
      while (true) {
        if (channel.read(buffer) < 0) {
          throw new IOException("the daemon closed the connection during the handshake");
        }
        String head = new String(buffer.array(), 0, buffer.position(), StandardCharsets.ISO_8859_1);
        int end = head.indexOf("\r\n\r\n");
        if (end >= 0) {
          if (!head.startsWith("HTTP/1.1 101")) {
            throw new IOException("the feed refused the bench's client: " + head.lines().findFirst().orElse(""));
          }
          // keep whatever frames came with the response
          buffer.flip();
          buffer.position(end + 4);
          buffer.compact();
          return connection;
        }
      }
    }

    private void loop() {
      try {
        while (running) {
          selector.select(100);
          long now = System.nanoTime();
          Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
          while (keys.hasNext()) {
            SelectionKey key = keys.next();
            keys.remove();
            Connection c = (Connection) key.attachment();
            try {
              int read = c.channel.read(c.buffer);
              if (read < 0) {
                c.closed = true;
                key.cancel();
                continue;
              }
              frames(c, now);
            } catch (IOException e) {
              c.closed = true;
              key.cancel();
            }
          }
        }
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }

    /** Parses the complete frames in the buffer; a partial one stays for the next read. */
    private void frames(Connection c, long now) throws IOException {
      ByteBuffer b = c.buffer;
      b.flip();
      while (b.remaining() >= 2) {
        int start = b.position();
        int opcode = b.get(start) & 0x0F;
        int len7 = b.get(start + 1) & 0x7F;
        int header = len7 == 126 ? 4 : len7 == 127 ? 10 : 2;
        if (b.remaining() < header) {
          break;
        }
        long length = len7 == 126 ? b.getShort(start + 2) & 0xFFFF : len7 == 127 ? b.getLong(start + 2) : len7;
        if (b.remaining() < header + length) {
          if (header + length > b.capacity()) {
            ByteBuffer bigger = ByteBuffer.allocate((int) (header + length) * 2);
            bigger.put(b);
            c.buffer = bigger;
            return;
          }
          break;
        }
        int payload = start + header;
        switch (opcode) {
          case 1 -> text(c, b, payload, (int) length, now);
          case 8 -> c.closed = true;
          case 9 -> pong(c, b, payload, (int) length);
          default -> { }
        }
        b.position(payload + (int) length);
      }
      b.compact();
    }

    /** One text message: an event, a batch of events (one per line), a ping or {@code lagged}. */
    private void text(Connection c, ByteBuffer b, int from, int length, long now) {
      byte[] bytes = b.array();
      int start = b.arrayOffset() + from;
      int end = start + length;
      if (startsWith(bytes, start, end, LAGGED)) {
        c.lagged = true;
        return;
      }
      boolean counted = false;
      int line = start;
      while (line < end) {
        int lineEnd = line;
        while (lineEnd < end && bytes[lineEnd] != '\n') {
          lineEnd++;
        }
        if (event(c, bytes, line, lineEnd, now) && !counted) {
          c.messages++;
          counted = true;
        }
        line = lineEnd + 1;
      }
    }

    /** Counts one event's latency when it is one of the measured ones. */
    private boolean event(Connection c, byte[] bytes, int from, int to, long now) {
      int at = createdAt(bytes, from, to);
      if (at < 0) {
        return false; // a ping
      }
      long created = 0;
      for (int i = at + CREATED.length; i < to; i++) {
        byte digit = bytes[i];
        if (digit < '0' || digit > '9') {
          break;
        }
        created = created * 10 + (digit - '0');
      }
      if (!window.contains(created)) {
        return false;
      }
      c.delivered++;
      long bucket = Math.max(0, now - created) / BUCKET_NANOS;
      histogram[(int) Math.min(BUCKETS - 1, bucket)]++;
      return true;
    }

    private static void pong(Connection c, ByteBuffer b, int from, int length) throws IOException {
      // client frames are masked; a zero mask leaves the payload as it is
      ByteBuffer frame = ByteBuffer.allocate(6 + length);
      frame.put((byte) 0x8A).put((byte) (0x80 | length)).putInt(0);
      for (int i = 0; i < length; i++) {
        frame.put(b.get(from + i));
      }
      frame.flip();
      c.channel.write(frame);
    }

    private static boolean startsWith(byte[] bytes, int from, int to, byte[] prefix) {
      return to - from >= prefix.length && Arrays.equals(bytes, from, from + prefix.length, prefix, 0, prefix.length);
    }

    /**
     * Where {@code "createdNanos":} starts in one event's JSON, or -1. The bench's events end with it
     * ({@code ...,"createdNanos":123}}}), so it is looked for from the end first: the clients read a
     * million events a second on the same cores as the daemon.
     */
    private static int createdAt(byte[] bytes, int from, int to) {
      int i = to - 1;
      while (i >= from && bytes[i] == '}') {
        i--;
      }
      while (i >= from && bytes[i] >= '0' && bytes[i] <= '9') {
        i--;
      }
      int at = i + 1 - CREATED.length;
      if (at >= from && Arrays.equals(bytes, at, at + CREATED.length, CREATED, 0, CREATED.length)) {
        return at;
      }
      return indexOf(bytes, from, to, CREATED);
    }

    /** Where {@code pattern} starts in {@code bytes[from, to)}, or -1. */
    private static int indexOf(byte[] bytes, int from, int to, byte[] pattern) {
      byte first = pattern[0];
      for (int i = from, last = to - pattern.length; i <= last; i++) {
        if (bytes[i] == first && Arrays.equals(bytes, i, i + pattern.length, pattern, 0, pattern.length)) {
          return i;
        }
      }
      return -1;
    }

    long delivered() {
      return connections.stream().mapToLong(c -> c.delivered).sum();
    }

    long messages() {
      return connections.stream().mapToLong(c -> c.messages).sum();
    }

    /** Every client still open has had all {@code events}. */
    boolean caughtUp(long events) {
      return connections.stream().allMatch(c -> c.lagged || c.closed || c.delivered >= events);
    }

    int count(java.util.function.Predicate<Connection> predicate) {
      return (int) connections.stream().filter(predicate).count();
    }

    void stop() throws InterruptedException {
      running = false;
      thread.join(5000);
    }

    long[] histogram() {
      return histogram.clone();
    }

    @Override
    public void close() throws IOException {
      running = false;
      for (Connection c : connections) {
        c.channel.close();
      }
      selector.close();
    }
  }
}
