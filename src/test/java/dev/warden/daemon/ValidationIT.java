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
    RunningDaemon.Response created = daemon.post("/api/v1/features", RunningDaemon.AGENT,
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
    try (RunningDaemon daemon = RunningDaemon.start(config).awaitReady()) {
      Path worktree = Path.of(create(daemon, repo, id, PLAN));

      Files.writeString(worktree.resolve("ok.txt"), "fine\n");
      JsonNode valid = finalVerdict(daemon, id, checkpoint(daemon, id));
      assertEquals("valid", valid.get("status").asText(), valid.toString());
      assertEquals("no-bad-file", valid.get("checks").get(0).get("name").asText());
      assertTrue(valid.get("checks").get(0).get("passed").asBoolean());

      Files.writeString(worktree.resolve("bad.txt"), "the check fails on this\n");
      JsonNode failedCheck = finalVerdict(daemon, id, checkpoint(daemon, id));
      assertEquals("invalid", failedCheck.get("status").asText(), failedCheck.toString());
      assertTrue(!failedCheck.get("checks").get(0).get("passed").asBoolean());
      Files.delete(worktree.resolve("bad.txt"));

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
    }
    // verdicts survive a restart
    try (RunningDaemon daemon = RunningDaemon.start(config).awaitReady()) {
      assertEquals("valid", verdict(daemon, id, 1).get("status").asText());
      assertEquals("invalid", verdict(daemon, id, 2).get("status").asText());
      daemon.get("/api/v1/features/" + id + "/checkpoints/99/validation", RunningDaemon.VIEWER).assertProblem(404, null);
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
    try (RunningDaemon daemon = RunningDaemon.start(config).awaitReady()) {
      JsonNode verdict = finalVerdict(daemon, id, seq);
      assertEquals("valid", verdict.get("status").asText(), verdict.toString());
      assertEquals("slow", verdict.get("checks").get(0).get("name").asText());
    }
  }
}
