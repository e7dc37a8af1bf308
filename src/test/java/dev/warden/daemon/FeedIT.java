package dev.warden.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import com.fasterxml.jackson.databind.JsonNode;
import dev.warden.testing.FeedClient;
import dev.warden.testing.FeedProbe;
import dev.warden.testing.GitRepos;
import dev.warden.testing.RunningDaemon;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The live activity feed of a real daemon (H2 journal, real WebSockets): events written while many
 * clients connect, read a little, drop and resume with {@code since} reach each of them exactly once
 * and in order; a client that stops reading is cut off with {@code lagged} and can resume from where
 * it was, while the others go on; filters; and the errors a client can make. Delivery is asserted,
 * never speed: {@code bin/warden bench feed} measures that.
 */
class FeedIT {

  /** How long a test waits for what it expects before it fails (a guard against hanging, not a measurement). */
  private static final long PATIENCE_MS = 120_000;

  @TempDir static Path tmp;
  private static RunningDaemon daemon;
  private static ActorSystem<?> system;
  private static int port;

  @BeforeAll
  static void start() {
    daemon = RunningDaemon.start(RunningDaemon.config(tmp.resolve("data"), "", "", "", List.of(tmp), true)).awaitReady();
    system = daemon.daemon().system();
    port = daemon.daemon().httpAddress().getPort();
  }

  @AfterAll
  static void stop() {
    daemon.close();
  }

  private static String fresh(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  private static String q(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8);
  }

  // ---- many subscribers, reconnecting ----

  private record Seen(long offset, int writer, int n) {}

  /** What one subscriber saw of the load, across all its connections. */
  private record Outcome(List<Seen> load, int connections, int lags, int mostPerMessage, List<String> problems) {}

  @Test
  void fiftySubscribersConnectingAndReconnectingWithSinceSeeEveryEventOnceInOffsetOrder() throws Exception {
    String load = fresh("load");
    int writers = 8;
    int perWriter = 125;
    int total = writers * perWriter;

    // live-only subscribers first; once they have the marker event they are surely attached to the feed
    List<FeedClient> liveOnly = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      liveOnly.add(FeedClient.connect(port, "", RunningDaemon.VIEWER));
    }
    String markerFeature = fresh("marker");
    FeedProbe.write(system, FeedProbe.start(system, markerFeature, 0, ""), 1);
    long[] markerOffset = new long[liveOnly.size()];
    for (int i = 0; i < liveOnly.size(); i++) {
      JsonNode marker = next(liveOnly.get(i), m -> markerFeature.equals(m.path("feature").asText()), "the marker event");
      markerOffset[i] = marker.get("offset").asLong();
    }

    ExecutorService threads = Executors.newFixedThreadPool(50 + writers);
    try {
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(PATIENCE_MS);
      List<Future<Outcome>> subscribers = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        int index = i;
        // the live-only ones were connected unfiltered; half of the others ask for the load's feature only;
        // every third one of those asks for batches (several events per message) on each of its connections
        boolean filtered = i >= liveOnly.size() && i % 2 == 1;
        String filter = (filtered ? "&feature=" + load : "") + (i >= liveOnly.size() && i % 3 == 0 ? "&batch=true" : "");
        subscribers.add(threads.submit(() -> {
          if (index < liveOnly.size()) {
            return subscribe(liveOnly.get(index), markerOffset[index], filter, load, total, deadline);
          }
          // the others join with since: from the marker's offset, or replaying the whole journal
          long since = index < 35 ? markerOffset[0] : 0;
          return subscribe(FeedClient.connect(port, "since=" + since + filter, RunningDaemon.VIEWER), since, filter, load, total, deadline);
        }));
      }
      List<Future<?>> writing = new ArrayList<>();
      for (int w = 0; w < writers; w++) {
        ActorRef<FeedProbe.Write> probe = FeedProbe.start(system, load, w, "event of the load test");
        writing.add(threads.submit(() -> {
          int written = 0;
          while (written < perWriter) {
            // one to eight events per journal write: many writes, interleaved across the writers
            int batch = Math.min(perWriter - written, 1 + ThreadLocalRandom.current().nextInt(8));
            FeedProbe.write(system, probe, batch);
            written += batch;
          }
          return null;
        }));
      }
      long writeStart = System.nanoTime();
      for (Future<?> w : writing) {
        w.get(PATIENCE_MS, TimeUnit.MILLISECONDS);
      }
      long writeMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - writeStart);

      // what the journal holds, read by one more client that replays it from the start
      List<Long> journal = new ArrayList<>();
      try (FeedClient replay = FeedClient.connect(port, "since=0&feature=" + load, RunningDaemon.VIEWER)) {
        while (journal.size() < total) {
          journal.add(next(replay, m -> m.has("offset"), "event " + (journal.size() + 1) + " of the replay").get("offset").asLong());
        }
      }

      int connections = 0;
      int lags = 0;
      int mostPerBatch = 0;
      for (int i = 0; i < subscribers.size(); i++) {
        Outcome outcome = subscribers.get(i).get(PATIENCE_MS, TimeUnit.MILLISECONDS);
        assertEquals(List.of(), outcome.problems(), "subscriber " + i);
        assertEquals(journal, outcome.load().stream().map(Seen::offset).toList(),
            "subscriber " + i + " must see every event once, in offset order");
        Map<Integer, Integer> lastN = new HashMap<>();
        for (Seen seen : outcome.load()) {
          int expected = lastN.getOrDefault(seen.writer(), 0) + 1;
          assertEquals(expected, seen.n(), "subscriber " + i + ": writer " + seen.writer() + "'s events in the order written");
          lastN.put(seen.writer(), seen.n());
        }
        connections += outcome.connections();
        lags += outcome.lags();
        mostPerBatch = Math.max(mostPerBatch, outcome.mostPerMessage());
      }
      assertTrue(connections >= 50 * 3, "the subscribers really did reconnect often: " + connections + " connections");
      assertTrue(mostPerBatch > 1, "the batching subscribers were sent several events in one message: at most " + mostPerBatch);
      System.out.printf("feed IT: %d events written in %d ms, 50 subscribers done %d ms later, %d connections, %d lagged%n",
          total, writeMs, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - writeStart) - writeMs, connections, lags);
    } finally {
      threads.shutdownNow();
      liveOnly.forEach(FeedClient::close);
    }
  }

  /**
   * Reads until all {@code total} events of {@code load} are in, dropping the connection after a few
   * events each time and resuming with {@code since} = the last offset seen (or {@code resumeFrom}
   * after {@code lagged}). Every offset must be higher than the one before, across connections.
   * {@code filter} holds the query's other parameters ({@code &feature=...}, {@code &batch=true}).
   */
  private static Outcome subscribe(FeedClient first, long since, String filter, String load, int total, long deadline)
      throws Exception {
    List<Seen> seen = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    long position = since;
    int connections = 1;
    int lags = 0;
    int mostPerMessage = 0;
    int budget = 1 + ThreadLocalRandom.current().nextInt(120);
    FeedClient client = first;
    try {
      while (seen.size() < total) {
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        JsonNode message = left <= 0 ? null : client.poll(left);
        if (message == null) {
          problems.add("only " + seen.size() + " of " + total + " events in time (last offset " + position + ")");
          break;
        }
        String type = message.path("type").asText();
        if (message == FeedClient.CLOSED) {
          problems.add("closed by the server without lagged at offset " + position);
          break;
        }
        if (type.equals("ping")) {
          continue;
        }
        if (type.equals("lagged")) {
          long resumeFrom = message.get("resumeFrom").asLong();
          if (resumeFrom < position) {
            problems.add("lagged with resumeFrom " + resumeFrom + " before the last offset received " + position);
          }
          position = resumeFrom;
          lags++;
        } else {
          long offset = message.get("offset").asLong();
          if (offset <= position) {
            problems.add("offset " + offset + " after " + position + ": a duplicate or out of order");
          }
          position = offset;
          if (load.equals(message.path("feature").asText())) {
            seen.add(new Seen(offset, message.at("/data/writer").asInt(), message.at("/data/n").asInt()));
          } else if (filter.contains("feature=")) {
            problems.add("an event of another feature despite " + filter + ": " + message);
          }
          if (--budget > 0 || seen.size() == total) {
            continue;
          }
          budget = 1 + ThreadLocalRandom.current().nextInt(120);
        }
        mostPerMessage = Math.max(mostPerMessage, client.mostEventsPerMessage());
        client.close();
        client = FeedClient.connect(port, "since=" + position + filter, RunningDaemon.VIEWER);
        connections++;
      }
    } finally {
      client.close();
    }
    mostPerMessage = Math.max(mostPerMessage, client.mostEventsPerMessage());
    return new Outcome(seen, connections, lags, mostPerMessage, problems);
  }

  // ---- a client that stops reading ----

  /** Reads a client's messages as they come, checking that the load's events arrive once and in order. */
  private static final class Reader {
    final FeedClient client;
    int lastN;
    long lastOffset = -1;
    final List<String> problems = new ArrayList<>();

    Reader(FeedClient client) {
      this.client = client;
    }

    /** Takes what has arrived until the reader has event {@code n}; false when it did not come in time. */
    boolean readUntil(int n, long deadline) throws InterruptedException {
      while (lastN < n) {
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        JsonNode message = left <= 0 ? null : client.poll(left);
        if (message == null) {
          return false;
        }
        if (message == FeedClient.CLOSED || message.path("type").asText().equals("lagged")) {
          problems.add("cut off after event " + lastN + ": " + message);
          return false;
        }
        if (message.has("offset")) {
          take(message);
        }
      }
      return true;
    }

    void take(JsonNode message) {
      long offset = message.get("offset").asLong();
      int n = message.at("/data/n").asInt();
      if (offset <= lastOffset || (lastN > 0 && n != lastN + 1)) {
        problems.add("event " + n + " at offset " + offset + " after event " + lastN + " at offset " + lastOffset);
      }
      lastOffset = offset;
      lastN = n;
    }
  }

  private static double laggedSoFar() {
    Matcher m = Pattern.compile("(?m)^warden_feed_lagged_total (\\S+)").matcher(daemon.get("/metrics", null).body());
    assertTrue(m.find(), "the lagged counter is on /metrics");
    return Double.parseDouble(m.group(1));
  }

  @Test
  void aClientThatStopsReadingIsCutOffWithLaggedAndResumesWhileTheOthersReceiveEverything() throws Exception {
    String feature = fresh("lag");
    ActorRef<FeedProbe.Write> probe = FeedProbe.start(system, feature, 0, "x".repeat(900));
    String only = "feature=" + feature;
    List<Reader> readers = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      readers.add(new Reader(FeedClient.connect(port, only, RunningDaemon.VIEWER)));
    }
    FeedClient frozen = FeedClient.connect(port, only, RunningDaemon.VIEWER, true);
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(PATIENCE_MS);
    try {
      // the frozen client reads nothing; write until the daemon has cut one subscriber off, the readers keeping pace
      double laggedBefore = laggedSoFar();
      int written = 0;
      while (laggedSoFar() == laggedBefore) {
        assertTrue(written < 40_000, "no subscriber was cut off after " + written + " events");
        FeedProbe.write(system, probe, 100);
        written += 100;
        for (Reader reader : readers) {
          assertTrue(reader.readUntil(written, deadline), "a reading client got event " + reader.lastN + " of " + written
              + " " + reader.problems);
        }
      }
      // the others go on receiving after the cut
      FeedProbe.write(system, probe, 100);
      written += 100;
      for (Reader reader : readers) {
        assertTrue(reader.readUntil(written, deadline), "after the cut a reading client got " + reader.lastN + " of " + written);
        assertEquals(List.of(), reader.problems);
      }

      // the frozen client wakes up: what its socket held, in order, then lagged naming its last event, then the end
      frozen.resume();
      Reader woken = new Reader(frozen);
      JsonNode lagged = null;
      while (lagged == null) {
        JsonNode message = frozen.poll(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        assertNotNull(message, "the frozen client's messages end with lagged (got up to event " + woken.lastN + ")");
        assertFalse(message == FeedClient.CLOSED, "closed without lagged after event " + woken.lastN);
        if (message.path("type").asText().equals("lagged")) {
          lagged = message;
        } else if (message.has("offset")) {
          woken.take(message);
        }
      }
      assertEquals(List.of(), woken.problems);
      assertTrue(woken.lastN > 0 && woken.lastN < written, "cut off part way: after event " + woken.lastN + " of " + written);
      assertEquals(woken.lastOffset, lagged.get("resumeFrom").asLong(), "resumeFrom is the last event it was sent");
      assertEquals(FeedClient.CLOSED, frozen.poll(PATIENCE_MS), "the server closes a lagged client");

      // resuming from there brings the rest, from the journal then live, with nothing missing or repeated
      try (FeedClient resumed = FeedClient.connect(port, only + "&since=" + lagged.get("resumeFrom").asLong(), RunningDaemon.VIEWER)) {
        Reader rest = new Reader(resumed);
        rest.lastN = woken.lastN;
        rest.lastOffset = woken.lastOffset;
        assertTrue(rest.readUntil(written, deadline), "the resumed client got up to event " + rest.lastN + " of " + written);
        FeedProbe.write(system, probe, 1);
        assertTrue(rest.readUntil(written + 1, deadline), "and then the live event " + (written + 1));
        assertEquals(List.of(), rest.problems);
      }
      System.out.printf("feed IT: the frozen client was cut off after %d of %d events%n", woken.lastN, written);
    } finally {
      frozen.close();
      readers.forEach(r -> r.client.close());
    }
  }

  // ---- real features, filters ----

  @Test
  void realFeatureEventsAreReadableAndFilteredByFeatureAndType() throws Exception {
    Path repo = GitRepos.create(tmp.resolve(fresh("repo")));
    String a = fresh("fa");
    String b = fresh("fb");
    for (String id : List.of(a, b)) {
      assertEquals(201, daemon.post("/api/v1/features", RunningDaemon.AGENT,
          "{\"id\":\"" + id + "\",\"repo\":\"" + repo + "\",\"target\":\"main\"}").status());
    }
    daemon.post("/api/v1/features/" + a + "/pause", RunningDaemon.AGENT, "{\"reason\":\"lunch\"}");
    daemon.post("/api/v1/features/" + b + "/pause", RunningDaemon.AGENT, "");

    Set<String> pausesAndResumes = Set.of("feature.paused", "feature.resumed");
    try (FeedClient onlyA = FeedClient.connect(port, "since=0&feature=" + a, RunningDaemon.VIEWER);
        FeedClient pauses = FeedClient.connect(port, "since=0&types=" + q("feature.paused,feature.resumed"), RunningDaemon.VIEWER);
        FeedClient pausesOfB = FeedClient.connect(port, "since=0&feature=" + b + "&types=feature.resumed", RunningDaemon.VIEWER)) {
      // replayed first, then live
      daemon.post("/api/v1/features/" + a + "/resume", RunningDaemon.AGENT, "");
      daemon.post("/api/v1/features/" + b + "/resume", RunningDaemon.AGENT, "");
      daemon.delete("/api/v1/features/" + a, RunningDaemon.APPROVER);

      Map<String, JsonNode> ofA = new HashMap<>();
      long last = -1;
      while (!ofA.containsKey("feature.abandoned")) {
        JsonNode m = next(onlyA, x -> x.has("offset"), "the events of " + a + " up to its abandonment (had " + ofA.keySet() + ")");
        assertEquals(a, m.get("feature").asText(), m.toString());
        assertTrue(m.get("offset").asLong() > last, "in offset order");
        last = m.get("offset").asLong();
        assertFalse(m.toString().contains("dev.warden") || m.toString().contains("Feature"), "no class names: " + m);
        ofA.putIfAbsent(m.get("type").asText(), m);
      }
      assertTrue(ofA.keySet().containsAll(List.of("feature.registered", "feature.activated", "checkpoint.chain_started",
          "watchdog.started", "feature.paused", "feature.resumed")), ofA.keySet().toString());
      assertEquals(repo.toRealPath().toString(), ofA.get("feature.registered").at("/data/repo").asText());
      assertEquals("main", ofA.get("feature.registered").at("/data/target").asText());
      assertEquals("claude", ofA.get("feature.registered").at("/data/by").asText(), "who created it: the agent token's name");
      assertEquals("lunch", ofA.get("feature.paused").at("/data/reason").asText());
      assertEquals("lead", ofA.get("feature.abandoned").at("/data/by").asText(), "who abandoned it: the approver");

      Set<String> wanted = new HashSet<>(List.of(a + " feature.paused", a + " feature.resumed", b + " feature.paused", b + " feature.resumed"));
      Set<String> got = Collections.synchronizedSet(new HashSet<>());
      while (!got.containsAll(wanted)) {
        JsonNode m = next(pauses, x -> x.has("offset"), "pauses and resumes of both features (had " + got + ")");
        assertTrue(pausesAndResumes.contains(m.get("type").asText()), "only the types asked for: " + m);
        got.add(m.get("feature").asText() + " " + m.get("type").asText());
      }
      JsonNode resumedB = next(pausesOfB, x -> x.has("offset"), "the resume of " + b);
      assertEquals(b, resumedB.get("feature").asText());
      assertEquals("feature.resumed", resumedB.get("type").asText());
      assertEquals("claude", resumedB.at("/data/by").asText());
    }
  }

  // ---- errors ----

  @Test
  void aClientWithoutAValidTokenOrWithABadQueryIsRefusedBeforeTheUpgrade() throws Exception {
    assertEquals(401, FeedClient.refusedStatus(port, "", null));
    assertEquals(401, FeedClient.refusedStatus(port, "", "guess"));
    assertEquals(401, FeedClient.refusedStatus(port, "token=guess", null));
    daemon.get("/api/v1/events", null).assertProblem(401, null);
    daemon.get("/api/v1/events?token=guess", null).assertProblem(401, null);

    assertEquals(400, FeedClient.refusedStatus(port, "since=-1", RunningDaemon.VIEWER));
    daemon.get("/api/v1/events?since=-1", RunningDaemon.VIEWER).assertProblem(400, "since");
    daemon.get("/api/v1/events?since=yesterday", RunningDaemon.VIEWER).assertProblem(400, "since");
    daemon.get("/api/v1/events?feature=Not_A_Slug", RunningDaemon.VIEWER).assertProblem(400, "feature");
    RunningDaemon.Response unknown = daemon.get("/api/v1/events?types=checkpoint.take", RunningDaemon.VIEWER).assertProblem(400, "types");
    assertTrue(unknown.json().get("detail").asText().contains("checkpoint.taken"), "the known types are listed: " + unknown.body());
    daemon.get("/api/v1/events?types=" + q("feature.paused,,feature.resumed"), RunningDaemon.VIEWER).assertProblem(400, "types");
    daemon.get("/api/v1/events?batch=yes", RunningDaemon.VIEWER).assertProblem(400, "batch");
    // a valid query without an upgrade: this is a WebSocket
    daemon.get("/api/v1/events?since=0", RunningDaemon.VIEWER).assertProblem(400, null);

    // every role may watch (each includes viewer), so there is no 403 here; a browser passes its token in the URL
    for (String token : List.of(RunningDaemon.VIEWER, RunningDaemon.AGENT, RunningDaemon.APPROVER, RunningDaemon.ADMIN)) {
      assertEquals(-1, FeedClient.refusedStatus(port, "", token), token);
    }
    String feature = fresh("browser");
    try (FeedClient browser = FeedClient.connect(port, "token=" + RunningDaemon.VIEWER + "&since=0&feature=" + feature, null)) {
      FeedProbe.write(system, FeedProbe.start(system, feature, 0, "hello"), 1);
      JsonNode event = next(browser, m -> m.has("offset"), "the event, through a ?token= connection");
      assertEquals("probe.noted", event.get("type").asText());
      assertEquals("hello", event.at("/data/note").asText());
    }
  }

  private static JsonNode next(FeedClient client, java.util.function.Predicate<JsonNode> wanted, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(PATIENCE_MS);
    ConcurrentLinkedQueue<String> skipped = new ConcurrentLinkedQueue<>();
    while (System.nanoTime() < deadline) {
      JsonNode message = client.poll(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
      if (message == null) {
        break;
      }
      if (message == FeedClient.CLOSED) {
        fail("the feed closed while waiting for " + what);
      }
      if (wanted.test(message)) {
        return message;
      }
      if (skipped.size() < 5) {
        skipped.add(message.toString());
      }
    }
    fail("no " + what + " within " + PATIENCE_MS + " ms; skipped " + skipped);
    return null;
  }
}
