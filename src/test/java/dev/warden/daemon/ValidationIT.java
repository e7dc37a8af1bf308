package dev.warden.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import dev.warden.testing.GitRepos;
import dev.warden.testing.RunningDaemon;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every checkpoint gets a verdict from the real validator: fast rules on the real commit, the plan's
 * checks as real processes in a throwaway worktree, verdicts that survive a restart, and a check cut
 * short by a restart run again.
 */
class ValidationIT {

  @TempDir Path tmp;

  private static final String PLAN = "{\"forbiddenPaths\":[\"secrets/**\"],"
      + "\"checks\":[{\"name\":\"no-bad-file\",\"argv\":[\"sh\",\"-c\",\"test ! -f bad.txt\"],\"timeoutSeconds\":30}]}";

  private static void await(String what, int millis, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + millis * 1_000_000L;
    while (System.nanoTime() < deadline && !condition.getAsBoolean()) {
      Thread.sleep(50);
    }
    assertTrue(condition.getAsBoolean(), what + " within " + millis + " ms");
  }

  private static String create(RunningDaemon daemon, Path repo, String id, String plan) {
    RunningDaemon.Response created = daemon.post("/api/v1/features", RunningDaemon.APPROVER, // plans with checks need the approver role
        "{\"id\":\"" + id + "\",\"repo\":\"" + repo + "\",\"target\":\"main\",\"plan\":" + plan + "}");
    assertEquals(201, created.status(), created.body());
    return created.json().get("worktree").asText();
  }

  private static long checkpoint(RunningDaemon daemon, String id) {
    RunningDaemon.Response taken = daemon.post("/api/v1/features/" + id + "/checkpoint", RunningDaemon.AGENT, "");
    assertEquals(201, taken.status(), taken.body());
    return taken.json().get("seq").asLong();
  }

  private static JsonNode verdict(RunningDaemon daemon, String id, long seq) {
    RunningDaemon.Response response = daemon.get("/api/v1/features/" + id + "/checkpoints/" + seq + "/validation", RunningDaemon.VIEWER);
    return response.status() == 200 ? response.json() : null;
  }

  private static JsonNode finalVerdict(RunningDaemon daemon, String id, long seq) throws InterruptedException {
    await("a final verdict for checkpoint " + seq, 30_000, () -> {
      JsonNode v = verdict(daemon, id, seq);
      return v != null && List.of("valid", "invalid", "degraded").contains(v.get("status").asText());
    });
    return verdict(daemon, id, seq);
  }

  @Test
  void checkpointsGetVerdictsFromTheRulesAndThePlansChecks() throws Exception {
    Path repos = Files.createDirectories(tmp.resolve("repos"));
    Config config = RunningDaemon.config(tmp.resolve("data"), "", "", "", List.of(repos), true);
    String id = "v-" + UUID.randomUUID().toString().substring(0, 8);
    Path repo = GitRepos.create(repos.resolve(id));
    long validSeq;
    long failedSeq;
    JsonNode validAnswer;
    JsonNode failedAnswer;
    try (RunningDaemon daemon = RunningDaemon.start(config).awaitReady()) {
      Path worktree = Path.of(create(daemon, repo, id, PLAN));

      Files.writeString(worktree.resolve("ok.txt"), "fine\n");
      validSeq = checkpoint(daemon, id);
      JsonNode valid = finalVerdict(daemon, id, validSeq);
      assertEquals("valid", valid.get("status").asText(), valid.toString());
      assertEquals("no-bad-file", valid.get("checks").get(0).get("name").asText());
      assertTrue(valid.get("checks").get(0).get("passed").asBoolean());

      Files.writeString(worktree.resolve("bad.txt"), "the check fails on this\n");
      failedSeq = checkpoint(daemon, id);
      JsonNode failedCheck = finalVerdict(daemon, id, failedSeq);
      assertEquals("invalid", failedCheck.get("status").asText(), failedCheck.toString());
      assertTrue(!failedCheck.get("checks").get(0).get("passed").asBoolean());
      Files.delete(worktree.resolve("bad.txt"));
      validAnswer = valid;
      failedAnswer = failedCheck;

      Files.createDirectories(worktree.resolve("secrets"));
      Files.writeString(worktree.resolve("secrets/notes.txt"), "not allowed here\n");
      JsonNode forbidden = finalVerdict(daemon, id, checkpoint(daemon, id));
      assertEquals("invalid", forbidden.get("status").asText());
      assertTrue(forbidden.get("violations").toString().contains("forbidden-path"), forbidden.toString());
      Files.delete(worktree.resolve("secrets/notes.txt"));

      Files.writeString(worktree.resolve("deploy.pem"), "-----BEGIN RSA PRIVATE KEY-----\n"
          + "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n"
          + "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n"
          + "-----END RSA PRIVATE KEY-----\n");
      long secretSeq = checkpoint(daemon, id);
      JsonNode secret = finalVerdict(daemon, id, secretSeq);
      assertEquals("invalid", secret.get("status").asText());
      assertTrue(secret.get("violations").toString().contains("secret"), secret.toString());
      assertTrue(!secret.toString().contains("MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lg"), "a verdict must not repeat the secret");
      await("the feature escalated by the critical secret", 5000, () -> daemon.get("/api/v1/features/" + id, RunningDaemon.VIEWER)
          .json().get("status").asText().equals("needs_attention"));
      assertTrue(daemon.get("/metrics", null).body().contains("warden_validation_cache_total"), "cache hit rate not in /metrics");
    }
    // verdicts survive a restart
    try (RunningDaemon daemon = RunningDaemon.start(config).awaitReady()) {
      assertEquals("valid", verdict(daemon, id, validSeq).get("status").asText());
      assertEquals("invalid", verdict(daemon, id, failedSeq).get("status").asText());
      // no longer the validator's latest: read back from the journal, the very answer given before
      assertEquals(validAnswer, verdict(daemon, id, validSeq));
      assertEquals(failedAnswer, verdict(daemon, id, failedSeq));
      daemon.get("/api/v1/features/" + id + "/checkpoints/99/validation", RunningDaemon.VIEWER).assertProblem(404, null);
    }
  }

  private static final String KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\n"
      + "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
      + "QyNTUxOQAAACDx9f3qlDn5Vz0fakefakefakefakefakefakefakefakeAAAAJgAAAAAAA\n"
      + "-----END OPENSSH PRIVATE KEY-----\n";

  @Test
  void smartRollbackUndoesOnlyTheViolatingFiles() throws Exception {
    Path repos = Files.createDirectories(tmp.resolve("repos"));
    Config config = RunningDaemon.config(tmp.resolve("data"), "", "", "", List.of(repos), true);
    try (RunningDaemon daemon = RunningDaemon.start(config).awaitReady()) {
      // automatic: the plan says autoRollback smart
      String auto = "a-" + UUID.randomUUID().toString().substring(0, 8);
      Path autoTree = Path.of(create(daemon, GitRepos.create(repos.resolve(auto)), auto, "{\"autoRollback\":\"smart\"}"));
      Files.writeString(autoTree.resolve("ok.txt"), "fine\n");
      assertEquals("valid", finalVerdict(daemon, auto, checkpoint(daemon, auto)).get("status").asText());
      Files.writeString(autoTree.resolve("other.txt"), "new work\n");
      Files.writeString(autoTree.resolve("id_ed25519"), KEY);
      long bad = checkpoint(daemon, auto);
      assertEquals("invalid", finalVerdict(daemon, auto, bad).get("status").asText());
      await("the secret file undone", 15_000, () -> !Files.exists(autoTree.resolve("id_ed25519")));
      assertEquals("new work\n", Files.readString(autoTree.resolve("other.txt")), "smart rollback must leave other new work alone");
      assertEquals("fine\n", Files.readString(autoTree.resolve("ok.txt")));
      await("a rollback checkpoint", 10_000, () -> {
        JsonNode page = daemon.get("/api/v1/features/" + auto + "/checkpoints", RunningDaemon.VIEWER).json();
        JsonNode last = page.get("checkpoints").get(page.get("total").asInt() - 1);
        return last.get("trigger").asText().equals("rollback");
      });
      // undone instead of held: the feature is not stopped for the secret (without an agent connected it may still
      // be in needs_attention for unacknowledged checkpoints, which is another matter)
      JsonNode autoFeature = daemon.get("/api/v1/features/" + auto, RunningDaemon.VIEWER).json();
      assertTrue(!autoFeature.path("statusReason").asText().contains("critical"), autoFeature.toString());

      // on request: POST rollback {"strategy":"smart"}
      String manual = "m-" + UUID.randomUUID().toString().substring(0, 8);
      Path tree = Path.of(create(daemon, GitRepos.create(repos.resolve(manual)), manual, "{}"));
      Files.writeString(tree.resolve("config.txt"), "token = none\n");
      assertEquals("valid", finalVerdict(daemon, manual, checkpoint(daemon, manual)).get("status").asText());
      // nothing to undo while the latest judged checkpoint is valid: 409, and the worktree untouched
      RunningDaemon.Response nothing = daemon.post("/api/v1/features/" + manual + "/rollback", RunningDaemon.AGENT,
          "{\"strategy\":\"smart\"}").assertProblem(409, null);
      assertTrue(nothing.json().path("detail").asText().contains("no violation tied to a file"), nothing.body());
      assertEquals("token = none\n", Files.readString(tree.resolve("config.txt")));
      Files.writeString(tree.resolve("config.txt"), "token = none\n" + KEY);
      Files.writeString(tree.resolve("feature.txt"), "keep me\n");
      assertEquals("invalid", finalVerdict(daemon, manual, checkpoint(daemon, manual)).get("status").asText());
      daemon.post("/api/v1/features/" + manual + "/rollback", RunningDaemon.AGENT, "{\"strategy\":\"smart\",\"to\":1}")
          .assertProblem(400, "strategy");
      RunningDaemon.Response undone = daemon.post("/api/v1/features/" + manual + "/rollback", RunningDaemon.AGENT, "{\"strategy\":\"smart\"}");
      assertEquals(200, undone.status(), undone.body());
      assertEquals("token = none\n", Files.readString(tree.resolve("config.txt")));
      assertEquals("keep me\n", Files.readString(tree.resolve("feature.txt")));
    }
  }

  private static String json(String diff) {
    return "{\"diff\":" + com.fasterxml.jackson.databind.node.TextNode.valueOf(diff).toString() + "}";
  }

  @Test
  void patchesAreJudgedInAShadowBeforeTheyTouchTheWorktree() throws Exception {
    Path repos = Files.createDirectories(tmp.resolve("repos"));
    Config config = RunningDaemon.config(tmp.resolve("data"), "", "", "", List.of(repos), true);
    String id = "p-" + UUID.randomUUID().toString().substring(0, 8);
    try (RunningDaemon daemon = RunningDaemon.start(config).awaitReady()) {
      Path tree = Path.of(create(daemon, GitRepos.create(repos.resolve(id)), id, "{\"forbiddenPaths\":[\"secrets/**\"]}"));
      Files.writeString(tree.resolve("a.txt"), "one\n");
      checkpoint(daemon, id);
      String path = "/api/v1/features/" + id + "/patches";

      String forbidden = "diff --git a/secrets/x.txt b/secrets/x.txt\nnew file mode 100644\n--- /dev/null\n+++ b/secrets/x.txt\n@@ -0,0 +1 @@\n+nope\n";
      RunningDaemon.Response refused = daemon.post(path, RunningDaemon.AGENT, json(forbidden)).assertProblem(422, "diff");
      assertTrue(refused.body().contains("forbidden-path"), refused.body());
      assertTrue(!Files.exists(tree.resolve("secrets/x.txt")), "a refused patch touched the worktree");

      String stale = "diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-zzz\n+two\n";
      daemon.post(path, RunningDaemon.AGENT, json(stale)).assertProblem(409, "diff");
      assertEquals("one\n", Files.readString(tree.resolve("a.txt")));

      String good = "diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-one\n+two\n"
          + "diff --git a/b.txt b/b.txt\nnew file mode 100644\n--- /dev/null\n+++ b/b.txt\n@@ -0,0 +1 @@\n+bee\n";
      RunningDaemon.Response promoted = daemon.post(path, RunningDaemon.AGENT, json(good));
      assertEquals(201, promoted.status(), promoted.body());
      JsonNode checkpoint = promoted.json().get("checkpoint");
      assertEquals("patch", checkpoint.get("trigger").asText());
      assertEquals(promoted.json().get("shadowTree").asText(), checkpoint.get("tree").asText(), "the checkpoint must be the shadow's result");
      assertEquals("two\n", Files.readString(tree.resolve("a.txt")));
      assertEquals("bee\n", Files.readString(tree.resolve("b.txt")));
      daemon.post(path, RunningDaemon.VIEWER, json(good)).assertProblem(403, null);
      daemon.post(path, RunningDaemon.AGENT, "{\"diff\":\"\"}").assertProblem(400, "diff");
    }
  }

  @Test
  void aFullCheckPoolQueuesTheVerdictAndRetriesInsteadOfDroppingIt() throws Exception {
    Path repos = Files.createDirectories(tmp.resolve("repos"));
    Config config = RunningDaemon.config(tmp.resolve("data"), "", "", "", List.of(repos), true)
        .withValue("warden.validation.check-concurrency", com.typesafe.config.ConfigValueFactory.fromAnyRef(1))
        .withValue("warden.validation.check-queue", com.typesafe.config.ConfigValueFactory.fromAnyRef(0))
        .withValue("warden.validation.queue-retry", com.typesafe.config.ConfigValueFactory.fromAnyRef("500ms"));
    String plan = "{\"checks\":[{\"name\":\"slow\",\"argv\":[\"sh\",\"-c\",\"sleep 2\"],\"timeoutSeconds\":60}]}";
    try (RunningDaemon daemon = RunningDaemon.start(config).awaitReady()) {
      String first = "q-" + UUID.randomUUID().toString().substring(0, 8);
      String second = "q-" + UUID.randomUUID().toString().substring(0, 8);
      Path a = Path.of(create(daemon, GitRepos.create(repos.resolve(first)), first, plan));
      Path b = Path.of(create(daemon, GitRepos.create(repos.resolve(second)), second, plan));
      Files.writeString(a.resolve("x.txt"), "x\n");
      Files.writeString(b.resolve("y.txt"), "y\n");
      long seqA = checkpoint(daemon, first);
      long seqB = checkpoint(daemon, second);
      // one of them had to wait for the single slot: it says queued rather than losing its checks
      await("a queued verdict", 10_000, () -> {
        JsonNode va = verdict(daemon, first, seqA);
        JsonNode vb = verdict(daemon, second, seqB);
        return (va != null && va.get("status").asText().equals("queued")) || (vb != null && vb.get("status").asText().equals("queued"));
      });
      assertEquals("valid", finalVerdict(daemon, first, seqA).get("status").asText());
      assertEquals("valid", finalVerdict(daemon, second, seqB).get("status").asText());
    }
  }

  @Test
  void aCheckCutShortByARestartIsRunAgain() throws Exception {
    Path repos = Files.createDirectories(tmp.resolve("repos"));
    Config config = RunningDaemon.config(tmp.resolve("data"), "", "", "", List.of(repos), true);
    String id = "r-" + UUID.randomUUID().toString().substring(0, 8);
    Path repo = GitRepos.create(repos.resolve(id));
    long seq;
    try (RunningDaemon daemon = RunningDaemon.start(config).awaitReady()) {
      Path worktree = Path.of(create(daemon, repo, id,
          "{\"checks\":[{\"name\":\"slow\",\"argv\":[\"sh\",\"-c\",\"sleep 3\"],\"timeoutSeconds\":60}]}"));
      Files.writeString(worktree.resolve("work.txt"), "work\n");
      seq = checkpoint(daemon, id);
      await("the slow check running", 10_000, () -> {
        JsonNode v = verdict(daemon, id, seq);
        return v != null && v.get("status").asText().equals("running");
      });
    }
    // what a daemon killed mid-check leaves: a throwaway worktree in scratch, registered with git
    Path leftover = tmp.resolve("data/scratch/check-leftover");
    GitRepos.git(repo, "worktree", "add", "--detach", leftover.toString(), "main");
    try (RunningDaemon daemon = RunningDaemon.start(config).awaitReady()) {
      JsonNode verdict = finalVerdict(daemon, id, seq);
      assertEquals("valid", verdict.get("status").asText(), verdict.toString());
      assertEquals("slow", verdict.get("checks").get(0).get("name").asText());
      assertTrue(!Files.exists(leftover), "a leftover check worktree survived the restart");
      assertTrue(!GitRepos.git(repo, "worktree", "list").contains("check-"), GitRepos.git(repo, "worktree", "list"));
    }
  }
}
