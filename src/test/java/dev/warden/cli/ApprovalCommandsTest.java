package dev.warden.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warden.cli.Cli.UsageError;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code warden approvals | approve | reject}: arguments, usage errors and output, without HTTP. */
class ApprovalCommandsTest {

  static final Instant NOW = Instant.parse("2026-11-21T14:00:00Z");
  static final Map<String, String> ENV = Map.of("WARDEN_TOKEN", "secret-token", "WARDEN_URL", "http://warden.test:8420");

  /** A proposal as the contract describes it, with a field this client does not know. */
  static final String PROPOSAL = """
      {"id": "login-fix.1", "feature": "login-fix", "status": "proposed", "tier": "high",
       "description": "Fix the login redirect",
       "checkpoint": {"seq": 3, "commit": "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"}, "target": "main",
       "changes": {"files": 2, "linesAdded": 12, "linesDeleted": 3, "paths": ["src/Login.java", "src/Redirect.java"]},
       "validation": {"status": "valid", "violations": []},
       "approved": false, "approvals": {"required": 2, "received": 1},
       "decisions": [{"decision": "approve", "by": "alice", "at": "2026-11-21T13:00:00.123456789Z", "reason": "looks fine"}],
       "reviewEndsAt": null, "expiresAt": "2026-11-28T12:00:00Z", "apply": null,
       "proposedBy": "agent", "proposedAt": "2026-11-21T12:00:00Z", "updatedAt": "2026-11-21T13:00:00Z",
       "somethingNew": {"x": [1, 2]}}""";

  @TempDir Path cwd;

  // ---- arguments

  @Test
  void approvalsListsWithAnOptionalStatusFilter() throws Exception {
    ApiCommand all = parse("approvals");
    assertEquals("GET", all.method());
    assertEquals("/api/v1/approvals", all.path());
    assertEquals(Optional.empty(), all.body());
    assertEquals("viewer", all.role());
    assertFalse(all.json());
    assertEquals("http://warden.test:8420", all.warden().server().toString());
    assertEquals("secret-token", all.warden().token());

    assertEquals("/api/v1/approvals?status=proposed", parse("approvals", "--status", "proposed").path());
    assertEquals("/api/v1/approvals?status=stale", parse("approvals", "--json", "--status=stale").path());
    assertTrue(parse("approvals", "--json").json());
    for (String status : ApprovalCommands.STATUSES) {
      assertEquals("/api/v1/approvals?status=" + status, parse("approvals", "--status", status).path());
    }
  }

  @Test
  void approveSendsAnOptionalReasonAndABypassOnlyWithOne() throws Exception {
    ApiCommand plain = parse("approve", "login-fix.1");
    assertEquals("POST", plain.method());
    assertEquals("/api/v1/approvals/login-fix.1/approve", plain.path());
    assertEquals("{}", body(plain).toString());
    assertEquals("approver", plain.role());

    ApiCommand reasoned = parse("approve", "--reason", "reviewed \"it\" twice", "login-fix.12");
    assertEquals("/api/v1/approvals/login-fix.12/approve", reasoned.path());
    assertEquals("reviewed \"it\" twice", body(reasoned).path("reason").asText(), "the reason is JSON-escaped");
    assertFalse(body(reasoned).has("bypass"));

    ApiCommand bypass = parse("approve", "login-fix.1", "--bypass", "--reason=hotfix, CI is down");
    assertEquals("{\"reason\":\"hotfix, CI is down\",\"bypass\":true}", body(bypass).toString());
    assertEquals("admin", bypass.role());
    assertTrue(parse("approve", "login-fix.1", "--json").json());
  }

  @Test
  void rejectNeedsAReason() throws Exception {
    ApiCommand reject = parse("reject", "login-fix.1", "--reason", "touches the billing code");
    assertEquals("POST", reject.method());
    assertEquals("/api/v1/approvals/login-fix.1/reject", reject.path());
    assertEquals("{\"reason\":\"touches the billing code\"}", body(reject).toString());
    assertEquals("approver", reject.role());

    assertEquals("--reason TEXT is required: say why it is rejected", error(Map.of(), "reject", "login-fix.1"),
        "checked before the token is looked for");
    assertEquals("unknown option '--bypass'", error(ENV, "reject", "login-fix.1", "--reason", "no", "--bypass"));
  }

  @Test
  void usageErrorsNameTheBadArgument() {
    assertEquals("--status 'pending' is not one of proposed, approved, rejected, expired, stale, applied, failed, reverted, withdrawn",
        error(ENV, "approvals", "--status", "pending"));
    assertEquals("--status needs a value", error(ENV, "approvals", "--status"));
    assertEquals("--status needs a value", error(ENV, "approvals", "--status="));
    assertEquals("unexpected argument 'login-fix.1' (to see one: warden status ID)", error(ENV, "approvals", "login-fix.1"));
    assertEquals("unknown option '--frobnicate'", error(ENV, "approvals", "--frobnicate"));
    assertEquals("ID is required", error(ENV, "approve"));
    assertEquals("ID is required", error(ENV, "approve", "--reason", "fine"));
    assertEquals("one ID only, not also 'b.2'", error(ENV, "approve", "a.1", "b.2"));
    assertEquals("--reason needs a value", error(ENV, "approve", "a.1", "--reason", " "));
    assertEquals("--reason needs a value", error(ENV, "reject", "a.1", "--reason"));
    assertEquals("--bypass needs --reason TEXT: a bypass is always explained", error(ENV, "approve", "a.1", "--bypass"));
    for (String bad : new String[] {"login-fix", "login-fix.", ".1", "Login.1", "login-fix.1.2", "login-fix.x", "../x.1"}) {
      assertEquals("'" + bad + "' is not an approval id (a feature id, a dot and a number, such as login-fix.1)",
          error(ENV, "approve", bad), bad);
    }
    assertEquals("--server 'ftp://x' must be an http:// or https:// URL such as http://127.0.0.1:8420",
        error(ENV, "approvals", "--server", "ftp://x"));
    assertEquals("no token: pass --token, set WARDEN_TOKEN, or run where data/admin.token is", error(Map.of(), "approvals"));
  }

  @Test
  void helpWinsAndPrintsTheUsageOnStandardOutput() throws Exception {
    assertEquals(Optional.empty(), ApprovalCommands.approve(new String[] {"--help"}, Map.of(), cwd));
    assertEquals(Optional.empty(), ApprovalCommands.reject(new String[] {"x.1", "-h"}, Map.of(), cwd));
    Run help = run("approvals", "--help");
    assertEquals(0, help.exit);
    assertEquals(ApprovalCommands.APPROVALS_USAGE + "\n", help.out());
    assertEquals("", help.err());
  }

  @Test
  void aUsageErrorExits2WithTheUsageAndSendsNothing() {
    // were anything sent, the unreachable server would make it exit 1
    Run reject = run("reject", "login-fix.1", "--server", "http://127.0.0.1:1", "--token", "t");
    assertEquals(2, reject.exit);
    assertEquals("", reject.out());
    assertEquals("warden reject: --reason TEXT is required: say why it is rejected\n" + ApprovalCommands.REJECT_USAGE + "\n",
        reject.err());
  }

  @Test
  void anUnreachableDaemonExits1NamingItsUrl() {
    Run approvals = run("approvals", "--server", "http://127.0.0.1:1/", "--token", "t");
    assertEquals(1, approvals.exit);
    assertEquals("warden: cannot reach Warden at http://127.0.0.1:1 (connection refused)\n", approvals.err());
  }

  @Test
  void refusalsHintAtTheRoleOrTheToken() throws Exception {
    ApiCommand approve = parse("approve", "login-fix.1");
    assertEquals(Optional.of("approve needs an approver token or a stronger one; the token from WARDEN_TOKEN is weaker"),
        approve.hint("approve", 403));
    assertEquals(Optional.of("Warden does not know the token from WARDEN_TOKEN; pass one it knows with --token or"
        + " WARDEN_TOKEN"), approve.hint("approve", 401));
    assertEquals(Optional.empty(), approve.hint("approve", 409));
    assertEquals(Optional.of("approve needs an admin token; the token from --token is weaker"),
        parse("approve", "a.1", "--bypass", "--reason", "r", "--token", "t").hint("approve", 403));
    assertEquals(Optional.of("approvals needs a viewer token or a stronger one; the token from WARDEN_TOKEN is weaker"),
        parse("approvals").hint("approvals", 403));

    WardenClient.Problem conflict = new WardenClient.Problem(409, "Conflict", "login-fix.1 is stale: propose it again");
    assertEquals("login-fix.1 is stale: propose it again (409 Conflict)", conflict.getMessage());
    assertTrue(conflict.refused());
    assertEquals("Warden answered 503 Service Unavailable", new WardenClient.Problem(503, "Service Unavailable", "").getMessage());
    assertFalse(new WardenClient.Problem(503, "Service Unavailable", "").refused());
  }

  // ---- output

  @Test
  void theListIsATable() throws Exception {
    String answer = "{\"approvals\": [" + PROPOSAL + ", "
        + "{\"id\": \"docs.2\", \"feature\": \"docs\", \"status\": \"approved\", \"tier\": \"medium\","
        + " \"description\": \"A long description that goes on and on\\nover two lines and is cut at sixty characters\","
        + " \"approvals\": {\"required\": 0, \"received\": 0}, \"reviewEndsAt\": \"2026-11-22T08:30:00Z\","
        + " \"proposedAt\": \"2026-11-18T09:00:00Z\", \"note\": \"waiting: main is checked out in /home/me/app\"},"
        + "{\"id\": \"bare.7\"}]}";
    assertEquals("""
        ID           FEATURE    STATUS    TIER    APPROVALS  AGE  REVIEW ENDS  DESCRIPTION                                                      NOTE
        login-fix.1  login-fix  proposed  high    1/2        2h   -            Fix the login redirect                                           -
        docs.2       docs       approved  medium  0/0        3d   in 18h       A long description that goes on and on over two lines and is...  waiting: main is checked out in /home/me/app
        bare.7       -          -         -       -          -    -            -                                                                -
        """, ApprovalCommands.table(json(answer), NOW));
    assertEquals("no approvals\n", ApprovalCommands.table(json("{\"approvals\": []}"), NOW));
    assertEquals("no approvals\n", ApprovalCommands.table(json("{}"), NOW));
  }

  @Test
  void oneApprovalIsASummary() throws Exception {
    assertEquals("""
        approval login-fix.1: proposed (tier high, approvals 1/2)
          feature:      login-fix into main
          description:  Fix the login redirect
          checkpoint:   3 (0a1b2c3d4e5f)
          changes:      2 files +12 -3
                        src/Login.java
                        src/Redirect.java
          validation:   valid
          proposed:     2026-11-21T12:00:00Z by agent (2h ago)
          expires:      2026-11-28T12:00:00Z (in 6d)
          decisions:    approve by alice at 2026-11-21T13:00:00Z: looks fine
        """, ApprovalCommands.summary(json(PROPOSAL), NOW));
  }

  @Test
  void whyAnApprovedProposalWaitsComesFirst() throws Exception {
    String waiting = "{\"id\": \"a.1\", \"status\": \"approved\", \"target\": \"main\", \"feature\": \"a\","
        + " \"note\": \"waiting: main is checked out in /home/me/app; check out another branch there\"}";
    assertEquals("""
        approval a.1: approved
          note:         waiting: main is checked out in /home/me/app; check out another branch there
          feature:      a into main
        """, ApprovalCommands.summary(json(waiting), NOW));
    assertFalse(ApprovalCommands.landing(json(waiting)), "a note: nothing to wait for");
    assertTrue(ApprovalCommands.landing(json("{\"status\": \"approved\", \"note\": null}")));
    assertFalse(ApprovalCommands.landing(json("{\"status\": \"proposed\"}")), "more approvals needed: nothing to wait for");
    assertFalse(ApprovalCommands.landing(json("{\"status\": \"applied\"}")));
  }

  @Test
  void approveWaitsUntilTheProposalLandsUnlessToldNotTo() throws Exception {
    assertTrue(parse("approve", "login-fix.1").follow().isPresent());
    assertEquals("/api/v1/approvals/login-fix.1", parse("approve", "login-fix.1").follow().get().path());
    assertTrue(parse("approve", "login-fix.1", "--no-wait").follow().isEmpty());
    assertTrue(parse("reject", "login-fix.1", "--reason", "no").follow().isEmpty());
    assertEquals("unknown option '--no-wait'", error(ENV, "reject", "login-fix.1", "--reason", "no", "--no-wait"));

    // a real HTTP server: approved, still approved, then applied
    java.util.concurrent.atomic.AtomicInteger gets = new java.util.concurrent.atomic.AtomicInteger();
    com.sun.net.httpserver.HttpServer server = com.sun.net.httpserver.HttpServer.create(
        new java.net.InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/api/v1/approvals/login-fix.1", exchange -> {
      String status = exchange.getRequestMethod().equals("POST") ? "approved" : gets.incrementAndGet() < 2 ? "approved" : "applied";
      byte[] body = ("{\"id\": \"login-fix.1\", \"status\": \"" + status + "\", \"target\": \"main\"}").getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().add("Content-Type", "application/json");
      exchange.sendResponseHeaders(200, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    server.start();
    try {
      String url = "http://127.0.0.1:" + server.getAddress().getPort();
      Run waited = run(Map.of("WARDEN_HTTP_PORT", Integer.toString(server.getAddress().getPort()), "WARDEN_TOKEN", "t"),
          "approve", "login-fix.1");
      assertEquals(0, waited.exit, waited.err());
      assertEquals("warden: login-fix.1 is approved; waiting until it lands on main (Ctrl-C stops waiting, not the landing)\n",
          waited.err(), "one progress line");
      assertEquals("approval login-fix.1: applied\n  target:       main\n".lines().findFirst().orElseThrow(),
          waited.out().lines().findFirst().orElseThrow(), "the landed state is shown: " + waited.out());
      assertEquals(2, gets.get());

      Run quick = run(Map.of("WARDEN_URL", url, "WARDEN_TOKEN", "t"), "approve", "login-fix.1", "--no-wait");
      assertEquals(0, quick.exit);
      assertEquals("", quick.err());
      assertTrue(quick.out().startsWith("approval login-fix.1: approved"), quick.out());
      assertEquals(2, gets.get(), "--no-wait asks nothing more");
    } finally {
      server.stop(0);
    }
  }

  @Test
  void aFailedApplyShowsItsTestsErrorAndConflicts() throws Exception {
    String failed = """
        {"id": "login-fix.2", "feature": "login-fix", "status": "failed", "tier": "low", "target": "main",
         "validation": {"status": "invalid", "violations": [
           {"rule": "outside-allowed", "path": "x.txt", "severity": "error", "message": "'x.txt' is outside"},
           {"rule": "secret"}, "a plain string", {"message": "only a message"}, {"odd": 1}]},
         "approvals": {"required": 0, "received": 0},
         "decisions": [{"decision": "auto-approve", "by": "warden", "at": "not a time"}, {}],
         "reviewEndsAt": "2026-11-21T13:00:00Z",
         "apply": {"targetBefore": "1111111111111111111111111111111111111111", "commit": null, "attempts": 3,
                   "tests": [{"name": "test", "passed": false, "exitCode": 1}, {"name": "lint", "passed": true, "exitCode": 0},
                             {"name": "slow", "timedOut": true}, "raw"],
                   "error": "merge conflict\\nin 2 files\\n", "conflicts": ["src/a.java", "src/b.java"]}}""";
    assertEquals("""
        approval login-fix.2: failed (tier low, approvals 0/0)
          feature:      login-fix into main
          validation:   invalid
                        error outside-allowed x.txt: 'x.txt' is outside
                        secret
                        a plain string
                        only a message
                        {"odd":1}
          review ends:  2026-11-21T13:00:00Z (1h ago)
          decisions:    auto-approve by warden at not a time
                        -
          apply:        onto main at 111111111111, 3 attempts
          tests:        test failed (exit 1)
                        lint passed
                        slow timed out
                        raw
          apply error:  merge conflict
                        in 2 files
          conflicts:    src/a.java
                        src/b.java
        """, ApprovalCommands.summary(json(failed), NOW));
  }

  @Test
  void longListsAreCutAndAnythingMissingIsLeftOut() throws Exception {
    StringBuilder paths = new StringBuilder();
    for (int i = 0; i < 12; i++) {
      paths.append(i == 0 ? "" : ",").append("\"f").append(i).append("\"");
    }
    String many = "{\"id\": \"a.1\", \"status\": \"applied\", \"approvals\": {\"received\": 2, \"required\": 1}, \"changes\": {\"files\": 12, \"paths\": [" + paths + "]},"
        + " \"apply\": {\"targetBefore\": \"abc\", \"commit\": \"def\", \"attempts\": 1}}";
    assertEquals("""
        approval a.1: applied (approvals 2/1)
          changes:      12 files
                        f0
                        f1
                        f2
                        f3
                        f4
                        f5
                        f6
                        f7
                        f8
                        f9
                        ... and 2 more (--json shows all)
          apply:        onto the target at abc, commit def, 1 attempt
        """, ApprovalCommands.summary(json(many), NOW));
    assertEquals("approval -: -\n",
        ApprovalCommands.summary(json("{\"apply\": null, \"checkpoint\": 5, \"changes\": {\"paths\": []}}"), NOW));
  }

  // ---- helpers

  private ApiCommand parse(String... args) throws UsageError {
    return parser(args[0]).parse(rest(args), ENV, cwd).orElseThrow();
  }

  private String error(Map<String, String> env, String... args) {
    return assertThrows(UsageError.class, () -> parser(args[0]).parse(rest(args), env, cwd)).getMessage();
  }

  private static ApiCommand.Parser parser(String command) {
    return switch (command) {
      case "approvals" -> ApprovalCommands::approvals;
      case "approve" -> ApprovalCommands::approve;
      case "reject" -> ApprovalCommands::reject;
      default -> throw new IllegalArgumentException(command);
    };
  }

  private static String[] rest(String[] args) {
    return java.util.Arrays.copyOfRange(args, 1, args.length);
  }

  private static JsonNode body(ApiCommand command) throws Exception {
    return new ObjectMapper().readTree(command.body().orElseThrow());
  }

  static JsonNode json(String text) throws Exception {
    return new ObjectMapper().readTree(text);
  }

  /** The outcome of one {@code run}. */
  record Run(int exit, ByteArrayOutputStream stdout, ByteArrayOutputStream stderr) {
    String out() {
      return stdout.toString(StandardCharsets.UTF_8);
    }

    String err() {
      return stderr.toString(StandardCharsets.UTF_8);
    }
  }

  private Run run(String... args) {
    return run(Map.of(), args);
  }

  private Run run(Map<String, String> env, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exit = ApprovalCommands.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), env, cwd);
    return new Run(exit, out, err);
  }
}
