package dev.warden.bench;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Props;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import dev.warden.auth.TokenRegistry;
import dev.warden.daemon.WardenConfig;
import dev.warden.daemon.WardenDaemon;
import dev.warden.git.Directories;
import dev.warden.persistence.DatabaseSettings;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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
@Command(name = "feed",
    description = "Delivery latency of the live feed, persist to client, with many WebSocket subscribers (docs/performance.md).")
public final class FeedBench implements Callable<Integer> {

  static final String FEATURE = "bench";
  /** Latency histogram resolution and range: 10 µs buckets up to 10 s (later ones count in the last). */
  static final long BUCKET_NANOS = 10_000;
  static final int BUCKETS = 1_000_000;

  @Option(names = "--subscribers", paramLabel = "N", description = "WebSocket clients (default: ${DEFAULT-VALUE})")
  int subscribers = 1000;

  @Option(names = "--rate", paramLabel = "R", description = "events per second asked (default: ${DEFAULT-VALUE})")
  int rate = 1000;

  @Option(names = "--seconds", paramLabel = "S", description = "measured seconds (default: ${DEFAULT-VALUE})")
  int seconds = 20;

  @Option(names = "--warmup", paramLabel = "W", description = "seconds of warm-up (default: ${DEFAULT-VALUE})")
  int warmup = 5;

  @Option(names = "--writers", paramLabel = "K", description = "event-sourced writers (default: ${DEFAULT-VALUE})")
  int writers = 32;

  @Option(names = "--events-per-write", paramLabel = "E", description = "events per journal write (default: ${DEFAULT-VALUE})")
  int perWrite = 1;

  @Option(names = "--buffer", paramLabel = "B", description = "the daemon's subscriber buffer (default: as configured)")
  Integer buffer;

  @Option(names = "--batch", description = "the clients ask for ?batch=true")
  boolean batch;

  @Mixin
  BenchOutput output = new BenchOutput();

  @Spec
  CommandSpec spec;

  FeedBench() {}

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the bench with {@code args} (those after {@code warden bench feed}); the exit status. */
  public static int run(String[] args) {
    return BenchCommand.run("feed", args);
  }

  @Override
  public Integer call() {
    if (subscribers < 1 || rate < 1 || seconds < 1 || warmup < 0 || writers < 1 || perWrite < 1) {
      throw new ParameterException(spec.commandLine(), "subscribers, rate, seconds, writers and events-per-write must be at least 1, warmup at least 0");
    }
    try {
      Result result = measure(subscribers, rate, seconds, warmup, writers, perWrite, buffer, batch);
      output.report(result.table(), result.json());
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
    FeedClients clients = null;
    try {
      long totalNanos = TimeUnit.SECONDS.toNanos(warmup + seconds);
      Window window = new Window();
      List<ActorRef<FeedWriter.Tick>> writers = new ArrayList<>();
      for (int i = 0; i < writerCount; i++) {
        writers.add(daemon.system().systemActorOf(FeedWriter.create(i, window, perWrite), "feed-bench-writer-" + i, Props.empty()));
      }
      System.out.printf(Locale.ROOT, "connecting %d subscribers ...%n", subscribers);
      clients = FeedClients.connect(daemon.httpAddress().getPort(), token, subscribers, window, batch);
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
          writers.get((int) (n % writers.size())).tell(FeedWriter.Tick.INSTANCE);
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
      for (FeedClients.Connection c : clients.connections) {
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
}
