package dev.warden.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueFactory;
import dev.warden.testing.GitRepos;
import dev.warden.testing.RunningDaemon;
import dev.warden.testing.ScriptedAgent;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A live agent under a real daemon: a scripted agent over the real WebSocket, real files in the
 * feature's worktree, real git. Checkpoints wait for the agent's ack; an agent that never acks gets
 * unquiesced checkpoints and an escalated feature; hostile writes are reported at once.
 */
class AgentSupervisionIT {

  @TempDir static Path tmp;
  private static RunningDaemon daemon;
  private static int port;
  private static Path repos;

  private String id;
  private Path worktree;
  private Path repo;

  @BeforeAll
  static void start() throws Exception {
    repos = Files.createDirectories(tmp.resolve("repos"));
    Config config = RunningDaemon.config(tmp.resolve("data"), "", "", "", List.of(repos), true)
        .withValue("warden.agent.ack-deadline", ConfigValueFactory.fromAnyRef("300ms"))
        .withValue("warden.agent.ack-tries", ConfigValueFactory.fromAnyRef(2))
        .withValue("warden.watchdog.quiet-window", ConfigValueFactory.fromAnyRef("150ms"))
        .withValue("warden.watchdog.max-delay", ConfigValueFactory.fromAnyRef("1s"));
    daemon = RunningDaemon.start(config).awaitReady();
    port = daemon.daemon().httpAddress().getPort();
  }

  @AfterAll
  static void stop() {
    daemon.close();
  }

  private static int created;

  @BeforeEach
  void feature() throws Exception {
    id = "f-" + UUID.randomUUID().toString().substring(0, 8);
    repo = GitRepos.create(repos.resolve(id));
    createFeature("{\"limits\":{\"diskQuotaBytes\":1048576}}");
    created++;
    // let the watchdog start and its catch-up scan (nothing new yet) pass before the test acts,
    // so what the test writes is never caught by that first scan while no agent is connected
    await("the watchdog watching", 10_000, () -> daemon.get("/health/ready", null).json().get("watch").get("features").asInt() >= created);
    Thread.sleep(300);
  }

  private void createFeature(String plan) {
    RunningDaemon.Response created = daemon.post("/api/v1/features", RunningDaemon.AGENT,
        "{\"id\":\"" + id + "\",\"repo\":\"" + repo + "\",\"target\":\"main\",\"plan\":" + plan + "}");
    assertEquals(201, created.status(), created.body());
    worktree = Path.of(created.json().get("worktree").asText());
  }

  private JsonNode checkpoints() {
    return daemon.get("/api/v1/features/" + id + "/checkpoints", RunningDaemon.VIEWER).json();
  }

  private String status() {
    return daemon.get("/api/v1/features/" + id, RunningDaemon.VIEWER).json().get("status").asText();
  }

  private static void await(String what, int millis, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + millis * 1_000_000L;
    while (System.nanoTime() < deadline) {
      if (condition.getAsBoolean()) {
        return;
      }
      Thread.sleep(25);
    }
    assertTrue(condition.getAsBoolean(), what + " within " + millis + " ms");
  }

  /** Acknowledges the pauses and resumes the daemon sends until {@code condition} holds. */
  private static void ackUntil(ScriptedAgent agent, int millis, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + millis * 1_000_000L;
    while (System.nanoTime() < deadline && !condition.getAsBoolean()) {
      JsonNode message = agent.poll(50);
      if (message != null && message.path("type").asText().equals("pause")) {
        agent.send("{\"type\":\"ack\",\"id\":\"" + message.get("id").asText() + "\",\"state\":\"paused\"}");
      } else if (message != null && message.path("type").asText().equals("resume")) {
        agent.send("{\"type\":\"ack\",\"id\":\"" + message.get("id").asText() + "\",\"state\":\"running\"}");
      }
    }
    assertTrue(condition.getAsBoolean(), "condition within " + millis + " ms");
  }

  @Test
  void checkpointsWaitForTheAgentsAckAndHoldWhatItWrote() throws Exception {
    try (ScriptedAgent agent = ScriptedAgent.connect(port, id, RunningDaemon.AGENT).hello("pause")) {
      // the watchdog's catch-up scan at start finds nothing new: acknowledge its pause, if any, and settle
      long settle = System.nanoTime() + 1_000_000_000L;
      ackUntil(agent, 2000, () -> System.nanoTime() > settle);

      Files.writeString(worktree.resolve("hello.txt"), "hello world\n");
      JsonNode pause = agent.expect("pause", 5);
      Thread.sleep(250); // within the 300 ms deadline: no checkpoint may be taken before the ack
      assertEquals(0, checkpoints().get("total").asInt(), "a checkpoint was taken before the agent acknowledged");
      agent.send("{\"type\":\"ack\",\"id\":\"" + pause.get("id").asText() + "\",\"state\":\"paused\"}");

      JsonNode resume = agent.expect("resume", 5);
      agent.send("{\"type\":\"ack\",\"id\":\"" + resume.get("id").asText() + "\",\"state\":\"running\"}");
      await("checkpoint 1", 5000, () -> checkpoints().get("total").asInt() == 1);
      JsonNode checkpoint = checkpoints().get("checkpoints").get(0);
      assertTrue(checkpoint.get("quiesced").asBoolean(), checkpoint.toString());
      assertEquals("debounce", checkpoint.get("trigger").asText());
      assertEquals(1, checkpoint.get("filesChanged").asInt());
      assertEquals(1, checkpoint.get("linesAdded").asInt());

      String diff = daemon.get("/api/v1/features/" + id + "/checkpoints/1/diff", RunningDaemon.VIEWER).body();
      assertTrue(diff.contains("+hello world"), diff);
      JsonNode compare = daemon.get("/api/v1/features/" + id + "/checkpoints/compare?from=0&to=1", RunningDaemon.VIEWER).json();
      assertEquals("hello.txt", compare.get("files").get(0).get("path").asText());
      assertEquals("added", compare.get("files").get(0).get("change").asText());
      assertTrue(compare.get("diff").asText().contains("+hello world"));
      // the commit is on the hidden chain, child of the base; the agent's branch did not move
      String tip = GitRepos.git(repo, "rev-parse", "refs/warden/" + id + "/checkpoints");
      assertEquals(checkpoint.get("commit").asText(), tip);
      assertEquals(GitRepos.git(repo, "rev-parse", "main"), GitRepos.git(repo, "rev-parse", tip + "^"));
      assertEquals(GitRepos.git(repo, "rev-parse", "main"), GitRepos.git(worktree, "rev-parse", "HEAD"));
      assertEquals("hello world", GitRepos.git(repo, "show", tip + ":hello.txt"));
      assertEquals("active", status());
    }
  }

  @Test
  void anAgentThatNeverAcksGetsUnquiescedCheckpointsAndAnEscalatedFeature() throws Exception {
    try (ScriptedAgent agent = ScriptedAgent.connect(port, id, RunningDaemon.AGENT).hello("pause")) {
      Files.writeString(worktree.resolve("work.txt"), "work\n");
      await("an unquiesced checkpoint", 10_000, () -> checkpoints().get("total").asInt() >= 1);
      JsonNode checkpoint = checkpoints().get("checkpoints").get(0);
      assertFalse(checkpoint.get("quiesced").asBoolean());
      assertTrue(checkpoint.get("quiesceNote").asText().contains("did not acknowledge"), checkpoint.toString());
      await("needs_attention", 5000, () -> status().equals("needs_attention"));
      assertEquals(200, daemon.get("/health/ready", null).status());
    }
  }

  @Test
  void anAgentThatCannotPauseIsCheckpointedUnquiescedWithoutEscalation() throws Exception {
    try (ScriptedAgent agent = ScriptedAgent.connect(port, id, RunningDaemon.AGENT).hello()) {
      Files.writeString(worktree.resolve("work.txt"), "work\n");
      await("a checkpoint", 10_000, () -> checkpoints().get("total").asInt() >= 1);
      assertFalse(checkpoints().get("checkpoints").get(0).get("quiesced").asBoolean());
      assertEquals("active", status());
      assertTrue(agent.seen().stream().noneMatch(m -> m.path("type").asText().equals("pause")));
    }
  }

  @Test
  void oneAgentPerFeature() throws Exception {
    ScriptedAgent first = ScriptedAgent.connect(port, id, RunningDaemon.AGENT).hello("pause");
    assertEquals(409, ScriptedAgent.refusedStatus(port, id, RunningDaemon.AGENT));
    assertEquals(403, ScriptedAgent.refusedStatus(port, id, RunningDaemon.VIEWER));
    assertEquals(404, ScriptedAgent.refusedStatus(port, "no-such-feature", RunningDaemon.AGENT));
    first.close();
    await("the first connection released", 5000, () -> {
      try {
        return ScriptedAgent.refusedStatus(port, id, RunningDaemon.AGENT) == -1;
      } catch (Exception e) {
        return false;
      }
    });
  }

  @Test
  void malformedMessagesGetAnErrorAndTheConnectionStaysUp() throws Exception {
    try (ScriptedAgent agent = ScriptedAgent.connect(port, id, RunningDaemon.AGENT)) {
      agent.send("{\"type\":\"heartbeat\"}");
      assertTrue(agent.expect("error", 5).get("message").asText().contains("first message must be hello"));
      agent.hello("pause");
      agent.send("this is not json");
      assertTrue(agent.expect("error", 5).get("message").asText().contains("not valid JSON"));
      agent.send("{\"type\":\"bogus\"}");
      JsonNode unknown = agent.expect("error", 5);
      assertEquals("bogus", unknown.get("ref").asText());
      agent.send("{\"type\":\"ack\",\"id\":\"x\",\"state\":\"sleeping\"}");
      assertTrue(agent.expect("error", 5).get("message").asText().contains("state"));
      agent.send("{\"type\":\"log\",\"stream\":\"stdout\",\"line\":\"still here\"}");
      await("the log line kept", 3000, () -> daemon.get("/api/v1/features/" + id + "/agent", RunningDaemon.VIEWER)
          .json().get("recentLog").toString().contains("still here"));
      JsonNode view = daemon.get("/api/v1/features/" + id + "/agent", RunningDaemon.VIEWER).json();
      assertTrue(view.get("connected").asBoolean());
      assertEquals("scripted", view.get("agent").asText());
    }
  }

  @Test
  void aQuestionWaitsForAnOperatorsAnswer() throws Exception {
    try (ScriptedAgent agent = ScriptedAgent.connect(port, id, RunningDaemon.AGENT).hello("pause")) {
      agent.send("{\"type\":\"question\",\"id\":\"q-1\",\"text\":\"Keep the old endpoint?\"}");
      await("awaiting_input", 5000, () -> status().equals("awaiting_input"));
      daemon.post("/api/v1/features/" + id + "/questions/q-1/answer", RunningDaemon.AGENT, "{\"text\":\"yes\"}").assertProblem(403, null);
      daemon.post("/api/v1/features/" + id + "/questions/q-9/answer", RunningDaemon.APPROVER, "{\"text\":\"yes\"}").assertProblem(404, null);
      RunningDaemon.Response answered = daemon.post("/api/v1/features/" + id + "/questions/q-1/answer", RunningDaemon.APPROVER,
          "{\"text\":\"Yes, until v3.\"}");
      assertEquals(200, answered.status(), answered.body());
      JsonNode answer = agent.expect("answer", 5);
      assertEquals("q-1", answer.get("id").asText());
      assertEquals("Yes, until v3.", answer.get("text").asText());
      assertEquals("active", status());
    }
  }

  @Test
  void hostileWritesAreReportedWithinASecondAndAnAgentsCommitIsNot() throws Exception {
    // an ordinary commit by the agent in its worktree: recorded, not a violation
    Files.writeString(worktree.resolve("feature.txt"), "x\n");
    GitRepos.git(worktree, "add", "feature.txt");
    GitRepos.git(worktree, "-c", "user.email=a@example.com", "-c", "user.name=Agent", "commit", "-q", "-m", "agent work");
    Thread.sleep(1000);
    assertEquals(List.of(), violations(), "a plain git commit was reported as a violation");

    Path common = repo.resolve(".git");
    List<String> latencies = new ArrayList<>();
    latencies.add(reported("git-tampering", () -> Files.writeString(common.resolve("hooks/post-checkout"), "#!/bin/sh\necho owned\n")));
    latencies.add(reported("symlink", () -> Files.createSymbolicLink(worktree.resolve("passwd"), Path.of("/etc/passwd"))));
    latencies.add(reported("executable", () -> {
      Path script = Files.writeString(worktree.resolve("run.sh"), "#!/bin/sh\n");
      Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
    }));
    latencies.add(reported("disk-quota", () -> Files.write(worktree.resolve("big.bin"), new byte[2 * 1024 * 1024])));
    System.out.println("violation latencies: " + latencies);
  }

  @Test
  void aNewPlansDiskQuotaIsEnforcedWithoutARestart() throws Exception {
    Files.write(worktree.resolve("data.bin"), new byte[300 * 1024]);
    Thread.sleep(1000);
    assertFalse(violations().contains("disk-quota"), "300 KB is within the plan's 1 MiB");

    RunningDaemon.Response changed = daemon.send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + daemon.daemon().httpAddress().getPort() + "/api/v1/features/" + id + "/plan"))
        .header("Authorization", "Bearer " + RunningDaemon.APPROVER)
        .PUT(HttpRequest.BodyPublishers.ofString("{\"limits\":{\"diskQuotaBytes\":102400}}")));
    assertEquals(200, changed.status(), changed.body());
    // the agent goes on writing; the watchdog measures against the new quota
    long deadline = System.nanoTime() + 10_000_000_000L;
    for (int i = 0; !violations().contains("disk-quota") && System.nanoTime() < deadline; i++) {
      Files.writeString(worktree.resolve("note-" + i + ".txt"), "more\n");
      Thread.sleep(300);
    }
    assertTrue(violations().contains("disk-quota"), "over the new 100 KB quota, reported without a restart");
  }

  private interface Write {
    void run() throws Exception;
  }

  /** Performs the write, then waits at most 1 s for a violation of {@code rule} in the change log. */
  private String reported(String rule, Write write) throws Exception {
    long before = System.nanoTime();
    write.run();
    await(rule + " reported", 1000, () -> violations().contains(rule));
    return rule + "=" + (System.nanoTime() - before) / 1_000_000 + "ms";
  }

  private List<String> violations() {
    JsonNode log = daemon.get("/api/v1/features/" + id + "/changes", RunningDaemon.VIEWER).json();
    List<String> rules = new ArrayList<>();
    for (JsonNode entry : log.get("entries")) {
      for (JsonNode v : entry.get("violations")) {
        rules.add(v.get("rule").asText());
      }
    }
    return rules;
  }

  @Test
  void aBurstOf20000WritesAcross2000PathsLosesNoChange() throws Exception {
    for (int round = 0; round < 10; round++) {
      for (int d = 0; d < 20; d++) {
        Path dir = Files.createDirectories(worktree.resolve("burst/d" + d));
        for (int f = 0; f < 100; f++) {
          Files.writeString(dir.resolve("f" + f + ".txt"), "round " + round + " of " + d + "/" + f + "\n");
        }
      }
    }
    String expected = gitSnapshotOfWorktree();
    // no manual checkpoint: the watchdog alone must bring every last write into a checkpoint
    await("a checkpoint holding every write", 20_000, () -> {
      JsonNode page = checkpoints();
      int total = page.get("total").asInt();
      return total > 0 && page.get("checkpoints").get(total - 1).get("tree").asText().equals(expected);
    });
  }

  /** The tree git itself makes of the worktree, through a scratch index (the real one is untouched). */
  private String gitSnapshotOfWorktree() throws Exception {
    Path index = tmp.resolve("index-" + id);
    for (List<String> args : List.of(List.of("add", "-A"), List.of("write-tree"))) {
      List<String> command = new ArrayList<>(List.of("git", "-C", worktree.toString()));
      command.addAll(args);
      ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
      builder.environment().put("GIT_INDEX_FILE", index.toString());
      Process process = builder.start();
      String out = new String(process.getInputStream().readAllBytes()).trim();
      assertEquals(0, process.waitFor(), out);
      if (args.get(0).equals("write-tree")) {
        return out;
      }
    }
    throw new IllegalStateException();
  }

  @Test
  void rollbackRestoresExactlyTheCheckpointsContent() throws Exception {
    Files.writeString(worktree.resolve("a.txt"), "a1\n");
    Files.writeString(worktree.resolve("b.txt"), "b1\n");
    JsonNode first = manualCheckpoint();
    Files.writeString(worktree.resolve("a.txt"), "a2\n");
    Files.writeString(worktree.resolve("b.txt"), "b2\n");
    Files.createDirectories(worktree.resolve("new/dir"));
    Files.writeString(worktree.resolve("new/dir/c.txt"), "c2\n");
    JsonNode second = manualCheckpoint();

    RunningDaemon.Response full = daemon.post("/api/v1/features/" + id + "/rollback", RunningDaemon.AGENT, "{\"to\":" + first.get("seq") + "}");
    assertEquals(200, full.status(), full.body());
    assertEquals(first.get("tree").asText(), full.json().get("tree").asText(), "full rollback must give checkpoint 1's tree");
    assertEquals("rollback", full.json().get("trigger").asText());
    assertEquals("a1\n", Files.readString(worktree.resolve("a.txt")));
    assertFalse(Files.exists(worktree.resolve("new/dir/c.txt")));

    Files.writeString(worktree.resolve("a.txt"), "a3\n");
    Files.writeString(worktree.resolve("b.txt"), "b3\n");
    manualCheckpoint();
    RunningDaemon.Response partial = daemon.post("/api/v1/features/" + id + "/rollback", RunningDaemon.AGENT,
        "{\"to\":" + second.get("seq") + ",\"paths\":[\"a.txt\"]}");
    assertEquals(200, partial.status(), partial.body());
    String commit = partial.json().get("commit").asText();
    assertEquals("a2", GitRepos.git(repo, "show", commit + ":a.txt"));
    assertEquals("b3", GitRepos.git(repo, "show", commit + ":b.txt"));
    assertEquals("a2\n", Files.readString(worktree.resolve("a.txt")));
    // the partial rollback's tree is checkpoint 2's a.txt blob inside the rest as it was
    assertEquals(GitRepos.git(repo, "rev-parse", second.get("commit").asText() + ":a.txt"), GitRepos.git(repo, "rev-parse", commit + ":a.txt"));

    daemon.post("/api/v1/features/" + id + "/rollback", RunningDaemon.AGENT, "{\"to\":99}").assertProblem(404, null);
    // the route and the checkpoint chain refuse the same paths (Snapshotter.restorePathProblem), and the route answers first
    for (String bad : List.of("../x", "/etc/passwd", ".git/config", ".GIT/config", "src/../../x", "")) {
      daemon.post("/api/v1/features/" + id + "/rollback", RunningDaemon.AGENT, "{\"to\":1,\"paths\":[\"" + bad + "\"]}")
          .assertProblem(400, "paths");
    }
    daemon.post("/api/v1/features/" + id + "/rollback", RunningDaemon.VIEWER, "{\"to\":1}").assertProblem(403, null);
  }

  private JsonNode manualCheckpoint() {
    RunningDaemon.Response taken = daemon.post("/api/v1/features/" + id + "/checkpoint", RunningDaemon.AGENT, "");
    assertEquals(201, taken.status(), taken.body());
    assertEquals("manual", taken.json().get("trigger").asText());
    return taken.json();
  }
}
