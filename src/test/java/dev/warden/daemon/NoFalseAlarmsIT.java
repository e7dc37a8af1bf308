package dev.warden.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.warden.cli.AgentCommand;
import dev.warden.testing.FeedClient;
import dev.warden.testing.GitRepos;
import dev.warden.testing.RunningDaemon;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The first hour without false alarms, on the real daemon: an agent whose command exits, and a person
 * editing with no agent connected, put nothing on the feed as {@code feature.escalated} and never make
 * the feature {@code needs_attention}; the last checkpoint of a landed feature gets its final verdict at
 * once; a {@code git status} in the worktree is no change, a new file is {@code added}.
 */
class NoFalseAlarmsIT {

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

  private record Created(String id, Path repo, Path worktree) {}

  private Created feature() throws Exception {
    String id = "q-" + UUID.randomUUID().toString().substring(0, 8);
    Path repo = GitRepos.create(repos.resolve(id)).toRealPath();
    GitRepos.git(repo, "checkout", "-q", "other"); // main is free to land on
    int watched = watchedFeatures();
    RunningDaemon.Response created = daemon.post("/api/v1/features", RunningDaemon.AGENT,
        "{\"id\":\"" + id + "\",\"repo\":\"" + repo + "\",\"target\":\"main\"}");
    assertEquals(201, created.status(), created.body());
    // let the watchdog start and its catch-up scan pass: what the test writes next is a change it sees
    await("the watchdog watching", 10_000, () -> watchedFeatures() > watched);
    Thread.sleep(300);
    return new Created(id, repo, Path.of(created.json().get("worktree").asText()));
  }

  private static int watchedFeatures() {
    return daemon.get("/health/ready", null).json().get("watch").get("features").asInt();
  }

  private CompletableFuture<Integer> wrap(String id, String script) {
    String server = "http://127.0.0.1:" + daemon.daemon().httpAddress().getPort();
    return CompletableFuture.supplyAsync(() -> AgentCommand.run(new String[] {
        "--feature", id, "--server", server, "--token", RunningDaemon.AGENT, "--", "sh", "-c", script}));
  }

  private static JsonNode feature(String id) {
    return daemon.get("/api/v1/features/" + id, RunningDaemon.VIEWER).json();
  }

  private static JsonNode lastCheckpoint(String id) {
    JsonNode page = daemon.get("/api/v1/features/" + id + "/checkpoints", RunningDaemon.VIEWER).json();
    int total = page.get("total").asInt();
    return total == 0 ? null : page.get("checkpoints").get(total - 1);
  }

  private static JsonNode verdict(String id, long seq) {
    RunningDaemon.Response response = daemon.get("/api/v1/features/" + id + "/checkpoints/" + seq + "/validation", RunningDaemon.VIEWER);
    return response.status() == 200 ? response.json() : null;
  }

  private static void await(String what, int millis, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + millis * 1_000_000L;
    while (System.nanoTime() < deadline && !condition.getAsBoolean()) {
      Thread.sleep(25);
    }
    assertTrue(condition.getAsBoolean(), what + " within " + millis + " ms");
  }

  /** Every event of the feature the feed has, read until it has been quiet for a second. */
  private static List<JsonNode> feedOf(String id) throws Exception {
    List<JsonNode> events = new ArrayList<>();
    try (FeedClient feed = FeedClient.connect(daemon.daemon().httpAddress().getPort(), "since=0&feature=" + id, RunningDaemon.VIEWER)) {
      JsonNode event;
      while ((event = feed.poll(1_000)) != null && event != FeedClient.CLOSED) {
        if (event.has("type") && event.has("feature")) {
          events.add(event);
        }
      }
    }
    return events;
  }

  private static List<String> types(List<JsonNode> events) {
    return events.stream().map(e -> e.path("type").asText()).toList();
  }

  @Test
  void anAgentThatExitsZeroIsProposedWithoutAnAlarmAndTheLandedFeaturesLastCheckpointIsJudgedAtOnce() throws Exception {
    Created f = feature();
    assertEquals(0, wrap(f.id(), "echo done > result.txt").get(30, TimeUnit.SECONDS));
    await("the feature proposed", 15_000, () -> feature(f.id()).get("status").asText().equals("proposed"));

    // the checkpoint of the proposal was taken with nothing left to pause: said so, not escalated
    JsonNode proposed = lastCheckpoint(f.id());
    assertEquals("final", proposed.get("trigger").asText(), proposed.toString());
    assertFalse(proposed.get("quiesced").asBoolean(), proposed.toString());
    assertEquals("agent exited", proposed.get("quiesceNote").asText(), proposed.toString());
    List<JsonNode> events = feedOf(f.id());
    List<String> types = types(events);
    assertFalse(types.contains("feature.escalated"), "no escalation on the exit path: " + types);
    assertTrue(types.contains("feature.agent_exited") && types.contains("feature.proposed"), types.toString());
    JsonNode exited = events.stream().filter(e -> e.path("type").asText().equals("feature.agent_exited")).findFirst().orElseThrow();
    assertEquals(0, exited.path("data").path("code").asInt(), exited.toString());

    // approved and landed: the feature's very last checkpoint has its final verdict within 5 s of the landing
    String approval = "/api/v1/approvals/" + f.id() + ".1";
    RunningDaemon.Response approved = daemon.post(approval + "/approve", RunningDaemon.APPROVER, "{\"reason\":\"looks right\"}");
    assertEquals(200, approved.status(), approved.body());
    if (!approved.json().get("approved").asBoolean()) {
      approved = daemon.post(approval + "/approve", RunningDaemon.ADMIN, "{}");
      assertEquals(200, approved.status(), approved.body());
    }
    await("the feature applied", 30_000, () -> feature(f.id()).get("status").asText().equals("applied"));
    Instant landed = Instant.parse(feature(f.id()).get("updatedAt").asText());
    await("a final checkpoint after the landing", 10_000, () -> lastCheckpoint(f.id()).get("seq").asLong() > proposed.get("seq").asLong());
    long last = lastCheckpoint(f.id()).get("seq").asLong();
    await("the last checkpoint's final verdict", 10_000, () -> {
      JsonNode v = verdict(f.id(), last);
      return v != null && !v.get("finishedAt").isNull();
    });
    JsonNode verdict = verdict(f.id(), last);
    assertEquals("valid", verdict.get("status").asText(), verdict.toString());
    Duration after = Duration.between(landed, Instant.parse(verdict.get("finishedAt").asText()));
    assertTrue(after.compareTo(Duration.ofSeconds(5)) < 0, "final verdict " + after + " after the landing: " + verdict);
    assertFalse(types(feedOf(f.id())).contains("feature.escalated"));
  }

  @Test
  void aCommandThatExitsNonZeroLeavesTheFeatureActiveWithTheExitAsItsReason() throws Exception {
    Created f = feature();
    assertEquals(4, wrap(f.id(), "echo half > half.txt; exit 4").get(30, TimeUnit.SECONDS));
    await("the exit recorded", 10_000, () -> feature(f.id()).path("statusReason").asText().equals("agent exited with 4"));
    // a person looks and takes a checkpoint: nothing is paused, nothing is escalated
    RunningDaemon.Response taken = daemon.post("/api/v1/features/" + f.id() + "/checkpoint", RunningDaemon.AGENT, "");
    assertEquals(201, taken.status(), taken.body());
    assertEquals("agent exited", taken.json().get("quiesceNote").asText(), taken.body());
    JsonNode view = feature(f.id());
    assertEquals("active", view.get("status").asText(), view.toString());
    assertEquals("agent exited with 4", view.get("statusReason").asText(), view.toString());
    List<JsonNode> events = feedOf(f.id());
    assertFalse(types(events).contains("feature.escalated"), types(events).toString());
    assertTrue(events.stream().anyMatch(e -> e.path("type").asText().equals("feature.agent_exited")
        && e.path("data").path("code").asInt() == 4 && e.path("data").path("reason").asText().equals("agent exited with 4")),
        events.toString());
  }

  @Test
  void aPersonsEditWithNoAgentConnectedIsCheckpointedWithoutAnAlarmAndGitStatusIsNoChange() throws Exception {
    Created f = feature();
    Files.writeString(f.worktree().resolve("notes.md"), "a person's edit\n");
    // git status in the worktree takes (and drops) index.lock in the worktree's admin dir
    GitRepos.git(f.worktree(), "status", "--porcelain");
    GitRepos.git(f.worktree(), "update-index", "--really-refresh");
    await("the edit checkpointed", 15_000, () -> {
      JsonNode last = lastCheckpoint(f.id());
      return last != null && daemon.get("/api/v1/features/" + f.id() + "/checkpoints/" + last.get("seq").asLong() + "/diff",
          RunningDaemon.VIEWER).body().contains("a person's edit");
    });
    JsonNode checkpoint = lastCheckpoint(f.id());
    assertFalse(checkpoint.get("quiesced").asBoolean(), checkpoint.toString());
    assertEquals("no agent connected", checkpoint.get("quiesceNote").asText(), checkpoint.toString());
    assertEquals("active", feature(f.id()).get("status").asText());

    Files.writeString(f.worktree().resolve("later.md"), "later\n");
    List<JsonNode> changes = new ArrayList<>();
    await("later.md in the change log", 15_000, () -> {
      changes.clear();
      daemon.get("/api/v1/features/" + f.id() + "/changes?limit=1000", RunningDaemon.VIEWER).json().get("entries")
          .forEach(entry -> entry.get("changes").forEach(changes::add));
      return changes.stream().anyMatch(c -> c.get("path").asText().equals("later.md"));
    });
    JsonNode notes = changes.stream().filter(c -> c.get("path").asText().equals("notes.md")).findFirst().orElseThrow();
    assertEquals("added", notes.get("kind").asText(), notes.toString());
    assertTrue(changes.stream().noneMatch(c -> c.get("path").asText().endsWith(".lock")), "git's lock files in the change log: " + changes);
    assertFalse(types(feedOf(f.id())).contains("feature.escalated"));
    assertEquals("active", feature(f.id()).get("status").asText());
  }
}
