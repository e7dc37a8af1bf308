package dev.warden.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warden.testing.DaemonProcess;
import dev.warden.testing.GitRepos;
import dev.warden.testing.RunningDaemon;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * The daemon is killed with SIGKILL in the middle of a burst of writes. After a restart the checkpoint
 * chain is intact (each commit's parent is the previous checkpoint, the first one's the base) and the
 * next checkpoint holds every file on disk, byte for byte (same tree id as git's own snapshot).
 */
class CrashRecoveryIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newHttpClient();

  @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path tmp;

  private JsonNode call(int port, String method, String path, String token, String body) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .header("Authorization", "Bearer " + token).timeout(java.time.Duration.ofSeconds(60))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    assertTrue(response.statusCode() < 300, path + " -> " + response.statusCode() + " " + response.body());
    return JSON.readTree(response.body());
  }

  @Test
  void aKilledDaemonLeavesAnIntactChainAndTheNextCheckpointHasEveryFile() throws Exception {
    Path repo = GitRepos.create(tmp.resolve("repo")).toRealPath();
    Path data = Files.createDirectories(tmp.resolve("data"));
    Path worktree;
    String base = GitRepos.git(repo, "rev-parse", "main");

    try (DaemonProcess daemon = DaemonProcess.start(data)) {
      JsonNode feature = call(daemon.port(), "POST", "/api/v1/features", RunningDaemon.AGENT,
          "{\"id\":\"burst\",\"repo\":\"" + repo + "\",\"target\":\"main\"}");
      worktree = Path.of(feature.get("worktree").asText());
      // a burst: 40 directories x 50 files, each rewritten several times, killed half way
      Thread writer = new Thread(() -> {
        try {
          for (int round = 0; round < 5; round++) {
            for (int d = 0; d < 40; d++) {
              Path dir = Files.createDirectories(worktree.resolve("d" + d));
              for (int f = 0; f < 50; f++) {
                Files.writeString(dir.resolve("f" + f + ".txt"), "round " + round + " file " + d + "/" + f + "\n");
              }
            }
            Thread.sleep(300);
          }
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      writer.start();
      Thread.sleep(1200);
      daemon.kill();
      writer.join(TimeUnit.SECONDS.toMillis(60));
    }

    try (DaemonProcess daemon = DaemonProcess.start(data)) {
      // after the restart the watchdog catches up with a full scan by itself; a manual one makes it certain
      JsonNode latest = call(daemon.port(), "POST", "/api/v1/features/burst/checkpoint", RunningDaemon.AGENT, "");
      JsonNode page = call(daemon.port(), "GET", "/api/v1/features/burst/checkpoints?limit=500", RunningDaemon.VIEWER, null);
      String expectedParent = base;
      for (JsonNode checkpoint : page.get("checkpoints")) {
        assertEquals(expectedParent, checkpoint.get("parent").asText(), "checkpoint " + checkpoint.get("seq") + " breaks the chain");
        assertEquals(expectedParent, GitRepos.git(repo, "rev-parse", checkpoint.get("commit").asText() + "^"));
        expectedParent = checkpoint.get("commit").asText();
      }
      assertEquals(expectedParent, GitRepos.git(repo, "rev-parse", "refs/warden/burst/checkpoints"), "the ref is the last recorded checkpoint");

      // git's own snapshot of the worktree, into a scratch index: the same tree, file for file
      Path index = tmp.resolve("scratch-index");
      ProcessBuilder add = new ProcessBuilder("git", "-C", worktree.toString(), "add", "-A").redirectErrorStream(true);
      add.environment().put("GIT_INDEX_FILE", index.toString());
      assertEquals(0, add.start().waitFor());
      ProcessBuilder writeTree = new ProcessBuilder("git", "-C", worktree.toString(), "write-tree").redirectErrorStream(true);
      writeTree.environment().put("GIT_INDEX_FILE", index.toString());
      Process process = writeTree.start();
      String tree = new String(process.getInputStream().readAllBytes()).trim();
      process.waitFor();
      assertEquals(tree, latest.get("tree").asText(), "the checkpoint after the restart must hold every file on disk");
      assertEquals(2000, Integer.parseInt(GitRepos.git(repo, "ls-tree", "-r", "--name-only", latest.get("commit").asText())
          .lines().filter(l -> l.startsWith("d")).count() + ""));
    }
  }
}
