package dev.warden.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warden.checkpoint.Checkpoints;
import dev.warden.testing.DaemonProcess;
import dev.warden.testing.GitRepos;
import dev.warden.testing.RunningDaemon;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * A chain longer than the records its entity keeps ({@link Checkpoints#RECENT_KEPT}): the oldest
 * checkpoints are still listed and read, the same before and after a restart, read back from the
 * daemon's own JDBC journal.
 */
class CheckpointHistoryIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newHttpClient();

  @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path tmp;

  private JsonNode call(int port, String method, String path, String token) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .header("Authorization", "Bearer " + token).timeout(java.time.Duration.ofSeconds(60))
        .method(method, HttpRequest.BodyPublishers.noBody());
    HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    assertTrue(response.statusCode() < 300, path + " -> " + response.statusCode() + " " + response.body());
    return JSON.readTree(response.body());
  }

  @Test
  void theOldestCheckpointsOfALongChainAreStillListedAndReadAfterARestart() throws Exception {
    Path repo = GitRepos.create(tmp.resolve("repo")).toRealPath();
    Path data = Files.createDirectories(tmp.resolve("data"));
    String base = GitRepos.git(repo, "rev-parse", "main");
    int taken = Checkpoints.RECENT_KEPT + 6;
    JsonNode firstPage;
    JsonNode first;

    try (DaemonProcess daemon = DaemonProcess.start(data)) {
      HttpResponse<String> created = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + daemon.port() + "/api/v1/features"))
          .header("Authorization", "Bearer " + RunningDaemon.AGENT)
          .POST(HttpRequest.BodyPublishers.ofString("{\"id\":\"long\",\"repo\":\"" + repo + "\",\"target\":\"main\"}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertTrue(created.statusCode() < 300, created.body());
      Path worktree = Path.of(JSON.readTree(created.body()).get("worktree").asText());
      for (int i = 1; i <= taken; i++) {
        Files.writeString(worktree.resolve("a.txt"), "version " + i + "\n");
        call(daemon.port(), "POST", "/api/v1/features/long/checkpoint", RunningDaemon.AGENT);
      }
      firstPage = call(daemon.port(), "GET", "/api/v1/features/long/checkpoints?offset=0&limit=5", RunningDaemon.VIEWER);
      assertTrue(firstPage.get("total").asLong() >= taken, firstPage.toString());
      String parent = base;
      long seq = 1;
      for (JsonNode checkpoint : firstPage.get("checkpoints")) {
        assertEquals(seq++, checkpoint.get("seq").asLong());
        assertEquals(parent, checkpoint.get("parent").asText(), "the chain from the base, read from the journal");
        parent = checkpoint.get("commit").asText();
      }
      assertEquals(5, seq - 1);
      first = call(daemon.port(), "GET", "/api/v1/features/long/checkpoints/1", RunningDaemon.VIEWER);
      assertEquals(firstPage.get("checkpoints").get(0), first.get("checkpoint"));
    }

    try (DaemonProcess daemon = DaemonProcess.start(data)) {
      assertEquals(firstPage.get("checkpoints"),
          call(daemon.port(), "GET", "/api/v1/features/long/checkpoints?offset=0&limit=5", RunningDaemon.VIEWER).get("checkpoints"));
      assertEquals(first, call(daemon.port(), "GET", "/api/v1/features/long/checkpoints/1", RunningDaemon.VIEWER));
    }
  }
}
