package dev.warden.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.warden.testing.GitRepos;
import dev.warden.testing.RunningDaemon;
import dev.warden.testing.RunningDaemon.Response;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The feature lifecycle end to end against a real daemon, the same on every journal database:
 * create a feature on a real repository, find its worktree with the git CLI, restart the daemon on
 * the same database and find the feature as it was, then abandon it.
 */
abstract class FeatureLifecycleContract {

  @TempDir Path tmp;

  /** The JDBC URL, user and password of a fresh, empty database for this test; "" for embedded H2. */
  protected abstract String[] freshDatabase() throws Exception;

  private RunningDaemon start(Path dataDir, String[] db) {
    return RunningDaemon.start(RunningDaemon.config(dataDir, db[0], db[1], db[2], List.of(tmp.resolve("repos")), true)).awaitReady();
  }

  @Test
  void aFeatureSurvivesARestartAndAbandoningCleansUp() throws Exception {
    Path repo = GitRepos.create(tmp.resolve("repos/app")).toRealPath();
    String mainBefore = GitRepos.git(repo, "rev-parse", "main");
    Path dataDir = tmp.resolve("data");
    String[] db = freshDatabase();

    String worktree;
    try (RunningDaemon daemon = start(dataDir, db)) {
      Response created = daemon.post("/api/v1/features", RunningDaemon.AGENT,
          "{\"id\":\"login-form\",\"repo\":\"" + repo + "\",\"target\":\"main\",\"plan\":{\"allowedPaths\":[\"src/**\"]}}");
      assertEquals(201, created.status(), created.body());
      assertEquals("/api/v1/features/login-form", created.raw().headers().firstValue("Location").orElse(""));
      JsonNode feature = created.json();
      assertEquals("active", feature.get("status").asText());
      assertEquals(repo.toString(), feature.get("repo").asText());
      assertEquals("main", feature.get("target").asText());
      assertEquals("warden/login-form", feature.get("branch").asText());
      assertEquals("claude", feature.get("createdBy").asText());
      assertFalse(feature.get("createdAt").asText().isEmpty());
      worktree = feature.get("worktree").asText();
      assertEquals(dataDir.toRealPath().resolve("worktrees/login-form").toString(), worktree);

      // a real linked worktree: the git CLI sees the feature branch at the target's commit
      Path wt = Path.of(worktree);
      assertEquals("warden/login-form", GitRepos.git(wt, "rev-parse", "--abbrev-ref", "HEAD"));
      assertEquals(mainBefore, GitRepos.git(wt, "rev-parse", "HEAD"));
      assertEquals("", GitRepos.git(wt, "status", "--porcelain"));

      Response paused = daemon.post("/api/v1/features/login-form/pause", RunningDaemon.AGENT, "{\"reason\":\"lunch\"}");
      assertEquals(200, paused.status(), paused.body());
      assertEquals("paused", paused.json().get("status").asText());
    }

    try (RunningDaemon daemon = start(dataDir, db)) {
      JsonNode feature = daemon.get("/api/v1/features/login-form", RunningDaemon.VIEWER).json();
      assertEquals("paused", feature.get("status").asText());
      assertEquals("lunch", feature.get("statusReason").asText());
      assertEquals(worktree, feature.get("worktree").asText());

      JsonNode paused = daemon.get("/api/v1/features?status=paused", RunningDaemon.VIEWER).json();
      assertEquals(1, paused.get("count").asInt());
      assertEquals("login-form", paused.get("features").get(0).get("id").asText());
      assertEquals(0, daemon.get("/api/v1/features?status=active", RunningDaemon.VIEWER).json().get("count").asInt());

      assertEquals("active", daemon.post("/api/v1/features/login-form/resume", RunningDaemon.AGENT, "").json().get("status").asText());

      Response abandoned = daemon.delete("/api/v1/features/login-form", RunningDaemon.APPROVER);
      assertEquals(200, abandoned.status(), abandoned.body());
      assertEquals("abandoned", abandoned.json().get("status").asText());
      assertFalse(Files.exists(Path.of(worktree)), "worktree still there after abandon");
      assertEquals(List.of("main", "other"), GitRepos.branches(repo));
      assertFalse(GitRepos.git(repo, "worktree", "list").contains("login-form"));
    }

    try (RunningDaemon daemon = start(dataDir, db)) {
      assertEquals("abandoned", daemon.get("/api/v1/features/login-form", RunningDaemon.VIEWER).json().get("status").asText());
      // the user's own branch never moved
      assertEquals(mainBefore, GitRepos.git(repo, "rev-parse", "main"));
      assertTrue(GitRepos.git(repo, "status", "--porcelain").isEmpty());
    }
  }

  @Test
  void healthNeedsNoTokenAndReportsReady() throws Exception {
    try (RunningDaemon daemon = start(tmp.resolve("data"), freshDatabase())) {
      Response ready = daemon.get("/health/ready", null);
      assertEquals(200, ready.status(), ready.body());
      assertEquals("ok", ready.json().get("status").asText());
      assertEquals(200, daemon.get("/health/alive", null).status());
      assertTrue(ready.json().get("watch").has("degradedFeatures"), ready.body());
      Response metrics = daemon.get("/metrics", null);
      assertEquals(200, metrics.status());
      assertTrue(metrics.body().contains("warden_watch_overflows"), "metrics lack the watch counters");
      daemon.get("/api/v1/features", null).assertProblem(401, null);
    }
  }
}
