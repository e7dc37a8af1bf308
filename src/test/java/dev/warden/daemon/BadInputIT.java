package dev.warden.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warden.testing.GitRepos;
import dev.warden.testing.RunningDaemon;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every kind of bad request against a real daemon: each is answered with the right status as
 * problem+json naming the field, never 500, and leaves no worktree, branch or event behind.
 */
class BadInputIT {

  @TempDir static Path tmp;
  private static RunningDaemon daemon;
  private static Path allowed;
  private static Path repo;
  private static Path outsideRepo;
  private static Path worktrees;

  private String id;
  private String refsBefore;
  private String worktreeListBefore;

  @BeforeAll
  static void start() throws Exception {
    allowed = Files.createDirectories(tmp.resolve("allowed"));
    repo = GitRepos.create(allowed.resolve("app")).toRealPath();
    outsideRepo = GitRepos.create(tmp.resolve("outside/secret")).toRealPath();
    daemon = RunningDaemon.start(RunningDaemon.config(tmp.resolve("data"), "", "", "", List.of(allowed), true)).awaitReady();
    worktrees = tmp.resolve("data/worktrees");
  }

  @AfterAll
  static void stop() {
    daemon.close();
  }

  @BeforeEach
  void snapshot() {
    id = "f-" + UUID.randomUUID().toString().substring(0, 8);
    refsBefore = GitRepos.refs(repo) + GitRepos.refs(outsideRepo);
    worktreeListBefore = GitRepos.git(repo, "worktree", "list") + GitRepos.git(outsideRepo, "worktree", "list");
  }

  private String body(String repoPath, String target) {
    return "{\"id\":\"" + id + "\",\"repo\":\"" + repoPath + "\",\"target\":\"" + target + "\"}";
  }

  private RunningDaemon.Response create(String json) {
    return daemon.post("/api/v1/features", RunningDaemon.ADMIN, json);
  }

  /** No event (the feature is unknown), no worktree directory, no new branch or worktree in git. */
  private void assertNothingLeftBehind() throws Exception {
    daemon.get("/api/v1/features/" + id, RunningDaemon.VIEWER).assertProblem(404, null);
    try (Stream<Path> entries = Files.list(worktrees)) {
      assertFalse(entries.anyMatch(p -> p.getFileName().toString().equals(id)), "worktree directory left behind");
    }
    assertEquals(refsBefore, GitRepos.refs(repo) + GitRepos.refs(outsideRepo), "refs changed");
    assertEquals(worktreeListBefore, GitRepos.git(repo, "worktree", "list") + GitRepos.git(outsideRepo, "worktree", "list"));
  }

  private String createFeature() {
    RunningDaemon.Response created = create(body(repo.toString(), "main"));
    assertEquals(201, created.status(), created.body());
    refsBefore = GitRepos.refs(repo) + GitRepos.refs(outsideRepo);
    worktreeListBefore = GitRepos.git(repo, "worktree", "list") + GitRepos.git(outsideRepo, "worktree", "list");
    return id;
  }

  @Test
  void anUnknownRepositoryPath() throws Exception {
    create(body(allowed.resolve("no-such-repo").toString(), "main")).assertProblem(400, "repo");
    assertNothingLeftBehind();
  }

  @Test
  void aRepositoryOutsideTheAllowedRoots() throws Exception {
    create(body(outsideRepo.toString(), "main")).assertProblem(400, "repo");
    assertNothingLeftBehind();
  }

  @Test
  void dotDotThatEscapesTheAllowedRoots() throws Exception {
    create(body(allowed + "/../outside/secret", "main")).assertProblem(400, "repo");
    assertNothingLeftBehind();
  }

  @Test
  void aSymlinkThatEscapesTheAllowedRoots() throws Exception {
    Path link = allowed.resolve("link-" + id);
    Files.createSymbolicLink(link, outsideRepo);
    create(body(link.toString(), "main")).assertProblem(400, "repo");
    assertNothingLeftBehind();
  }

  @Test
  void aDirectoryThatIsNotAGitRepository() throws Exception {
    Path plain = Files.createDirectories(allowed.resolve("plain-" + id));
    create(body(plain.toString(), "main")).assertProblem(400, "repo");
    assertNothingLeftBehind();
  }

  @Test
  void aMissingTargetBranch() throws Exception {
    create(body(repo.toString(), "no-such-branch")).assertProblem(400, "target");
    assertNothingLeftBehind();
  }

  @Test
  void anIdThatIsNotASlug() throws Exception {
    for (String bad : List.of("Upper", "has space", "../escape", "-dash", "a".repeat(64), "")) {
      daemon.post("/api/v1/features", RunningDaemon.ADMIN,
          "{\"id\":\"" + bad + "\",\"repo\":\"" + repo + "\",\"target\":\"main\"}").assertProblem(400, "id");
    }
    assertNothingLeftBehind();
  }

  @Test
  void anIdThatAlreadyExistsLeavesTheFirstFeatureAlone() {
    createFeature();
    create(body(repo.toString(), "other")).assertProblem(409, "id");
    var existing = daemon.get("/api/v1/features/" + id, RunningDaemon.VIEWER).json();
    assertEquals("main", existing.get("target").asText());
    assertTrue(Files.isDirectory(worktrees.resolve(id)));
    assertEquals(refsBefore, GitRepos.refs(repo) + GitRepos.refs(outsideRepo));
  }

  @Test
  void missingOrWronglyTypedFields() throws Exception {
    create("{\"repo\":\"" + repo + "\",\"target\":\"main\"}").assertProblem(400, "id");
    create("{\"id\":\"" + id + "\",\"target\":\"main\"}").assertProblem(400, "repo");
    create("{\"id\":\"" + id + "\",\"repo\":\"" + repo + "\"}").assertProblem(400, "target");
    create("{\"id\":\"" + id + "\",\"repo\":\"" + repo + "\",\"target\":7}").assertProblem(400, "target");
    create("{\"id\":\"" + id + "\",\"repo\":\"" + repo + "\",\"target\":\"main\",\"plan\":{\"limits\":{\"maxChangedLines\":\"lots\"}}}")
        .assertProblem(400, "plan.limits.maxChangedLines");
    create("{\"id\":\"" + id + "\",\"repo\":\"" + repo + "\",\"target\":\"main\",\"extra\":true}").assertProblem(400, "extra");
    create("{\"id\":\"" + id + "\",").assertProblem(400, "body");
    create("").assertProblem(400, "body");
    assertNothingLeftBehind();
  }

  @Test
  void aBodyOverTheSizeLimit() throws Exception {
    String huge = "{\"id\":\"" + id + "\",\"repo\":\"" + repo + "\",\"target\":\"main\",\"pad\":\"" + "x".repeat(2 * 1024 * 1024) + "\"}";
    create(huge).assertProblem(413, null);
    assertNothingLeftBehind();
  }

  @Test
  void noTokenOrAnUnknownToken() throws Exception {
    RunningDaemon.Response none = daemon.post("/api/v1/features", null, body(repo.toString(), "main")).assertProblem(401, null);
    assertTrue(none.raw().headers().firstValue("WWW-Authenticate").orElse("").startsWith("Bearer"));
    daemon.post("/api/v1/features", "guess", body(repo.toString(), "main")).assertProblem(401, null);
    daemon.get("/api/v1/features", "guess").assertProblem(401, null);
    assertNothingLeftBehind();
  }

  @Test
  void aViewerTokenCannotWriteAndAnAgentCannotAbandon() throws Exception {
    daemon.post("/api/v1/features", RunningDaemon.VIEWER, body(repo.toString(), "main")).assertProblem(403, null);
    assertNothingLeftBehind();

    createFeature();
    daemon.post("/api/v1/features/" + id + "/pause", RunningDaemon.VIEWER, "").assertProblem(403, null);
    daemon.delete("/api/v1/features/" + id, RunningDaemon.VIEWER).assertProblem(403, null);
    daemon.delete("/api/v1/features/" + id, RunningDaemon.AGENT).assertProblem(403, null);
    assertEquals("active", daemon.get("/api/v1/features/" + id, RunningDaemon.VIEWER).json().get("status").asText());
    assertTrue(Files.isDirectory(worktrees.resolve(id)));
  }

  @Test
  void anIllegalTransitionIsAConflict() {
    createFeature();
    assertEquals(200, daemon.delete("/api/v1/features/" + id, RunningDaemon.ADMIN).status());
    daemon.post("/api/v1/features/" + id + "/pause", RunningDaemon.ADMIN, "").assertProblem(409, null);
    daemon.post("/api/v1/features/" + id + "/resume", RunningDaemon.ADMIN, "").assertProblem(409, null);
    assertEquals("abandoned", daemon.get("/api/v1/features/" + id, RunningDaemon.VIEWER).json().get("status").asText());
  }

  @Test
  void anUnknownFeature() throws Exception {
    daemon.get("/api/v1/features/" + id, RunningDaemon.VIEWER).assertProblem(404, null);
    daemon.post("/api/v1/features/" + id + "/pause", RunningDaemon.ADMIN, "").assertProblem(404, null);
    daemon.post("/api/v1/features/" + id + "/resume", RunningDaemon.ADMIN, "").assertProblem(404, null);
    daemon.delete("/api/v1/features/" + id, RunningDaemon.ADMIN).assertProblem(404, null);
    assertNothingLeftBehind();
  }

  @Test
  void aPlanIsChangedOnlyByAnApproverAndOnlyWhenWellFormed() {
    createFeature();
    String path = "/api/v1/features/" + id + "/plan";
    daemon.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + daemon.daemon().httpAddress().getPort() + path))
            .header("Authorization", "Bearer " + RunningDaemon.AGENT).PUT(HttpRequest.BodyPublishers.ofString("{\"allowedPaths\":[\"**\"]}")))
        .assertProblem(403, null);
    daemon.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + daemon.daemon().httpAddress().getPort() + path))
            .header("Authorization", "Bearer " + RunningDaemon.APPROVER)
            .PUT(HttpRequest.BodyPublishers.ofString("{\"checks\":[{\"name\":\"lint\",\"argv\":[]}]}")))
        .assertProblem(400, "checks[0].argv");
    RunningDaemon.Response changed = daemon.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + daemon.daemon().httpAddress().getPort() + path))
        .header("Authorization", "Bearer " + RunningDaemon.APPROVER)
        .PUT(HttpRequest.BodyPublishers.ofString("{\"allowedPaths\":[\"src/**\"],\"limits\":{\"maxChangedLines\":50}}")));
    assertEquals(200, changed.status(), changed.body());
    assertEquals(2, changed.json().get("plan").get("version").asInt());
    assertEquals(50, daemon.get(path, RunningDaemon.VIEWER).json().get("limits").get("maxChangedLines").asInt());
  }

  @Test
  void unknownRoutesMethodsAndQueryValues() {
    daemon.get("/api/v1/nothing-here", RunningDaemon.VIEWER).assertProblem(404, null);
    daemon.get("/api/v1/features?status=sleeping", RunningDaemon.VIEWER).assertProblem(400, "status");
    daemon.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + daemon.daemon().httpAddress().getPort() + "/api/v1/features"))
            .header("Authorization", "Bearer " + RunningDaemon.ADMIN)
            .PUT(HttpRequest.BodyPublishers.ofString("{}")))
        .assertProblem(405, null);
    daemon.post("/api/v1/features/" + id + "/pause", RunningDaemon.ADMIN, "{\"reason\":5}").assertProblem(400, "reason");
  }
}
