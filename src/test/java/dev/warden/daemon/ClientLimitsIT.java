package dev.warden.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueFactory;
import dev.warden.testing.FeedClient;
import dev.warden.testing.GitRepos;
import dev.warden.testing.RunningDaemon;
import dev.warden.testing.ScriptedAgent;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.http.WebSocketHandshakeException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a client can hold or send, against a real daemon with small limits: WebSockets per token and
 * in all (429 with Retry-After), free-text fields (400 naming the field), a feed client's message
 * (error, then the end), and connections that send no request or no valid token (closed).
 */
class ClientLimitsIT {

  @TempDir static Path tmp;
  private static RunningDaemon daemon;
  private static int port;
  private static Path repos;

  @BeforeAll
  static void start() throws Exception {
    repos = Files.createDirectories(tmp.resolve("repos"));
    Config config = RunningDaemon.config(tmp.resolve("data"), "", "", "", List.of(repos), true)
        .withValue("warden.agent.max-connections-per-token", ConfigValueFactory.fromAnyRef(2))
        .withValue("warden.agent.max-open-questions", ConfigValueFactory.fromAnyRef(2))
        .withValue("warden.feed.max-subscribers", ConfigValueFactory.fromAnyRef(3))
        .withValue("warden.feed.max-subscribers-per-token", ConfigValueFactory.fromAnyRef(2))
        .withValue("warden.http.max-text-bytes", ConfigValueFactory.fromAnyRef(100))
        .withValue("warden.http.first-request-timeout", ConfigValueFactory.fromAnyRef("1s"))
        .withValue("warden.http.max-new-connections", ConfigValueFactory.fromAnyRef(4));
    daemon = RunningDaemon.start(config).awaitReady();
    port = daemon.daemon().httpAddress().getPort();
  }

  @AfterAll
  static void stop() {
    daemon.close();
  }

  private static String feature() {
    String id = "f-" + UUID.randomUUID().toString().substring(0, 8);
    Path repo = GitRepos.create(repos.resolve(id));
    RunningDaemon.Response created = daemon.post("/api/v1/features", RunningDaemon.AGENT,
        "{\"id\":\"" + id + "\",\"repo\":\"" + repo + "\",\"target\":\"main\"}");
    assertEquals(201, created.status(), created.body());
    return id;
  }

  private static void assertTooMany(ExecutionException refused, String detail) {
    WebSocketHandshakeException handshake = (WebSocketHandshakeException) refused.getCause();
    assertEquals(429, handshake.getResponse().statusCode());
    assertEquals("10", handshake.getResponse().headers().firstValue("Retry-After").orElse(null), "Retry-After in seconds");
    assertTrue(handshake.getResponse().headers().firstValue("Content-Type").orElse("").startsWith("application/problem+json"));
    String body = String.valueOf(handshake.getResponse().body());
    assertTrue(body.contains(detail), body);
  }

  @Test
  void oneTokensAgentConnectionsAreCapped() throws Exception {
    String a = feature();
    String b = feature();
    String c = feature();
    ScriptedAgent first = ScriptedAgent.connect(port, a, RunningDaemon.AGENT).hello();
    try (ScriptedAgent second = ScriptedAgent.connect(port, b, RunningDaemon.AGENT).hello()) {
      ExecutionException refused = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
          () -> ScriptedAgent.connect(port, c, RunningDaemon.AGENT));
      assertTooMany(refused, "this token already holds 2 agent connections (the limit per token)");
      // an admin token is another token: it still gets in
      try (ScriptedAgent other = ScriptedAgent.connect(port, c, RunningDaemon.ADMIN).hello()) {
        assertTrue(other.closed().getNow(null) == null);
      }
      first.close();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      ScriptedAgent third = null;
      while (third == null && System.nanoTime() < deadline) {
        try {
          third = ScriptedAgent.connect(port, c, RunningDaemon.AGENT).hello();
        } catch (ExecutionException stillCounted) {
          Thread.sleep(100);
        }
      }
      assertTrue(third != null, "a closed connection frees its slot");
      third.close();
    }
  }

  @Test
  void feedSubscriptionsAreCappedPerTokenAndInAll() throws Exception {
    List<FeedClient> open = new ArrayList<>();
    try {
      open.add(FeedClient.connect(port, "", RunningDaemon.VIEWER));
      open.add(FeedClient.connect(port, "", RunningDaemon.VIEWER));
      assertTooMany(org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
          () -> FeedClient.connect(port, "", RunningDaemon.VIEWER)), "this token already holds 2 feed subscriptions");
      open.add(FeedClient.connect(port, "", RunningDaemon.APPROVER));
      assertTooMany(org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
          () -> FeedClient.connect(port, "", RunningDaemon.ADMIN)), "Warden already holds 3 feed subscriptions (the limit)");
    } finally {
      open.forEach(FeedClient::close);
    }
  }

  @Test
  void aFeedClientsOversizedMessageEndsItsFeedWithAnError() throws Exception {
    // waits for the other test's subscriptions to be released if they ran just before
    FeedClient client = null;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (client == null) {
      try {
        client = FeedClient.connect(port, "", RunningDaemon.ADMIN);
      } catch (ExecutionException full) {
        assertTrue(System.nanoTime() < deadline, "a feed slot within 10 s");
        Thread.sleep(100);
      }
    }
    try (FeedClient feed = client) {
      feed.send("small messages are ignored");
      feed.send("x".repeat(5000));
      JsonNode message = feed.poll(10_000);
      while (message != null && message.path("type").asText().equals("ping")) {
        message = feed.poll(10_000);
      }
      assertEquals("error", message.path("type").asText(), String.valueOf(message));
      assertTrue(message.get("message").asText().contains("larger than the limit of 4096 bytes"), message.toString());
      assertEquals(FeedClient.CLOSED, feed.poll(10_000), "then the feed ends");
    }
  }

  @Test
  void freeTextFieldsOverTheLimitAre400NamingTheField() {
    String id = feature();
    String long101 = "r".repeat(101);
    daemon.post("/api/v1/features/" + id + "/pause", RunningDaemon.AGENT, "{\"reason\":\"" + long101 + "\"}").assertProblem(400, "reason");
    daemon.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + "/api/v1/features/" + id))
            .header("Authorization", "Bearer " + RunningDaemon.APPROVER).header("Content-Type", "application/json")
            .method("DELETE", java.net.http.HttpRequest.BodyPublishers.ofString("{\"reason\":\"" + long101 + "\"}")))
        .assertProblem(400, "reason");
    daemon.post("/api/v1/features/" + id + "/propose", RunningDaemon.AGENT, "{\"description\":\"" + long101 + "\"}")
        .assertProblem(400, "description");
    daemon.post("/api/v1/features/" + id + "/questions/q1/answer", RunningDaemon.APPROVER, "{\"text\":\"" + long101 + "\"}")
        .assertProblem(400, "text");
    for (String action : new String[] {"reject", "rollback"}) {
      daemon.post("/api/v1/approvals/" + id + ".1/" + action, RunningDaemon.ADMIN, "{\"reason\":\"" + long101 + "\"}")
          .assertProblem(400, "reason");
    }
    daemon.post("/api/v1/approvals/" + id + ".1/approve", RunningDaemon.ADMIN, "{\"bypass\":true,\"reason\":\"" + long101 + "\"}")
        .assertProblem(400, "reason");
    assertEquals("active", daemon.get("/api/v1/features/" + id, RunningDaemon.VIEWER).json().get("status").asText(),
        "nothing was done");
  }

  @Test
  void anAgentsQuestionOverTheLimitIsAnErrorNamingTheField() throws Exception {
    String id = feature();
    try (ScriptedAgent agent = ScriptedAgent.connect(port, id, RunningDaemon.AGENT).hello()) {
      agent.send("{\"type\":\"question\",\"id\":\"q1\",\"text\":\"" + "?".repeat(9000) + "\"}");
      JsonNode error = agent.expect("error", 5);
      assertEquals("question: field 'text' is longer than the limit of 8192 bytes", error.get("message").asText());
      assertEquals("active", daemon.get("/api/v1/features/" + id, RunningDaemon.VIEWER).json().get("status").asText(),
          "no question was asked");
    }
  }

  @Test
  void aFeaturesOpenQuestionsAreCappedAndTheAgentIsTold() throws Exception {
    String id = feature();
    try (ScriptedAgent agent = ScriptedAgent.connect(port, id, RunningDaemon.AGENT).hello()) {
      for (int i = 1; i <= 3; i++) {
        agent.send("{\"type\":\"question\",\"id\":\"q" + i + "\",\"text\":\"question " + i + "?\"}");
      }
      JsonNode error = agent.expect("error", 10);
      assertEquals("question", error.get("ref").asText());
      assertTrue(error.get("message").asText().startsWith("question refused: feature '" + id + "' already has 2 open questions"),
          error.toString());
      JsonNode feature = daemon.get("/api/v1/features/" + id, RunningDaemon.VIEWER).json();
      assertEquals(2, feature.get("openQuestions").size(), feature.toString());
      assertEquals("awaiting_input", feature.get("status").asText());
    }
  }

  /** -1 when the server closed the connection within {@code millis}; otherwise the first byte read. */
  private static int readWithin(Socket socket, int millis) throws Exception {
    socket.setSoTimeout(millis);
    try {
      return socket.getInputStream().read();
    } catch (SocketTimeoutException stillOpen) {
      return -2;
    } catch (java.net.SocketException reset) {
      return -1;
    }
  }

  @Test
  void aConnectionThatSendsNoRequestIsClosedSoon() throws Exception {
    try (Socket silent = new Socket("127.0.0.1", port); Socket slow = new Socket("127.0.0.1", port)) {
      slow.getOutputStream().write("GET /health/alive HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
      long started = System.nanoTime();
      assertEquals(-1, readWithin(silent, 5000), "a silent connection is closed");
      assertEquals(-1, readWithin(slow, 5000), "so is one that never finishes its request");
      long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
      assertTrue(millis < 4000, "closed after about first-request-timeout (1 s), not idle-timeout: " + millis + " ms");
    }
  }

  @Test
  void aConnectionThatMadeARequestIsKeptAndOneWithABadTokenIsClosed() throws Exception {
    try (Socket kept = new Socket("127.0.0.1", port)) {
      request(kept, "GET /health/alive HTTP/1.1\r\nHost: x\r\n\r\n");
      assertTrue(readResponse(kept).startsWith("HTTP/1.1 200"));
      Thread.sleep(1500);
      request(kept, "GET /health/alive HTTP/1.1\r\nHost: x\r\n\r\n");
      assertTrue(readResponse(kept).startsWith("HTTP/1.1 200"), "past first-request-timeout, still open");
    }
    try (Socket denied = new Socket("127.0.0.1", port)) {
      request(denied, "GET /api/v1/features HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong\r\n\r\n");
      String response = readResponse(denied);
      assertTrue(response.startsWith("HTTP/1.1 401"), response);
      assertTrue(response.toLowerCase().contains("connection: close"), response);
      assertEquals(-1, readWithin(denied, 5000), "and the connection is closed");
    }
  }

  @Test
  void newConnectionsPastTheCapAreClosedAtOnce() throws Exception {
    List<Socket> waiting = new ArrayList<>();
    try {
      for (int i = 0; i < 4; i++) {
        waiting.add(new Socket("127.0.0.1", port));
      }
      Thread.sleep(200);
      try (Socket fifth = new Socket("127.0.0.1", port)) {
        long started = System.nanoTime();
        assertEquals(-1, readWithin(fifth, 3000));
        assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started) < 800, "closed at once, not after the timeout");
      }
    } finally {
      for (Socket socket : waiting) {
        socket.close();
      }
    }
    Thread.sleep(1500);
    assertEquals(200, daemon.get("/health/alive", null).status(), "new connections are taken again");
  }

  private static void request(Socket socket, String text) throws Exception {
    OutputStream out = socket.getOutputStream();
    out.write(text.getBytes(StandardCharsets.US_ASCII));
    out.flush();
  }

  /** Headers and a Content-Length body of one response. */
  private static String readResponse(Socket socket) throws Exception {
    socket.setSoTimeout(5000);
    InputStream in = socket.getInputStream();
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        break;
      }
      head.append((char) b);
    }
    java.util.regex.Matcher length = java.util.regex.Pattern.compile("(?i)content-length: (\\d+)").matcher(head);
    if (length.find()) {
      in.readNBytes(Integer.parseInt(length.group(1)));
    }
    return head.toString();
  }
}
