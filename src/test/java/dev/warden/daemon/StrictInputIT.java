package dev.warden.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warden.persistence.JournalDatabase;
import dev.warden.testing.GitRepos;
import dev.warden.testing.RunningDaemon;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile bodies against every mutating route of a real daemon: trailing garbage, a repeated key, a
 * lone surrogate, a byte that is not UTF-8, a NUL, a chunk of 1 MiB + 1. Each is answered 400 (naming
 * the field) or 413 as problem+json, never cached or sniffed, and leaves the journal, the repository's
 * refs and worktrees and the data dir's worktrees exactly as they were. Also: Akka's own parser errors
 * are problem+json, and the WebSockets refuse a foreign web page.
 */
class StrictInputIT {

  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path tmp;
  private static RunningDaemon daemon;
  private static Path repo;
  private static Path worktrees;
  private static String feature;
  private static int port;

  /**
   * A mutating route and a body it would accept, with {@code @} where the text of {@code field} goes
   * ({@code dupKey} is a key of that body to repeat). A route that takes no fields uses a key of its own.
   */
  record Target(String method, String path, String token, String template, String field, String dupKey) {
    byte[] body(String text) {
      return template.replace("@", text).getBytes(StandardCharsets.UTF_8);
    }

    String label() {
      return method + " " + path;
    }
  }

  /** One kind of hostile body: what makes it, the status, the field it is blamed on, words of the detail. */
  record Case(String name, int status, boolean namesField, String detail) {}

  @BeforeAll
  static void start() throws Exception {
    Path allowed = Files.createDirectories(tmp.resolve("allowed"));
    repo = GitRepos.create(allowed.resolve("app")).toRealPath();
    daemon = RunningDaemon.start(RunningDaemon.config(tmp.resolve("data"), "", "", "", List.of(allowed), true)).awaitReady();
    worktrees = tmp.resolve("data/worktrees");
    port = daemon.daemon().httpAddress().getPort();
    feature = "strict-" + UUID.randomUUID().toString().substring(0, 8);
    RunningDaemon.Response created = daemon.post("/api/v1/features", RunningDaemon.ADMIN,
        "{\"id\":\"" + feature + "\",\"repo\":\"" + repo + "\",\"target\":\"main\"}");
    assertEquals(201, created.status(), created.body());
  }

  @AfterAll
  static void stop() {
    daemon.close();
  }

  private static List<Target> targets() {
    String f = "/api/v1/features/" + feature;
    String fresh = "strict-new-" + UUID.randomUUID().toString().substring(0, 6);
    return List.of(
        new Target("POST", "/api/v1/features", RunningDaemon.AGENT,
            "{\"id\":\"" + fresh + "\",\"repo\":\"" + repo + "\",\"target\":\"main\",\"plan\":{\"checks\":[{\"name\":\"@\",\"argv\":[\"true\"]}]}}",
            "plan.checks[0].name", "target"),
        new Target("PUT", f + "/plan", RunningDaemon.APPROVER, "{\"allowedPaths\":[\"@\"]}", "allowedPaths[0]", "allowedPaths"),
        new Target("POST", f + "/pause", RunningDaemon.AGENT, "{\"reason\":\"@\"}", "reason", "reason"),
        new Target("POST", f + "/resume", RunningDaemon.AGENT, "{\"k\":\"@\"}", "k", "k"),
        new Target("DELETE", f, RunningDaemon.APPROVER, "{\"reason\":\"@\"}", "reason", "reason"),
        new Target("POST", f + "/checkpoint", RunningDaemon.AGENT, "{\"k\":\"@\"}", "k", "k"),
        new Target("POST", f + "/rollback", RunningDaemon.AGENT, "{\"to\":0,\"strategy\":\"@\"}", "strategy", "to"),
        new Target("POST", f + "/patches", RunningDaemon.AGENT, "{\"diff\":\"@\"}", "diff", "diff"),
        new Target("POST", f + "/propose", RunningDaemon.AGENT, "{\"description\":\"@\"}", "description", "description"),
        new Target("POST", f + "/questions/q-1/answer", RunningDaemon.APPROVER, "{\"text\":\"@\"}", "text", "text"),
        new Target("POST", f + "/message", RunningDaemon.APPROVER, "{\"text\":\"@\"}", "text", "text"),
        new Target("POST", "/api/v1/approvals/" + feature + ".1/approve", RunningDaemon.ADMIN,
            "{\"reason\":\"@\",\"bypass\":false}", "reason", "bypass"),
        new Target("POST", "/api/v1/approvals/" + feature + ".1/reject", RunningDaemon.APPROVER, "{\"reason\":\"@\"}", "reason", "reason"),
        new Target("POST", "/api/v1/approvals/" + feature + ".1/rollback", RunningDaemon.ADMIN, "{\"reason\":\"@\"}", "reason", "reason"));
  }

  @Test
  void everyMutatingRouteRefusesEveryHostileBodyAndNothingIsWritten() throws Exception {
    long journalBefore = quietJournal();
    String refsBefore = GitRepos.refs(repo);
    String gitWorktreesBefore = GitRepos.git(repo, "worktree", "list", "--porcelain");
    List<String> dataWorktreesBefore = listing(worktrees);

    List<String> failures = new ArrayList<>();
    int answered = 0;
    for (Target target : targets()) {
      Map<String, byte[]> bodies = new TreeMap<>();
      String valid = new String(target.body("fine"), StandardCharsets.UTF_8);
      bodies.put("trailing garbage", (valid + " {\"reason\":\"more\"}").getBytes(StandardCharsets.UTF_8));
      bodies.put("trailing garbage (a stray brace)", (valid + "}").getBytes(StandardCharsets.UTF_8));
      bodies.put("duplicate key", duplicate(valid, target.dupKey()));
      bodies.put("lone surrogate", target.body("a\\ud800b"));
      bodies.put("low surrogate alone", target.body("\\udc00"));
      bodies.put("NUL", target.body("a\\u0000b"));
      bodies.put("invalid UTF-8", withByte(target.body("a@b"), (byte) 0xff));
      bodies.put("UTF-8 encoded surrogate", withBytes(target.body("a@b"), new byte[] {(byte) 0xed, (byte) 0xa0, (byte) 0x80}));
      for (var entry : bodies.entrySet()) {
        Raw answer = send(target, entry.getValue());
        answered++;
        String expectedField = switch (entry.getKey()) {
          case "trailing garbage", "trailing garbage (a stray brace)" -> "body";
          case "duplicate key" -> target.dupKey();
          default -> target.field();
        };
        String problem = checkProblem(answer, 400, expectedField);
        if (problem != null) {
          failures.add(target.label() + " / " + entry.getKey() + ": " + problem);
        }
      }
      Raw tooLarge = sendChunked(target, 1024 * 1024 + 1);
      answered++;
      String problem = checkProblem(tooLarge, 413, "body");
      if (problem != null) {
        failures.add(target.label() + " / 1 MiB + 1 chunk: " + problem);
      }
    }
    assertEquals(List.of(), failures, failures.size() + " of " + answered + " answers wrong");

    // nothing happened: no event, no branch, no worktree; the feature is as it was
    Thread.sleep(1000); // an event wrongly persisted would be in the journal by now
    assertEquals(journalBefore, journalOffset(), "events were written");
    assertEquals(refsBefore, GitRepos.refs(repo), "refs changed (an orphan branch?)");
    assertEquals(gitWorktreesBefore, GitRepos.git(repo, "worktree", "list", "--porcelain"), "git worktrees changed");
    assertEquals(dataWorktreesBefore, listing(worktrees), "the data dir's worktrees changed");
    JsonNode now = daemon.get("/api/v1/features/" + feature, RunningDaemon.VIEWER).json();
    assertEquals("active", now.get("status").asText());
    assertEquals(1, now.get("plan").get("version").asInt());
  }

  @Test
  void aLoneSurrogateInACreateLeavesNoOrphanAndTheDaemonAnswersAtOnce() throws Exception {
    String id = "strict-orphan-" + UUID.randomUUID().toString().substring(0, 6);
    String refsBefore = GitRepos.refs(repo);
    long started = System.nanoTime();
    RunningDaemon.Response answer = daemon.post("/api/v1/features", RunningDaemon.ADMIN,
        "{\"id\":\"" + id + "\",\"repo\":\"" + repo + "\",\"target\":\"main\",\"plan\":{\"allowedPaths\":[\"src/\\ud800**\"]}}");
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
    answer.assertProblem(400, "plan.allowedPaths[0]");
    assertTrue(answer.json().get("detail").asText().contains("lone surrogate"), answer.body());
    assertTrue(millis < 5000, "took " + millis + " ms");
    assertEquals(refsBefore, GitRepos.refs(repo));
    assertTrue(Files.notExists(worktrees.resolve(id)));
    daemon.get("/api/v1/features/" + id, RunningDaemon.VIEWER).assertProblem(404, null);
  }

  @Test
  void apiAnswersAreNeverCachedOrSniffedAndErrorsLikewise() {
    for (RunningDaemon.Response response : List.of(
        daemon.get("/api/v1/features", RunningDaemon.VIEWER),
        daemon.get("/api/v1/policy", RunningDaemon.VIEWER),
        daemon.get("/api/v1/features/" + feature + "/checkpoints", RunningDaemon.VIEWER),
        daemon.get("/api/v1/nothing-here", RunningDaemon.VIEWER),
        daemon.get("/api/v1/features", null),
        daemon.get("/nothing-here", null))) {
      assertEquals("no-store", response.raw().headers().firstValue("Cache-Control").orElse(null), response.raw().uri().toString());
      assertEquals("nosniff", response.raw().headers().firstValue("X-Content-Type-Options").orElse(null), response.raw().uri().toString());
    }
    RunningDaemon.Response health = daemon.get("/health/alive", null);
    assertEquals(200, health.status());
    assertEquals("nosniff", health.raw().headers().firstValue("X-Content-Type-Options").orElse(null));
  }

  @Test
  void requestsAkkasParserRefusesAreProblemsToo() throws Exception {
    Raw unknownMethod = raw(("BREW /api/v1/features HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
    assertEquals(null, checkProblem(unknownMethod, 501, null), unknownMethod.text());
    Raw badVersion = raw(("GET /api/v1/features HTTP/1.2\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
    assertEquals(null, checkProblem(badVersion, 505, null), badVersion.text());
    Raw badHeader = raw(("GET /api/v1/features HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: lots\r\nConnection: close\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII));
    assertEquals(null, checkProblem(badHeader, 400, null), badHeader.text());
    Raw longUri = raw(("GET /api/v1/" + "x".repeat(3000) + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII));
    assertEquals(null, checkProblem(longUri, 414, null), longUri.text());
    Raw longHeader = raw(("GET /api/v1/features HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + "x".repeat(10_000) + "\r\nConnection: close\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII));
    assertEquals(null, checkProblem(longHeader, 431, null), longHeader.text());
  }

  @Test
  void theFeedSocketRefusesAForeignWebPage() throws Exception {
    for (String foreign : List.of("http://evil.example", "http://127.0.0.1:" + (port + 1), "null")) {
      RunningDaemon.Response refused = daemon.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/events?token="
          + RunningDaemon.VIEWER)).header("Origin", foreign).GET());
      refused.assertProblem(403, "Origin");
      assertEquals(403, handshake("/api/v1/events", RunningDaemon.VIEWER, foreign), foreign);
    }
    // Warden's own page (either name of the loopback address) and a client without Origin connect
    assertEquals(101, handshake("/api/v1/events", RunningDaemon.VIEWER, "http://127.0.0.1:" + port));
    assertEquals(101, handshake("/api/v1/events", RunningDaemon.VIEWER, "http://localhost:" + port));
    assertEquals(101, handshake("/api/v1/events", RunningDaemon.VIEWER, null));
  }

  @Test
  void theAgentSocketRefusesAForeignWebPage() throws Exception {
    String agent = "/api/v1/features/" + feature + "/agent";
    Raw refused = raw(("GET " + agent + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nAuthorization: Bearer " + RunningDaemon.AGENT
        + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13"
        + "\r\nOrigin: http://evil.example\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
    assertEquals(null, checkProblem(refused, 403, "Origin"), refused.text());
    assertEquals(403, handshake(agent, RunningDaemon.AGENT, "http://evil.example"));
    // the same request from no browser is the agent connecting
    assertEquals(101, handshake(agent, RunningDaemon.AGENT, null));
  }

  // --- helpers ---

  /** The status of a WebSocket handshake: 101 when it was accepted (and is closed again at once). */
  private static int handshake(String path, String token, String origin) throws Exception {
    WebSocket.Builder builder = HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5))
        .header("Authorization", "Bearer " + token);
    if (origin != null) {
      builder.header("Origin", origin);
    }
    try {
      WebSocket socket = builder.buildAsync(URI.create("ws://127.0.0.1:" + port + path), new WebSocket.Listener() {})
          .get(10, TimeUnit.SECONDS);
      socket.sendClose(WebSocket.NORMAL_CLOSURE, "").get(5, TimeUnit.SECONDS);
      socket.abort();
      return 101;
    } catch (ExecutionException e) {
      if (e.getCause() instanceof WebSocketHandshakeException refused) {
        return refused.getResponse().statusCode();
      }
      throw e;
    }
  }

  /** Null when {@code answer} is a problem with this status (and field, when not null) and the safety headers; else what is wrong. */
  private static String checkProblem(Raw answer, int status, String field) {
    if (answer.status() != status) {
      return "status " + answer.status() + " (expected " + status + "): " + answer.text();
    }
    if (!answer.header("content-type").startsWith("application/problem+json")) {
      return "content type " + answer.header("content-type") + ": " + answer.text();
    }
    if (!answer.header("cache-control").equals("no-store") || !answer.header("x-content-type-options").equals("nosniff")) {
      return "headers " + answer.headers();
    }
    JsonNode problem;
    try {
      problem = JSON.readTree(answer.body());
    } catch (IOException e) {
      return "not JSON: " + answer.text();
    }
    if (problem.path("status").asInt() != status) {
      return "status member " + problem.path("status");
    }
    if (field != null && !field.equals(problem.path("field").asText(null))) {
      return "field " + problem.path("field") + " (expected " + field + "): " + problem.path("detail").asText();
    }
    return null;
  }

  private static byte[] duplicate(String valid, String key) {
    // the key again, first in the object, with a value of the right type taken from its first occurrence
    JsonNode parsed;
    try {
      parsed = JSON.readTree(valid);
    } catch (IOException e) {
      throw new AssertionError(valid, e);
    }
    String again = "{\"" + key + "\":" + parsed.get(key) + ",";
    return (again + valid.substring(1)).getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] withByte(byte[] body, byte bad) {
    return withBytes(body, new byte[] {bad});
  }

  /** {@code body} with its {@code @} replaced by raw {@code bad} bytes. */
  private static byte[] withBytes(byte[] body, byte[] bad) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte b : body) {
      if (b == '@') {
        out.writeBytes(bad);
      } else {
        out.write(b);
      }
    }
    return out.toByteArray();
  }

  private static Raw send(Target target, byte[] body) throws IOException {
    ByteArrayOutputStream request = new ByteArrayOutputStream();
    request.writeBytes(head(target, "Content-Length: " + body.length));
    request.writeBytes(body);
    return raw(request.toByteArray());
  }

  /** One chunk of {@code size} bytes (a JSON-looking body), written while the answer is read: the server may stop reading early. */
  private static Raw sendChunked(Target target, int size) throws Exception {
    byte[] chunk = new byte[size];
    java.util.Arrays.fill(chunk, (byte) 'x');
    chunk[0] = '{';
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(20_000);
      OutputStream out = socket.getOutputStream();
      out.write(head(target, "Transfer-Encoding: chunked"));
      out.write((Integer.toHexString(size) + "\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      Thread writer = new Thread(() -> {
        try {
          out.write(chunk);
          out.write("\r\n0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
          out.flush();
        } catch (IOException ignored) {
          // the server answered and closed before taking it all
        }
      });
      writer.setDaemon(true);
      writer.start();
      return Raw.read(socket.getInputStream());
    }
  }

  private static byte[] head(Target target, String lengthHeader) {
    return (target.method() + " " + target.path() + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nAuthorization: Bearer " + target.token()
        + "\r\nContent-Type: application/json\r\n" + lengthHeader + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
  }

  private static Raw raw(byte[] request) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(20_000);
      socket.getOutputStream().write(request);
      socket.getOutputStream().flush();
      return Raw.read(socket.getInputStream());
    }
  }

  /** An HTTP/1.1 answer read off a socket: the status line, headers (lower-case names) and the body as sent. */
  record Raw(int status, Map<String, String> headers, String body) {
    static Raw read(InputStream in) throws IOException {
      ByteArrayOutputStream head = new ByteArrayOutputStream();
      int matched = 0;
      while (matched < 4) {
        int b = in.read();
        if (b < 0) {
          throw new IOException("connection closed in the headers: " + head.toString(StandardCharsets.ISO_8859_1));
        }
        head.write(b);
        matched = (b == "\r\n\r\n".charAt(matched)) ? matched + 1 : (b == '\r' ? 1 : 0);
      }
      String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
      int status = Integer.parseInt(lines[0].split(" ")[1]);
      Map<String, String> headers = new TreeMap<>();
      for (int i = 1; i < lines.length; i++) {
        int colon = lines[i].indexOf(':');
        if (colon > 0) {
          headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
        }
      }
      byte[] body;
      if (headers.containsKey("content-length")) {
        body = in.readNBytes(Integer.parseInt(headers.get("content-length")));
      } else if (status == 101) {
        body = new byte[0];
      } else {
        body = in.readAllBytes();
      }
      return new Raw(status, headers, new String(body, StandardCharsets.UTF_8));
    }

    String header(String name) {
      return headers.getOrDefault(name, "");
    }

    String text() {
      return status + " " + headers + " " + body;
    }
  }

  private static List<String> listing(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> entries = Files.list(dir)) {
      return entries.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  private static long journalOffset() {
    return JournalDatabase.get(daemon.daemon().system()).maxOrdering().toCompletableFuture().join();
  }

  /** The journal's offset once it has not moved for 2 s (the new feature's first events are written). */
  private static long quietJournal() throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    long last = journalOffset();
    long stableSince = System.nanoTime();
    while (System.nanoTime() < deadline) {
      Thread.sleep(200);
      long now = journalOffset();
      if (now != last) {
        last = now;
        stableSince = System.nanoTime();
      } else if (System.nanoTime() - stableSince > TimeUnit.SECONDS.toNanos(2)) {
        return now;
      }
    }
    throw new AssertionError("the journal did not settle within 30 s");
  }
}
