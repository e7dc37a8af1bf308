package dev.warden.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code warden bench feed} on a tiny load: it runs a daemon, its clients get every event written, and
 * it writes its figures. Whether the figures are good is for docs/performance.md, not for a test.
 */
class FeedBenchIT {

  @TempDir Path tmp;

  @Test
  void aSmallRunDeliversEverythingAndWritesItsFigures() throws Exception {
    Path json = tmp.resolve("out/feed.json");
    assertEquals(0, FeedBench.run(new String[] {"--subscribers", "3", "--rate", "50", "--seconds", "2", "--warmup", "1",
        "--writers", "2", "--json", json.toString()}));
    JsonNode figures = new ObjectMapper().readTree(Files.readString(json));
    assertEquals(3, figures.get("subscribers").asInt());
    assertTrue(figures.get("events").asLong() > 0, figures.toString());
    assertEquals(figures.get("expected_deliveries").asLong(), figures.get("delivered").asLong(), figures.toString());
    assertEquals(3 * figures.get("events").asLong(), figures.get("delivered").asLong(), "each client got each event: " + figures);
    assertEquals(0, figures.get("lagged").asInt());
    assertTrue(figures.at("/latency_ms/p50").asDouble() > 0, figures.toString());
  }

  @Test
  void batchingClientsGetEveryEventOnceAndTheirMessagesAreCounted() throws Exception {
    Path json = tmp.resolve("out/feed-batch.json");
    assertEquals(0, FeedBench.run(new String[] {"--subscribers", "2", "--rate", "200", "--seconds", "2", "--warmup", "1",
        "--writers", "2", "--events-per-write", "5", "--batch", "--json", json.toString()}));
    JsonNode figures = new ObjectMapper().readTree(Files.readString(json));
    assertTrue(figures.get("batch").asBoolean(), figures.toString());
    assertEquals(2 * figures.get("events").asLong(), figures.get("delivered").asLong(), "each client got each event: " + figures);
    // a client that keeps up gets each event as soon as it is read, so how many share a message depends on the load
    long messages = figures.get("messages").asLong();
    assertTrue(messages > 0 && messages <= figures.get("delivered").asLong(), "messages counted: " + figures);
  }

  @Test
  void badOptionsAreUsageErrors() {
    assertEquals(2, FeedBench.run(new String[] {"--subscribers", "0"}));
    assertEquals(2, FeedBench.run(new String[] {"--frobnicate"}));
  }

  @Test
  void percentilesAreNearestRankOverTheHistogram() {
    long[] histogram = new long[10];
    histogram[0] = 1; // 0-10 µs
    histogram[4] = 2; // 40-50 µs
    histogram[9] = 1; // 90-100 µs
    assertEquals(0.01, FeedBench.percentile(histogram, 25), 1e-9);
    assertEquals(0.05, FeedBench.percentile(histogram, 50), 1e-9);
    assertEquals(0.1, FeedBench.percentile(histogram, 99), 1e-9);
  }
}
