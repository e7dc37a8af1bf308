package dev.warden.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.warden.testing.FeedClient;
import dev.warden.testing.GitRepos;
import dev.warden.testing.RunningDaemon;
import dev.warden.testing.ScriptedAgent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code POST /api/v1/features/{id}/message} under a real daemon: a person writes to the feature's
 * connected agent (a scripted agent over the real WebSocket); the feed says who wrote and how much.
 */
class AgentMessageIT {

  @TempDir static Path tmp;
  private static RunningDaemon daemon;
  private static int port;
  private static Path repos;

  @BeforeAll
  static void start() throws Exception {
    repos = Files.createDirectories(tmp.resolve("repos"));
    daemon = RunningDaemon.start(RunningDaemon.config(tmp.resolve("data"), "", "", "", List.of(repos), true)).awaitReady();
    port = daemon.daemon().httpAddress().getPort();
  }

  @AfterAll
  static void stop() {
    daemon.close();
  }

  private static String feature() throws Exception {
    String id = "m-" + UUID.randomUUID().toString().substring(0, 8);
    Path repo = GitRepos.create(repos.resolve(id));
    RunningDaemon.Response created = daemon.post("/api/v1/features", RunningDaemon.AGENT,
        "{\"id\":\"" + id + "\",\"repo\":\"" + repo + "\",\"target\":\"main\",\"plan\":{}}");
    assertEquals(201, created.status(), created.body());
    return id;
  }

  private static RunningDaemon.Response message(String id, String token, String body) {
    return daemon.post("/api/v1/features/" + id + "/message", token, body);
  }

  @Test
  void aPersonsNoteReachesTheConnectedAgentAndTheFeedSaysWhoWroteButNotWhat() throws Exception {
    String id = feature();
    try (ScriptedAgent agent = ScriptedAgent.connect(port, id, RunningDaemon.AGENT).hello()) {
      RunningDaemon.Response sent = message(id, RunningDaemon.APPROVER, "{\"text\":\"Stop editing the schema, please.\"}");
      assertEquals(202, sent.status(), sent.body());
      assertTrue(sent.json().get("delivered").asBoolean(), sent.body());
      JsonNode note = agent.expect(m -> m.path("type").asText().equals("message") && m.has("from"), 5, "the person's message");
      assertEquals("Stop editing the schema, please.", note.get("text").asText());
      assertEquals("lead", note.get("from").asText());
    }
    try (FeedClient feed = FeedClient.connect(port, "since=0&feature=" + id + "&types=agent.messaged", RunningDaemon.VIEWER)) {
      JsonNode event = next(feed, "agent.messaged");
      assertEquals("agent.messaged", event.path("type").asText(), String.valueOf(event));
      assertEquals("lead", event.path("data").path("by").asText());
      assertEquals(32, event.path("data").path("bytes").asInt());
      assertFalse(event.toString().contains("schema"), "the feed must not show the note's text to viewers: " + event);
    }
  }

  @Test
  void withoutAConnectedAgentNothingIsSentNorRecorded() throws Exception {
    String id = feature();
    RunningDaemon.Response refused = message(id, RunningDaemon.APPROVER, "{\"text\":\"anyone there?\"}").assertProblem(409, null);
    assertTrue(refused.body().contains("no agent is connected to feature '" + id + "'"), refused.body());
    // after an agent came and went: still refused, and the feed holds no agent.messaged
    try (ScriptedAgent agent = ScriptedAgent.connect(port, id, RunningDaemon.AGENT).hello()) {
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    RunningDaemon.Response after;
    do {
      after = message(id, RunningDaemon.APPROVER, "{\"text\":\"anyone there?\"}");
    } while (after.status() == 202 && System.nanoTime() < deadline && sleep());
    after.assertProblem(409, null);
    try (FeedClient feed = FeedClient.connect(port, "since=0&feature=" + id + "&types=agent.messaged,agent.disconnected", RunningDaemon.VIEWER)) {
      assertEquals("agent.disconnected", next(feed, "agent.disconnected").path("type").asText());
      JsonNode more = feed.poll(500);
      assertTrue(more == null || !more.path("type").asText().equals("agent.messaged"), String.valueOf(more));
    }
  }

  @Test
  void badInputWrongRolesAndUnknownOrEndedFeaturesAreRefusedAndNothingReachesTheAgent() throws Exception {
    String id = feature();
    try (ScriptedAgent agent = ScriptedAgent.connect(port, id, RunningDaemon.AGENT).hello()) {
      message(id, RunningDaemon.APPROVER, "{\"text\":\"hi\",\"urgent\":true}").assertProblem(400, "urgent");
      message(id, RunningDaemon.APPROVER, "{\"text\":\"   \"}").assertProblem(400, "text");
      message(id, RunningDaemon.APPROVER, "{}").assertProblem(400, "text");
      message(id, RunningDaemon.APPROVER, "{\"text\":\"" + "x".repeat(8193) + "\"}").assertProblem(400, "text");
      message(id, RunningDaemon.VIEWER, "{\"text\":\"hi\"}").assertProblem(403, null);
      message(id, RunningDaemon.AGENT, "{\"text\":\"hi\"}").assertProblem(403, null);
      message("no-such-feature", RunningDaemon.APPROVER, "{\"text\":\"hi\"}").assertProblem(404, null);
      for (JsonNode next = agent.poll(500); next != null; next = agent.poll(200)) {
        assertFalse(next.path("type").asText().equals("message"), "a refused note reached the agent: " + next);
      }
      assertEquals(200, daemon.delete("/api/v1/features/" + id, RunningDaemon.APPROVER).status());
    }
    message(id, RunningDaemon.APPROVER, "{\"text\":\"hi\"}").assertProblem(409, null);
  }

  private static boolean sleep() throws InterruptedException {
    Thread.sleep(50);
    return true;
  }

  /** The next feed message of {@code type}, skipping others; whatever came last when none did within 10 s. */
  private static JsonNode next(FeedClient feed, String type) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    JsonNode message = null;
    while (System.nanoTime() < deadline) {
      message = feed.poll(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
      if (message == null || message == FeedClient.CLOSED || type.equals(message.path("type").asText())) {
        return message;
      }
    }
    return message;
  }
}
