package dev.warden.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueFactory;
import dev.warden.testing.GitRepos;
import dev.warden.testing.RunningDaemon;
import dev.warden.testing.RunningDaemon.Response;
import dev.warden.testing.ScriptedAgent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Proposals from a real agent (or the API) to a commit on the target branch, per tier, on every
 * journal database: low lands by policy, medium when its review window ends, high after two
 * distinct approvers; every decision is on the record; the feature ends applied with its worktree
 * and branch gone. Rejection, staleness and the refusals a person would hit are here too.
 */
abstract class ApprovalFlowContract {

  @TempDir Path tmp;

  /** The JDBC URL, user and password of a fresh, empty database for this test; "" for embedded H2. */
  protected abstract String[] freshDatabase() throws Exception;

  static final String POLICY = """
      rules = [
        { paths = "docs/**", tier = low }
        { paths = "src/**", tier = medium }
        { paths = "secure/**", tier = high }
      ]
      tiers {
        medium { review-window = 2s }
        high { approvers = 2 }
        expiry = 7d
      }
      """;

  private RunningDaemon start(String[] db) throws Exception {
    Path policy = tmp.resolve("policy.conf");
    if (!Files.exists(policy)) {
      Files.writeString(policy, POLICY);
    }
    Config config = RunningDaemon.config(tmp.resolve("data"), db[0], db[1], db[2], List.of(tmp.resolve("repos")), true)
        .withValue("warden.policy.file", ConfigValueFactory.fromAnyRef(policy.toString()));
    return RunningDaemon.start(config).awaitReady();
  }

  /** A repository whose user has another branch checked out, so Warden may move main. */
  static Path repository(Path dir) throws Exception {
    Path repo = GitRepos.create(dir).toRealPath();
    GitRepos.git(repo, "checkout", "-q", "other");
    return repo;
  }

  static String create(RunningDaemon daemon, Path repo, String id, String plan) {
    // a plan with checks or a test runs code: only an approver may create it (docs/security.md, "Least privilege")
    boolean runsCode = plan != null && (plan.contains("\"checks\"") || plan.contains("\"test\""));
    Response created = daemon.post("/api/v1/features", runsCode ? RunningDaemon.APPROVER : RunningDaemon.AGENT,
        "{\"id\":\"" + id + "\",\"repo\":\"" + repo + "\",\"target\":\"main\"" + (plan == null ? "" : ",\"plan\":" + plan) + "}");
    assertEquals(201, created.status(), created.body());
    return created.json().get("worktree").asText();
  }

  static Response propose(RunningDaemon daemon, String feature, String description) {
    return daemon.post("/api/v1/features/" + feature + "/propose", RunningDaemon.AGENT, "{\"description\":\"" + description + "\"}");
  }

  /** The feature's agent connects over its WebSocket and proposes; what Warden answered it. */
  static String proposeAsAgent(int port, String feature, String description) throws Exception {
    try (ScriptedAgent agent = ScriptedAgent.connect(port, feature, RunningDaemon.AGENT).hello()) {
      agent.send("{\"type\":\"propose\",\"description\":\"" + description + "\"}");
      return agent.expect(m -> m.path("text").asText().startsWith("proposal " + feature + ".1"), 30, "the proposal's answer")
          .get("text").asText();
    }
  }

  static JsonNode proposal(RunningDaemon daemon, String id) {
    Response response = daemon.get("/api/v1/approvals/" + id, RunningDaemon.VIEWER);
    assertEquals(200, response.status(), response.body());
    return response.json();
  }

  static JsonNode awaitStatus(RunningDaemon daemon, String id, String status, int millis) throws InterruptedException {
    await("proposal " + id + " " + status, millis, () -> proposal(daemon, id).get("status").asText().equals(status));
    return proposal(daemon, id);
  }

  static void await(String what, int millis, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + millis * 1_000_000L;
    while (System.nanoTime() < deadline && !condition.getAsBoolean()) {
      Thread.sleep(50);
    }
    assertTrue(condition.getAsBoolean(), what + " within " + millis + " ms");
  }

  static List<String> decisions(JsonNode proposal) {
    List<String> trail = new ArrayList<>();
    proposal.get("decisions").forEach(d -> trail.add(d.get("decision").asText() + " by " + d.get("by").asText()));
    return trail;
  }

  /** The commit on main that landed {@code proposalId}, as {@code git log} shows it. */
  static String landed(Path repo, String proposalId) {
    return GitRepos.git(repo, "log", "--format=%H", "--grep=Warden-Proposal: " + proposalId + "$", "main");
  }

  @Test
  void eachTierGoesFromAnAgentToACommitOnTheTargetWithItsDecisionTrail() throws Exception {
    Path repo = repository(tmp.resolve("repos/app"));
    try (RunningDaemon daemon = start(freshDatabase())) {
      int port = daemon.daemon().httpAddress().getPort();

      // low: the agent proposes over its WebSocket; policy approves; it lands
      Path docs = Path.of(create(daemon, repo, "docs-fix", null));
      Files.createDirectories(docs.resolve("docs"));
      Files.writeString(docs.resolve("docs/guide.md"), "# Guide\n");
      assertTrue(proposeAsAgent(port, "docs-fix", "Write the guide").contains("tier low"));
      JsonNode low = awaitStatus(daemon, "docs-fix.1", "applied", 30_000);
      assertEquals("low", low.get("tier").asText());
      assertEquals(List.of("auto-approve by policy"), decisions(low));
      assertTrue(low.get("approved").asBoolean());
      String lowCommit = low.get("apply").get("commit").asText();
      assertEquals(lowCommit, landed(repo, "docs-fix.1"));
      assertEquals(low.get("apply").get("targetBefore").asText(), GitRepos.git(repo, "rev-parse", lowCommit + "^1"));
      // by default one commit per proposal, its title as subject; no checkpoint commit enters main's history
      assertEquals("Write the guide", GitRepos.git(repo, "log", "-1", "--format=%s", lowCommit));
      assertEquals(2, GitRepos.git(repo, "rev-list", "--parents", "-n", "1", lowCommit).split(" ").length, "one parent: squashed");
      assertEquals("# Guide", GitRepos.git(repo, "show", "main:docs/guide.md"));
      await("the feature applied", 10_000, () -> daemon.get("/api/v1/features/docs-fix", RunningDaemon.VIEWER).json()
          .get("status").asText().equals("applied"));
      await("the worktree removed", 10_000, () -> !Files.exists(docs));
      await("the branch removed", 10_000, () -> GitRepos.git(repo, "branch", "--list", "warden/docs-fix").isEmpty());
      assertFalse(GitRepos.git(repo, "for-each-ref", "refs/warden/docs-fix/").isEmpty(), "the checkpoint chain is kept for audit");

      // medium: proposed over HTTP (a person, or an agent without a connection); nobody objects within the 2 s window; it lands
      Path src = Path.of(create(daemon, repo, "api-change", null));
      Files.createDirectories(src.resolve("src"));
      Files.writeString(src.resolve("src/api.txt"), "v2\n");
      Response proposed = propose(daemon, "api-change", "New API");
      assertEquals(201, proposed.status(), proposed.body());
      assertEquals("/api/v1/approvals/api-change.1", proposed.raw().headers().firstValue("Location").orElse(""));
      JsonNode medium = proposed.json();
      assertEquals("New API", medium.get("description").asText());
      assertEquals("medium", medium.get("tier").asText());
      assertEquals("proposed", medium.get("status").asText());
      assertFalse(medium.get("approved").asBoolean());
      assertFalse(medium.get("reviewEndsAt").isNull());
      assertEquals("src/api.txt", medium.get("changes").get("paths").get(0).get("path").asText());
      medium = awaitStatus(daemon, "api-change.1", "applied", 30_000);
      assertEquals(List.of("auto-approve by policy"), decisions(medium));
      assertTrue(medium.get("decisions").get(0).get("reason").asText().contains("review window"), medium.toString());
      assertEquals(medium.get("apply").get("commit").asText(), landed(repo, "api-change.1"));

      // high: the agent proposes; two distinct approvers; one is not enough; viewers and agents may not approve
      Path secure = Path.of(create(daemon, repo, "auth-fix", null));
      Files.createDirectories(secure.resolve("secure"));
      Files.writeString(secure.resolve("secure/keys.txt"), "rotated\n");
      assertTrue(proposeAsAgent(port, "auth-fix", "Rotate").contains("is proposed (tier high)"));
      String approve = "/api/v1/approvals/auth-fix.1/approve";
      daemon.post(approve, RunningDaemon.VIEWER, "{}").assertProblem(403, null);
      daemon.post(approve, RunningDaemon.AGENT, "{}").assertProblem(403, null);
      Response first = daemon.post(approve, RunningDaemon.APPROVER, "{\"reason\":\"looks right\"}");
      assertEquals(200, first.status(), first.body());
      assertFalse(first.json().get("approved").asBoolean(), first.body());
      assertEquals("proposed", first.json().get("status").asText());
      assertEquals(2, first.json().get("approvals").get("required").asInt());
      assertEquals(1, first.json().get("approvals").get("received").asInt());
      daemon.post(approve, RunningDaemon.APPROVER, "{}").assertProblem(409, null);
      Response second = daemon.post(approve, RunningDaemon.ADMIN, "{\"reason\":\"second pair of eyes\"}");
      assertEquals(200, second.status(), second.body());
      assertTrue(second.json().get("approved").asBoolean(), second.body());
      JsonNode high = awaitStatus(daemon, "auth-fix.1", "applied", 30_000);
      assertEquals(List.of("approve by lead", "approve by ops"), decisions(high));
      assertEquals("looks right", high.get("decisions").get(0).get("reason").asText());
      assertEquals(high.get("apply").get("commit").asText(), landed(repo, "auth-fix.1"));
      daemon.post(approve, RunningDaemon.ADMIN, "{}").assertProblem(409, null);

      // the queue: three applied, newest first; a status filter; a bad one named
      // the queue is a view of the journal: it follows within the read journal's polling interval
      await("the queue showing three applied", 5_000, () -> daemon.get("/api/v1/approvals?status=applied", RunningDaemon.VIEWER)
          .json().get("count").asInt() == 3);
      JsonNode applied = daemon.get("/api/v1/approvals?status=applied", RunningDaemon.VIEWER).json();
      assertEquals(3, applied.get("count").asInt(), applied.toString());
      assertEquals("auth-fix.1", applied.get("approvals").get(0).get("id").asText());
      daemon.get("/api/v1/approvals?status=maybe", RunningDaemon.VIEWER).assertProblem(400, "status");
      // main's history: each proposal once, under its title, and nothing else of Warden's
      assertEquals(3, GitRepos.git(repo, "log", "--format=%H", "--grep=Warden-Proposal:", "main").lines().count());
      assertEquals("New API", GitRepos.git(repo, "log", "-1", "--format=%s", medium.get("apply").get("commit").asText()));
      assertEquals("", GitRepos.git(repo, "log", "--format=%s", "--grep=warden: checkpoint", "main"),
          "checkpoint commits stay off the target");
      assertEquals("", GitRepos.git(repo, "rev-list", "--merges", "main"));
    }
  }

  @Test
  void rejectionStalenessAndTheRefusalsAPersonWouldHit() throws Exception {
    Path repo = repository(tmp.resolve("repos/app"));
    String mainBefore = GitRepos.git(repo, "rev-parse", "main");
    try (RunningDaemon daemon = start(freshDatabase())) {
      // an unknown path is high; a rejection needs a reason, removes worktree and branch, keeps the chain
      Path worktree = Path.of(create(daemon, repo, "odd", null));
      Files.writeString(worktree.resolve("Makefile"), "all:\n");
      JsonNode odd = propose(daemon, "odd", "Add a Makefile").json();
      assertEquals("high", odd.get("tier").asText(), odd.toString());
      assertEquals("high", odd.get("changes").get("paths").get(0).get("tier").asText());
      daemon.post("/api/v1/approvals/odd.1/reject", RunningDaemon.APPROVER, "{}").assertProblem(400, "reason");
      daemon.post("/api/v1/approvals/odd.1/reject", RunningDaemon.VIEWER, "{\"reason\":\"no\"}").assertProblem(403, null);
      Response rejected = daemon.post("/api/v1/approvals/odd.1/reject", RunningDaemon.APPROVER, "{\"reason\":\"not in scope\"}");
      assertEquals(200, rejected.status(), rejected.body());
      assertEquals("rejected", rejected.json().get("status").asText());
      assertEquals(List.of("reject by lead"), decisions(rejected.json()));
      daemon.post("/api/v1/approvals/odd.1/approve", RunningDaemon.ADMIN, "{}").assertProblem(409, null);
      await("the feature rejected", 10_000, () -> daemon.get("/api/v1/features/odd", RunningDaemon.VIEWER).json()
          .get("status").asText().equals("rejected"));
      await("the worktree removed", 10_000, () -> !Files.exists(worktree));
      await("the branch removed", 10_000, () -> GitRepos.git(repo, "branch", "--list", "warden/odd").isEmpty());
      assertFalse(GitRepos.git(repo, "for-each-ref", "refs/warden/odd/").isEmpty());

      // a newer checkpoint makes a waiting proposal stale; approving it is a conflict
      Path later = Path.of(create(daemon, repo, "later", null));
      Files.createDirectories(later.resolve("secure"));
      Files.writeString(later.resolve("secure/a.txt"), "one\n");
      assertEquals("later.1", propose(daemon, "later", "first try").json().get("id").asText());
      Files.writeString(later.resolve("secure/a.txt"), "two\n");
      assertEquals(201, daemon.post("/api/v1/features/later/checkpoint", RunningDaemon.AGENT, "").status());
      awaitStatus(daemon, "later.1", "stale", 10_000);
      Response stale = daemon.post("/api/v1/approvals/later.1/approve", RunningDaemon.APPROVER, "{}").assertProblem(409, null);
      assertTrue(stale.json().get("detail").asText().contains("stale"), stale.body());
      await("the feature back at work", 10_000, () -> daemon.get("/api/v1/features/later", RunningDaemon.VIEWER).json()
          .get("status").asText().equals("active"));
      // proposing again makes a new proposal of the newer checkpoint
      JsonNode again = propose(daemon, "later", "second try").json();
      assertEquals("later.2", again.get("id").asText());
      // a bypass is for admins, with a reason
      daemon.post("/api/v1/approvals/later.2/approve", RunningDaemon.APPROVER, "{\"bypass\":true,\"reason\":\"hotfix\"}")
          .assertProblem(403, null);
      daemon.post("/api/v1/approvals/later.2/approve", RunningDaemon.ADMIN, "{\"bypass\":true}").assertProblem(400, "reason");
      Response bypass = daemon.post("/api/v1/approvals/later.2/approve", RunningDaemon.ADMIN, "{\"bypass\":true,\"reason\":\"hotfix\"}");
      assertEquals(200, bypass.status(), bypass.body());
      JsonNode landed = awaitStatus(daemon, "later.2", "applied", 30_000);
      assertEquals(List.of("bypass by ops"), decisions(landed));
      assertEquals("two", GitRepos.git(repo, "show", "main:secure/a.txt"));

      // abandoning a feature withdraws its open proposal: abandoned work never lands
      Path gone = Path.of(create(daemon, repo, "gone", null));
      Files.createDirectories(gone.resolve("secure"));
      Files.writeString(gone.resolve("secure/b.txt"), "b\n");
      assertEquals(201, propose(daemon, "gone", "never mind").status());
      assertEquals(200, daemon.delete("/api/v1/features/gone", RunningDaemon.APPROVER).status());
      JsonNode withdrawn = awaitStatus(daemon, "gone.1", "withdrawn", 10_000);
      assertEquals(List.of("withdraw by warden"), decisions(withdrawn));
      assertTrue(withdrawn.get("decisions").get(0).get("reason").asText().contains("abandoned"), withdrawn.toString());
      daemon.post("/api/v1/approvals/gone.1/approve", RunningDaemon.ADMIN, "{}").assertProblem(409, null);

      // unknown ids and bad bodies are named, never 500
      daemon.get("/api/v1/approvals/nope.1", RunningDaemon.VIEWER).assertProblem(404, null);
      daemon.get("/api/v1/approvals/NOT-AN-ID", RunningDaemon.VIEWER).assertProblem(404, null);
      daemon.post("/api/v1/approvals/later.2/approve", RunningDaemon.ADMIN, "{\"bypass\":\"yes\"}").assertProblem(400, "bypass");
      daemon.post("/api/v1/approvals/later.2/approve", RunningDaemon.ADMIN, "{\"why\":1}").assertProblem(400, "why");
      daemon.post("/api/v1/approvals/later.2/rollback", RunningDaemon.APPROVER, "{\"reason\":\"x\"}").assertProblem(403, null);
      // the rejected one never touched main; the bypassed one is the only new commit
      assertEquals(mainBefore, GitRepos.git(repo, "rev-parse", "main^1"));
    }
  }
}
