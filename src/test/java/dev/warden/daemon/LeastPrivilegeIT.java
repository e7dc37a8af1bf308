package dev.warden.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import dev.warden.auth.TokenRegistry;
import dev.warden.testing.GitRepos;
import dev.warden.testing.RunningDaemon;
import dev.warden.testing.ScriptedAgent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Least privilege against the real daemon: what an agent token may create, what a feature-bound
 * token and a run token may reach, a proposer approving its own high-tier work, and the modes of
 * Warden's files (docs/security.md, "Least privilege").
 */
class LeastPrivilegeIT {

  static final String REVIEWER = "reviewer-token";
  static final String BOUND = "bound-bot-token";
  static final String BOUND_FEATURE = "bound-one";
  static final String CHECKS = "{\"checks\":[{\"name\":\"lint\",\"argv\":[\"true\"]}]}";
  static final String TEST = "{\"test\":{\"argv\":[\"true\"]}}";

  @TempDir static Path tmp;
  private static RunningDaemon daemon;
  private static Path repos;

  @BeforeAll
  static void start() throws Exception {
    repos = Files.createDirectories(tmp.resolve("repos"));
    Path policy = tmp.resolve("policy.conf");
    Files.writeString(policy, """
        rules = [ { paths = "src/**", tier = medium } ]
        tiers {
          medium { review-window = 1h }
          high { approvers = 1 }
          expiry = 7d
        }
        """);
    daemon = RunningDaemon.start(config(tmp.resolve("data"), policy)).awaitReady();
  }

  /** The usual tokens, a second approver, an agent token bound to one feature, and one plan template. */
  static Config config(Path data, Path policy) {
    Config base = RunningDaemon.config(data, "", "", "", List.of(repos), true);
    List<Map<String, Object>> tokens = List.of(
        token("ops", "admin", RunningDaemon.ADMIN), token("lead", "approver", RunningDaemon.APPROVER),
        token("reviewer", "approver", REVIEWER), token("claude", "agent", RunningDaemon.AGENT),
        token("dashboard", "viewer", RunningDaemon.VIEWER),
        Map.of("name", "bound-bot", "role", "agent", "sha256", TokenRegistry.sha256Hex(BOUND), "features", List.of(BOUND_FEATURE)));
    return ConfigFactory.parseString("""
            warden.plan-templates {
              checked { allowedPaths = ["src/**"], checks = [ { name = "lint", argv = ["true"], timeoutSeconds = 30 } ] }
            }
            """)
        .withFallback(base.withValue("warden.auth.tokens", ConfigValueFactory.fromIterable(tokens))
            .withValue("warden.policy.file", ConfigValueFactory.fromAnyRef(policy.toString())));
  }

  private static Map<String, Object> token(String name, String role, String secret) {
    return Map.of("name", name, "role", role, "sha256", TokenRegistry.sha256Hex(secret));
  }

  @AfterAll
  static void stop() {
    daemon.close();
  }

  private static String newId() {
    return "lp-" + UUID.randomUUID().toString().substring(0, 8);
  }

  private static RunningDaemon.Response create(String token, String id, String planPart) {
    Path repo = GitRepos.create(repos.resolve(id));
    return daemon.post("/api/v1/features", token,
        "{\"id\":\"" + id + "\",\"repo\":\"" + repo + "\",\"target\":\"main\"" + (planPart == null ? "" : "," + planPart) + "}");
  }

  private static String created(String token, String id, String planPart) {
    RunningDaemon.Response response = create(token, id, planPart);
    assertEquals(201, response.status(), response.body());
    return response.json().get("worktree").asText();
  }

  @Test
  void anAgentTokenCreatingAFeatureWithChecksOrATestGets403NamingTheFieldButMayUseAnOperatorsTemplate() {
    String withChecks = newId();
    create(RunningDaemon.AGENT, withChecks, "\"plan\":" + CHECKS).assertProblem(403, "plan.checks");
    create(RunningDaemon.AGENT, newId(), "\"plan\":" + TEST).assertProblem(403, "plan.test");
    // nor may it open its own sandbox wider (a writable path, network for checks); narrowing is fine
    create(RunningDaemon.AGENT, newId(), "\"plan\":{\"sandbox\":{\"writable\":[\"/etc\"]}}").assertProblem(403, "plan.sandbox");
    create(RunningDaemon.AGENT, newId(), "\"plan\":{\"sandbox\":{\"checkNetwork\":true}}").assertProblem(403, "plan.sandbox");
    created(RunningDaemon.AGENT, newId(), "\"plan\":{\"sandbox\":{\"agentNetwork\":false,\"hidden\":[\"~/notes\"]}}");
    assertEquals(404, daemon.get("/api/v1/features/" + withChecks, RunningDaemon.VIEWER).status(), "nothing was created");
    // an agent may still create a plan of path rules; an approver may create one with checks
    created(RunningDaemon.AGENT, newId(), "\"plan\":{\"allowedPaths\":[\"src/**\"]}");
    created(RunningDaemon.APPROVER, newId(), "\"plan\":" + CHECKS);

    // the operator's template: listed, and usable by an agent token
    JsonNode templates = daemon.get("/api/v1/plan-templates", RunningDaemon.VIEWER).json().get("templates");
    assertEquals("lint", templates.get("checked").get("checks").get(0).get("name").asText(), templates.toString());
    String fromTemplate = newId();
    created(RunningDaemon.AGENT, fromTemplate, "\"planTemplate\":\"checked\"");
    JsonNode plan = daemon.get("/api/v1/features/" + fromTemplate, RunningDaemon.VIEWER).json().get("plan");
    assertEquals("lint", plan.get("checks").get(0).get("name").asText(), plan.toString());
    assertEquals("src/**", plan.get("allowedPaths").get(0).asText());
    create(RunningDaemon.AGENT, newId(), "\"planTemplate\":\"nope\"").assertProblem(400, "planTemplate");
    create(RunningDaemon.AGENT, newId(), "\"planTemplate\":\"checked\",\"plan\":{}").assertProblem(400, "planTemplate");
  }

  @Test
  void aFeatureBoundTokenReachesOnlyItsFeature() {
    if (daemon.get("/api/v1/features/" + BOUND_FEATURE, RunningDaemon.VIEWER).status() == 404) {
      created(RunningDaemon.APPROVER, BOUND_FEATURE, null);
    }
    String other = newId();
    created(RunningDaemon.AGENT, other, null);

    assertEquals(200, daemon.get("/api/v1/features/" + BOUND_FEATURE, BOUND).status());
    assertEquals(200, daemon.get("/api/v1/features/" + BOUND_FEATURE + "/checkpoints", BOUND).status());
    RunningDaemon.Response refused = daemon.get("/api/v1/features/" + other, BOUND).assertProblem(403, null);
    assertTrue(refused.json().get("detail").asText().contains("bound to feature(s) " + BOUND_FEATURE), refused.body());
    daemon.get("/api/v1/features/" + other + "/checkpoints", BOUND).assertProblem(403, null);
    daemon.get("/api/v1/features", BOUND).assertProblem(403, null);
    create(BOUND, newId(), null).assertProblem(403, null);
    daemon.get("/api/v1/approvals", BOUND).assertProblem(403, null);
    daemon.get("/api/v1/policy", BOUND).assertProblem(403, null);
    daemon.get("/api/v1/plan-templates", BOUND).assertProblem(403, null);
    daemon.get("/api/v1/events", BOUND).assertProblem(403, null); // the live feed shows every feature
    daemon.get("/api/v1/events?token=" + BOUND, null).assertProblem(403, null);
  }

  @Test
  void aRunTokenIsBoundToItsFeatureWorksForItsAgentSocketAndStopsWorkingWhenRevoked() throws Exception {
    String id = newId();
    created(RunningDaemon.AGENT, id, null);
    String other = newId();
    created(RunningDaemon.AGENT, other, null);
    daemon.post("/api/v1/features/" + id + "/agent-token", RunningDaemon.VIEWER, "{}").assertProblem(403, null);
    daemon.post("/api/v1/features/nobody/agent-token", RunningDaemon.AGENT, "{}").assertProblem(404, null);

    RunningDaemon.Response issued = daemon.post("/api/v1/features/" + id + "/agent-token", RunningDaemon.AGENT, "");
    assertEquals(201, issued.status(), issued.body());
    String run = issued.json().get("token").asText();
    String name = issued.json().get("name").asText();
    assertTrue(run.startsWith("wrt_"), issued.body());
    assertTrue(name.startsWith("run:" + id + ":"), issued.body());
    assertTrue(java.time.Instant.parse(issued.json().get("expiresAt").asText()).isAfter(java.time.Instant.now().plusSeconds(3600)));

    // bound to its feature, agent role: reads its feature, nothing else; cannot create, approve nor mint
    assertEquals(200, daemon.get("/api/v1/features/" + id, run).status());
    daemon.get("/api/v1/features/" + other, run).assertProblem(403, null);
    create(run, newId(), null).assertProblem(403, null);
    daemon.post("/api/v1/features/" + id + "/agent-token", run, "{}").assertProblem(403, null);
    daemon.get("/api/v1/approvals", run).assertProblem(403, null);
    daemon.get("/api/v1/events", run).assertProblem(403, null);
    assertEquals(403, ScriptedAgent.refusedStatus(daemon.daemon().httpAddress().getPort(), other, run));
    // a tampered token is no token
    String tampered = run.substring(0, run.length() - 2) + (run.endsWith("A") ? "BB" : "AA");
    daemon.get("/api/v1/features/" + id, tampered).assertProblem(401, null);

    // its agent socket works, and what the agent proposes is on record as the run's
    Path worktree = Path.of(daemon.get("/api/v1/features/" + id, RunningDaemon.VIEWER).json().get("worktree").asText());
    Files.writeString(worktree.resolve("notes.txt"), "hello\n");
    int port = daemon.daemon().httpAddress().getPort();
    try (ScriptedAgent agent = ScriptedAgent.connect(port, id, run).hello()) {
      agent.send("{\"type\":\"propose\",\"description\":\"notes\"}");
      agent.expect(m -> m.path("text").asText().startsWith("proposal " + id + ".1"), 30, "the proposal's answer");
    }
    JsonNode proposal = daemon.get("/api/v1/approvals/" + id + ".1", RunningDaemon.VIEWER).json();
    assertEquals(name, proposal.get("proposedBy").asText(), proposal.toString());

    // revoking needs the run token itself; afterwards it opens nothing
    daemon.delete("/api/v1/features/" + id + "/agent-token", RunningDaemon.AGENT).assertProblem(403, null);
    assertEquals(204, daemon.delete("/api/v1/features/" + id + "/agent-token", run).status());
    daemon.get("/api/v1/features/" + id, run).assertProblem(401, null);
    assertEquals(401, ScriptedAgent.refusedStatus(port, id, run));
  }

  @Test
  void aProposerApprovingItsOwnHighTierProposalGets403AndAnotherApproverMay() throws Exception {
    String id = newId();
    Path worktree = Path.of(created(RunningDaemon.AGENT, id, null));
    Files.writeString(worktree.resolve("Makefile"), "all:\n"); // not named by the policy: high
    RunningDaemon.Response proposed = daemon.post("/api/v1/features/" + id + "/propose", RunningDaemon.APPROVER, "{\"description\":\"mine\"}");
    assertEquals(201, proposed.status(), proposed.body());
    assertEquals("high", proposed.json().get("tier").asText());
    assertEquals("lead", proposed.json().get("proposedBy").asText());

    RunningDaemon.Response own = daemon.post("/api/v1/approvals/" + id + ".1/approve", RunningDaemon.APPROVER, "{\"reason\":\"lgtm\"}")
        .assertProblem(403, null);
    assertTrue(own.json().get("detail").asText().contains("lead proposed " + id + ".1 and may not approve it"), own.body());
    assertEquals("proposed", daemon.get("/api/v1/approvals/" + id + ".1", RunningDaemon.VIEWER).json().get("status").asText());

    RunningDaemon.Response other = daemon.post("/api/v1/approvals/" + id + ".1/approve", REVIEWER, "{\"reason\":\"lgtm\"}");
    assertEquals(200, other.status(), other.body());
    assertTrue(other.json().get("approved").asBoolean(), other.body());
  }

  @Test
  void anAdminProposerCannotBypassItsOwnHighTierProposalButSeparationIsOffForMediumByDefault() throws Exception {
    String high = newId();
    Files.writeString(Path.of(created(RunningDaemon.AGENT, high, null)).resolve("Makefile"), "all:\n");
    assertEquals(201, daemon.post("/api/v1/features/" + high + "/propose", RunningDaemon.ADMIN, "{}").status());
    daemon.post("/api/v1/approvals/" + high + ".1/approve", RunningDaemon.ADMIN, "{\"bypass\":true,\"reason\":\"urgent\"}")
        .assertProblem(403, null);

    String medium = newId();
    Path worktree = Path.of(created(RunningDaemon.AGENT, medium, null));
    Files.createDirectories(worktree.resolve("src"));
    Files.writeString(worktree.resolve("src/a.txt"), "a\n");
    RunningDaemon.Response proposed = daemon.post("/api/v1/features/" + medium + "/propose", RunningDaemon.APPROVER, "{}");
    assertEquals("medium", proposed.json().get("tier").asText(), proposed.body());
    RunningDaemon.Response approved = daemon.post("/api/v1/approvals/" + medium + ".1/approve", RunningDaemon.APPROVER, "{}");
    assertEquals(200, approved.status(), approved.body());
  }

  @Test
  void theDataDirectoryIsOwnerOnlyAndTheDatabaseAndTokenFilesToo() throws Exception {
    Path data = daemon.daemon().dataDir();
    assertEquals("rwx------", mode(data));
    assertEquals("rw-------", mode(data.resolve("token.key")));
    assertEquals("rwx------", mode(data.resolve("db")));
    try (var files = Files.list(data.resolve("db"))) {
      List<Path> db = files.filter(Files::isRegularFile).toList();
      assertFalse(db.isEmpty(), "the H2 files are there");
      for (Path file : db) {
        assertEquals("rw-------", mode(file), file.toString());
      }
    }
  }

  @Test
  void aLooseDataDirectoryIsTightenedAtStartAndRunTokensAndTheirRevocationSurviveARestart() throws Exception {
    Path data = Files.createDirectories(tmp.resolve("loose"), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.writeString(data.resolve("admin.token"), "loose-admin-secret\n");
    Files.setPosixFilePermissions(data.resolve("admin.token"), PosixFilePermissions.fromString("rw-r--r--"));
    Config config = RunningDaemon.config(data, "", "", "", List.of(repos), false); // no tokens: the admin.token file
    String id = newId();
    String kept;
    String revoked;
    try (RunningDaemon first = RunningDaemon.start(config).awaitReady()) {
      assertEquals("rwx------", mode(data));
      assertEquals("rw-------", mode(data.resolve("admin.token")));
      assertEquals("rw-------", mode(data.resolve("token.key")));
      Path repo = GitRepos.create(repos.resolve(id));
      assertEquals(201, first.post("/api/v1/features", "loose-admin-secret",
          "{\"id\":\"" + id + "\",\"repo\":\"" + repo + "\",\"target\":\"main\"}").status());
      kept = first.post("/api/v1/features/" + id + "/agent-token", "loose-admin-secret", "{}").json().get("token").asText();
      revoked = first.post("/api/v1/features/" + id + "/agent-token", "loose-admin-secret", "{}").json().get("token").asText();
      assertEquals(204, first.delete("/api/v1/features/" + id + "/agent-token", revoked).status());
      assertEquals("rw-------", mode(data.resolve("revoked-run-tokens")));
    }
    try (RunningDaemon second = RunningDaemon.start(config).awaitReady()) {
      assertEquals(200, second.get("/api/v1/features/" + id, kept).status(), "signed with the kept key: still valid");
      second.get("/api/v1/features/" + id, revoked).assertProblem(401, null);
    }
  }

  private static String mode(Path path) throws Exception {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
  }
}
