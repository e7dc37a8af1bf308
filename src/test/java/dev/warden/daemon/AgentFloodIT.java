package dev.warden.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warden.testing.DaemonProcess;
import dev.warden.testing.GitRepos;
import dev.warden.testing.RunningDaemon;
import dev.warden.testing.ScriptedAgent;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reproduction of the out-of-memory crash: one agent token sends 40 {@code log} messages of 10 MB
 * each, then a viewer reads {@code GET .../agent}. The daemon runs in its own JVM with a 256 MiB heap
 * that exits on an OutOfMemoryError, so a crash shows as a dead process. Before the limits it died
 * (the last 1,000 lines were kept whole and rendered as one string).
 */
class AgentFloodIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long HEAP_LIMIT = 256L * 1024 * 1024;
  private static final List<String> SMALL_HEAP = List.of("-Xmx256m", "-XX:+ExitOnOutOfMemoryError");
  private static final int TEN_MB = 10 * 1024 * 1024;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path tmp;

  private static String bigLog(char fill) {
    return "{\"type\":\"log\",\"line\":\"" + String.valueOf(fill).repeat(TEN_MB) + "\"}";
  }

  @Test
  void fortyTenMegabyteFramesAreEachRefusedAndTheDaemonStaysHealthy() throws Exception {
    Path data = Files.createDirectories(tmp.resolve("data"));
    try (DaemonProcess daemon = DaemonProcess.start(data, "", SMALL_HEAP)) {
      createFeature(daemon, "flood");
      String frame = bigLog('x');
      for (int i = 0; i < 40; i++) {
        try (ScriptedAgent agent = ScriptedAgent.connect(daemon.port(), "flood", RunningDaemon.AGENT).hello("pause")) {
          agent.send("{\"type\":\"log\",\"line\":\"before " + i + "\"}");
          agent.send(frame);
          JsonNode error = agent.expect("error", 30);
          assertTrue(error.get("message").asText().contains("larger than the limit of 1048576 bytes"), error.toString());
          agent.closed().get(30, TimeUnit.SECONDS);
        }
      }
      JsonNode view = agentView(daemon);
      assertTrue(view.get("recentLog").toString().contains("before 39"), "small lines before the refused frames are kept");
      assertFalse(view.toString().contains("xxxxxxxxxx"), "nothing of a refused frame is kept");
      assertHealthy(daemon);
    }
  }

  @Test
  void fortyTenMegabyteLinesLetThroughAreCutAndTheViewStaysSmall() throws Exception {
    Path data = Files.createDirectories(tmp.resolve("data"));
    // the socket lets 10 MB messages through, so the line cap, the kept bytes and the view must hold
    try (DaemonProcess daemon = DaemonProcess.start(data, "warden.agent.max-message-bytes = 11m\n", SMALL_HEAP)) {
      createFeature(daemon, "flood");
      String frame = bigLog('y');
      try (ScriptedAgent agent = ScriptedAgent.connect(daemon.port(), "flood", RunningDaemon.AGENT).hello("pause")) {
        for (int i = 0; i < 40; i++) {
          agent.send(frame);
        }
        agent.send("{\"type\":\"log\",\"line\":\"the end\"}");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        JsonNode view = agentView(daemon);
        while (System.nanoTime() < deadline && !lastLine(view).contains("the end")) {
          Thread.sleep(200);
          view = agentView(daemon);
        }
        assertTrue(lastLine(view).contains("the end"), "every message was handled: " + lastLine(view));
        String body = get(daemon, "/api/v1/features/flood/agent", RunningDaemon.VIEWER).body();
        assertTrue(body.length() < 300 * 1024, "the view is bounded by log-bytes-kept (256 KiB): " + body.length() + " bytes");
        JsonNode lines = view.get("recentLog");
        assertTrue(lines.size() >= 10 && lines.size() <= 17, "about 256 KiB of 16 KiB lines: " + lines.size());
        for (int i = 0; i < lines.size() - 1; i++) {
          String line = lines.get(i).asText();
          assertTrue(line.length() < 17 * 1024, "each line is cut at 16 KiB: " + line.length());
          assertTrue(line.endsWith("[cut: the line had " + TEN_MB + " bytes, the limit is 16384]"), line.substring(line.length() - 80));
        }
      }
      assertHealthy(daemon);
    }
  }

  private void assertHealthy(DaemonProcess daemon) throws Exception {
    assertTrue(daemon.isAlive(), "the daemon is alive");
    HttpResponse<String> ready = get(daemon, "/health/ready", null);
    assertEquals(200, ready.statusCode(), ready.body());
    assertEquals(200, get(daemon, "/api/v1/features/flood", RunningDaemon.VIEWER).statusCode(), "it answers");
    long heap = heapUsed(get(daemon, "/metrics", null).body());
    System.out.printf("AgentFloodIT: heap used %.1f MiB of %d MiB%n", heap / 1048576.0, HEAP_LIMIT / 1048576);
    assertTrue(heap < HEAP_LIMIT, "heap used " + heap);
    assertFalse(daemon.output().contains("OutOfMemoryError"), "no OutOfMemoryError in the daemon's log");
  }

  /** The sum of jvm_memory_used_bytes over the heap's pools. */
  private static long heapUsed(String metrics) {
    Matcher m = Pattern.compile("(?m)^jvm_memory_used_bytes\\{[^}]*area=\"heap\"[^}]*} ([0-9.Ee+]+)$").matcher(metrics);
    double sum = 0;
    int pools = 0;
    while (m.find()) {
      sum += Double.parseDouble(m.group(1));
      pools++;
    }
    assertTrue(pools > 0, "heap pools in /metrics");
    return (long) sum;
  }

  private static String lastLine(JsonNode view) {
    JsonNode lines = view.get("recentLog");
    return lines.isEmpty() ? "" : lines.get(lines.size() - 1).asText();
  }

  private JsonNode agentView(DaemonProcess daemon) throws Exception {
    HttpResponse<String> response = get(daemon, "/api/v1/features/flood/agent", RunningDaemon.VIEWER);
    assertEquals(200, response.statusCode(), response.body());
    return JSON.readTree(response.body());
  }

  private void createFeature(DaemonProcess daemon, String id) throws Exception {
    Path repo = GitRepos.create(tmp.resolve("repo-" + id)).toRealPath();
    HttpResponse<String> created = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + daemon.port() + "/api/v1/features"))
        .header("Authorization", "Bearer " + RunningDaemon.AGENT).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"id\":\"" + id + "\",\"repo\":\"" + repo + "\",\"target\":\"main\"}"))
        .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(201, created.statusCode(), created.body());
  }

  private HttpResponse<String> get(DaemonProcess daemon, String path, String token) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + daemon.port() + path)).timeout(Duration.ofSeconds(60));
    if (token != null) {
      request.header("Authorization", "Bearer " + token);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }
}
