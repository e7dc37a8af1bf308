package dev.warden.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.warden.cli.AgentCommand;
import dev.warden.testing.GitRepos;
import dev.warden.testing.RunningDaemon;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code warden agent -- <command>} against the real daemon: pausing really stops the agent's process group. */
class AgentWrapperIT {

  @TempDir static Path tmp;
  private static RunningDaemon daemon;
  private static Path repos;

  @BeforeAll
  static void start() throws Exception {
    repos = Files.createDirectories(tmp.resolve("repos"));
    daemon = RunningDaemon.start(RunningDaemon.config(tmp.resolve("data"), "", "", "", List.of(repos), true)).awaitReady();
  }

  @AfterAll
  static void stop() {
    daemon.close();
  }

  private String feature() {
    String id = "w-" + UUID.randomUUID().toString().substring(0, 8);
    Path repo = GitRepos.create(repos.resolve(id));
    RunningDaemon.Response created = daemon.post("/api/v1/features", RunningDaemon.AGENT,
        "{\"id\":\"" + id + "\",\"repo\":\"" + repo + "\",\"target\":\"main\"}");
    assertEquals(201, created.status(), created.body());
    return id;
  }

  private CompletableFuture<Integer> wrap(String id, String script) {
    String server = "http://127.0.0.1:" + daemon.daemon().httpAddress().getPort();
    return CompletableFuture.supplyAsync(() -> AgentCommand.run(new String[] {
        "--feature", id, "--server", server, "--token", RunningDaemon.AGENT, "--", "sh", "-c", script}));
  }

  private JsonNode agentView(String id) {
    return daemon.get("/api/v1/features/" + id + "/agent", RunningDaemon.VIEWER).json();
  }

  private static void await(String what, int millis, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + millis * 1_000_000L;
    while (System.nanoTime() < deadline && !condition.getAsBoolean()) {
      Thread.sleep(25);
    }
    assertTrue(condition.getAsBoolean(), what + " within " + millis + " ms");
  }

  private static long size(Path file) {
    try {
      return Files.exists(file) ? Files.size(file) : 0;
    } catch (java.io.IOException e) {
      return 0;
    }
  }

  @Test
  void pausingTheFeatureStopsTheAgentAndResumingLetsItGoOn() throws Exception {
    String id = feature();
    Path worktree = Path.of(daemon.get("/api/v1/features/" + id, RunningDaemon.VIEWER).json().get("worktree").asText());
    Path log = worktree.resolve("log.txt");
    CompletableFuture<Integer> exit = wrap(id, "while [ ! -f stop ]; do date >> log.txt; sleep 0.01; done; exit 5");

    await("the agent connected and writing", 15_000, () -> agentView(id).get("connected").asBoolean() && size(log) > 0);
    assertEquals(200, daemon.post("/api/v1/features/" + id + "/pause", RunningDaemon.AGENT, "{\"reason\":\"review\"}").status());
    await("the agent acknowledged the pause", 10_000, () -> agentView(id).get("paused").asBoolean());
    long paused = size(log);
    Thread.sleep(600);
    assertEquals(paused, size(log), "log.txt grew while the feature was paused");

    assertEquals(200, daemon.post("/api/v1/features/" + id + "/resume", RunningDaemon.AGENT, "").status());
    await("log.txt growing again", 10_000, () -> size(log) > paused);

    Files.writeString(worktree.resolve("stop"), "");
    assertEquals(5, exit.get(30, TimeUnit.SECONDS), "the wrapper's exit code is the command's");
    JsonNode agent = agentView(id);
    assertTrue(agent.get("recentLog").isArray());
    // the wrapper's child never proposes on a non-zero exit
    assertTrue(!daemon.get("/api/v1/features/" + id, RunningDaemon.VIEWER).json().get("status").asText().equals("proposed"));
  }

  @Test
  void aCriticalViolationPausesTheAgentUntilAPersonResumesIt() throws Exception {
    String id = feature();
    Path worktree = Path.of(daemon.get("/api/v1/features/" + id, RunningDaemon.VIEWER).json().get("worktree").asText());
    Path log = worktree.resolve("log.txt");
    CompletableFuture<Integer> exit = wrap(id, "while [ ! -f stop ]; do date >> log.txt; sleep 0.01; done; exit 0");
    await("the agent connected and writing", 15_000, () -> agentView(id).get("connected").asBoolean() && size(log) > 0);

    Files.createSymbolicLink(worktree.resolve("passwd"), Path.of("/etc/passwd"));
    await("the agent paused by the critical violation", 10_000, () -> agentView(id).get("paused").asBoolean());
    JsonNode feature = daemon.get("/api/v1/features/" + id, RunningDaemon.VIEWER).json();
    assertEquals("needs_attention", feature.get("status").asText());
    assertTrue(feature.get("statusReason").asText().contains("symlink"), feature.toString());
    long paused = size(log);
    Thread.sleep(600);
    assertEquals(paused, size(log), "the agent kept writing after a critical violation");

    Files.delete(worktree.resolve("passwd"));
    assertEquals(200, daemon.post("/api/v1/features/" + id + "/resume", RunningDaemon.APPROVER, "").status());
    await("log.txt growing again", 10_000, () -> size(log) > paused);
    Files.writeString(worktree.resolve("stop"), "");
    assertEquals(0, exit.get(30, TimeUnit.SECONDS));
  }

  @Test
  void aCommandThatSucceedsIsProposedWithAFinalCheckpoint() throws Exception {
    String id = feature();
    assertEquals(0, wrap(id, "echo done > result.txt; echo finished").get(30, TimeUnit.SECONDS));
    await("the feature proposed", 10_000,
        () -> daemon.get("/api/v1/features/" + id, RunningDaemon.VIEWER).json().get("status").asText().equals("proposed"));
    JsonNode feature = daemon.get("/api/v1/features/" + id, RunningDaemon.VIEWER).json();
    assertTrue(feature.toString().contains("exited 0"), feature.toString());
    // the proposal waiting for a person: result.txt is not named by the policy, so it is high
    JsonNode proposal = daemon.get("/api/v1/approvals/" + id + ".1", RunningDaemon.VIEWER).json();
    assertEquals("proposed", proposal.get("status").asText(), proposal.toString());
    assertEquals("high", proposal.get("tier").asText());
    assertEquals("result.txt", proposal.get("changes").get("paths").get(0).get("path").asText());
    JsonNode checkpoints = daemon.get("/api/v1/features/" + id + "/checkpoints", RunningDaemon.VIEWER).json();
    JsonNode last = checkpoints.get("checkpoints").get(checkpoints.get("total").asInt() - 1);
    String diff = daemon.get("/api/v1/features/" + id + "/checkpoints/" + last.get("seq") + "/diff?against=base", RunningDaemon.VIEWER).body();
    assertTrue(diff.contains("+done"), diff);
  }
}
