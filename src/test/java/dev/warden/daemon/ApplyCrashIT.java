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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * The daemon process is killed with SIGKILL right after a proposal was approved, and again while an
 * apply is running its test: after each restart the proposal lands, exactly once.
 */
class ApplyCrashIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newHttpClient();

  @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path tmp;

  private HttpResponse<String> call(int port, String method, String path, String token, String body) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .header("Authorization", "Bearer " + token).timeout(java.time.Duration.ofSeconds(60))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private JsonNode ok(HttpResponse<String> response) throws Exception {
    assertTrue(response.statusCode() < 300, response.uri() + " -> " + response.statusCode() + " " + response.body());
    return JSON.readTree(response.body());
  }

  private JsonNode awaitApplied(int port, String id) throws Exception {
    long deadline = System.nanoTime() + 60_000_000_000L;
    JsonNode proposal = null;
    while (System.nanoTime() < deadline) {
      proposal = ok(call(port, "GET", "/api/v1/approvals/" + id, RunningDaemon.VIEWER, null));
      if (proposal.get("status").asText().equals("applied")) {
        return proposal;
      }
      Thread.sleep(100);
    }
    throw new AssertionError(id + " not applied within 60 s: " + proposal);
  }

  private static long landings(Path repo, String id) {
    return GitRepos.git(repo, "log", "--format=%H", "--grep=Warden-Proposal: " + id + "$", "main").lines().count();
  }

  @Test
  void aProposalIsAppliedExactlyOnceWhateverMomentTheDaemonIsKilledAt() throws Exception {
    Path repo = GitRepos.create(tmp.resolve("repo")).toRealPath();
    GitRepos.git(repo, "checkout", "-q", "other");
    Path data = Files.createDirectories(tmp.resolve("data"));
    Path policy = tmp.resolve("policy.conf");
    Files.writeString(policy, "rules = [ { paths = \"docs/**\", tier = low }, { paths = \"**\", tier = high } ]\n");
    Path markers = Files.createDirectories(tmp.resolve("markers"));
    Path started = markers.resolve("test-started");
    // the test command takes a while: a window to kill the daemon in; on a landing commit (the apply,
    // not a checkpoint's validation: it has the Warden-Proposal trailer, merge or squash) it first says
    // it started, in the one directory its sandbox may write
    String plan = "{\"test\":{\"argv\":[\"sh\",\"-c\",\"if git log -1 --format=%B | grep -q Warden-Proposal:; then touch " + started
        + "; fi; sleep 3\"]},\"sandbox\":{\"writable\":[\"" + markers + "\"]}}";
    String config = "warden.policy.file = \"" + policy + "\"\n";

    // 1. killed right after the approval was recorded, before the apply could finish
    try (DaemonProcess daemon = DaemonProcess.start(data, config)) {
      int port = daemon.port();
      JsonNode feature = ok(call(port, "POST", "/api/v1/features", RunningDaemon.APPROVER, // a plan with a test needs the approver role
          "{\"id\":\"approved\",\"repo\":\"" + repo + "\",\"target\":\"main\",\"plan\":" + plan + "}"));
      Files.writeString(Path.of(feature.get("worktree").asText()).resolve("high.txt"), "high\n");
      assertEquals("high", ok(call(port, "POST", "/api/v1/features/approved/propose", RunningDaemon.AGENT, "{}")).get("tier").asText());
      JsonNode approved = ok(call(port, "POST", "/api/v1/approvals/approved.1/approve", RunningDaemon.APPROVER, "{}"));
      assertTrue(approved.get("approved").asBoolean());
      daemon.kill();
    }
    assertEquals(0, landings(repo, "approved.1"), "killed before its test could even finish");
    try (DaemonProcess daemon = DaemonProcess.start(data, config)) {
      JsonNode applied = awaitApplied(daemon.port(), "approved.1");
      assertEquals(1, landings(repo, "approved.1"));
      assertEquals(applied.get("apply").get("commit").asText(), GitRepos.git(repo, "rev-parse", "main"));
    }

    // 2. killed in the middle of the apply (its test running in the throwaway worktree)
    Files.deleteIfExists(started);
    try (DaemonProcess daemon = DaemonProcess.start(data, config)) {
      int port = daemon.port();
      JsonNode feature = ok(call(port, "POST", "/api/v1/features", RunningDaemon.APPROVER, // a plan with a test needs the approver role
          "{\"id\":\"midway\",\"repo\":\"" + repo + "\",\"target\":\"main\",\"plan\":" + plan + "}"));
      Path docs = Files.createDirectories(Path.of(feature.get("worktree").asText()).resolve("docs"));
      Files.writeString(docs.resolve("low.md"), "low\n");
      assertEquals("low", ok(call(port, "POST", "/api/v1/features/midway/propose", RunningDaemon.AGENT, "{}")).get("tier").asText());
      long deadline = System.nanoTime() + 30_000_000_000L;
      while (System.nanoTime() < deadline && !Files.exists(started)) {
        Thread.sleep(20);
      }
      assertTrue(Files.exists(started), "the apply's test never started");
      daemon.kill();
    }
    String beforeRestart = GitRepos.git(repo, "rev-parse", "main");
    assertEquals(0, landings(repo, "midway.1"));
    try (DaemonProcess daemon = DaemonProcess.start(data, config)) {
      JsonNode applied = awaitApplied(daemon.port(), "midway.1");
      assertEquals(1, landings(repo, "midway.1"));
      assertEquals(1, landings(repo, "approved.1"));
      assertEquals(beforeRestart, applied.get("apply").get("targetBefore").asText());
      assertEquals("low", GitRepos.git(repo, "show", "main:docs/low.md"));
      assertEquals("", GitRepos.git(repo, "worktree", "list", "--porcelain").lines()
          .filter(l -> l.contains("/scratch/check-")).reduce("", String::concat), "no check worktree left behind");
    }
  }

  /**
   * main checked out in the user's clone, with an unrelated local edit; the daemon is killed (SIGKILL)
   * between moving main and updating the clone's files (a test hook holds it there). At the next boot
   * the clone is finished: HEAD and files at the landed commit, the local edit still there, the
   * proposal applied exactly once.
   */
  @Test
  void killedBetweenTheBranchMoveAndTheFilesTheCloneIsFinishedAtBootAndAppliedOnce() throws Exception {
    Path repo = GitRepos.create(tmp.resolve("clone")).toRealPath(); // main checked out
    Files.writeString(repo.resolve("a.txt"), "hello\nmy unrelated edit\n");
    Path data = Files.createDirectories(tmp.resolve("data2"));
    Path policy = tmp.resolve("policy2.conf");
    Files.writeString(policy, "rules = [ { paths = \"**\", tier = low } ]\n");
    Path held = tmp.resolve("held");
    String config = "warden.policy.file = \"" + policy + "\"\n";
    String before = GitRepos.git(repo, "rev-parse", "main");

    try (DaemonProcess daemon = DaemonProcess.start(data, config + "warden.apply.hold-after-branch-move = \"" + held + "\"\n")) {
      int port = daemon.port();
      JsonNode feature = ok(call(port, "POST", "/api/v1/features", RunningDaemon.AGENT,
          "{\"id\":\"held\",\"repo\":\"" + repo + "\",\"target\":\"main\"}"));
      Files.writeString(Path.of(feature.get("worktree").asText()).resolve("landed.txt"), "landed\n");
      ok(call(port, "POST", "/api/v1/features/held/propose", RunningDaemon.AGENT, "{}"));
      long deadline = System.nanoTime() + 30_000_000_000L;
      while (System.nanoTime() < deadline && !Files.exists(held)) {
        Thread.sleep(20);
      }
      assertTrue(Files.exists(held), "the landing never reached the branch move");
      daemon.kill();
    }
    // the moment forced: main moved, the clone's index and files did not
    assertEquals(1, landings(repo, "held.1"));
    assertTrue(!Files.exists(repo.resolve("landed.txt")), "killed before the files moved");
    assertTrue(!GitRepos.git(repo, "rev-parse", "main").equals(before));

    try (DaemonProcess daemon = DaemonProcess.start(data, config)) {
      JsonNode applied = awaitApplied(daemon.port(), "held.1");
      assertEquals(applied.get("apply").get("commit").asText(), GitRepos.git(repo, "rev-parse", "HEAD"));
      assertEquals("landed\n", Files.readString(repo.resolve("landed.txt")));
      // only the user's own edit: nothing staged, nothing else modified, nothing untracked (no landing reversed)
      assertEquals("", GitRepos.git(repo, "diff", "--cached", "--name-only"));
      assertEquals("a.txt", GitRepos.git(repo, "diff", "--name-only"));
      assertEquals("", GitRepos.git(repo, "ls-files", "--others"));
      assertEquals("hello\nmy unrelated edit\n", Files.readString(repo.resolve("a.txt")));
      assertEquals(1, landings(repo, "held.1"));
      try (var records = Files.list(data.resolve("landings"))) {
        assertEquals(0, records.count(), "the landing record is gone once finished");
      }
    }
  }
}
