package dev.warden.feature;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warden.Rejection;
import dev.warden.git.GitCli;
import dev.warden.git.RepositoryGuard;
import dev.warden.git.Worktrees;
import dev.warden.plan.Plan;
import dev.warden.testing.GitRepos;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Branch and worktree of a feature on real repositories, checked with the git CLI. */
class FeatureWorkspacesTest {

  @TempDir Path tmp;
  private Path repo;
  private Path worktrees;
  private FeatureWorkspaces workspaces;

  @BeforeEach
  void setUp() throws Exception {
    repo = GitRepos.create(tmp.resolve("repo")).toRealPath();
    worktrees = Files.createDirectories(tmp.resolve("data/worktrees")).toRealPath();
    workspaces = new FeatureWorkspaces(new RepositoryGuard(List.of()),
        new Worktrees(new GitCli("git", Duration.ofSeconds(30))), worktrees);
  }

  @Test
  void preparesABranchAtTheTargetAndALinkedWorktreeGitRecognises() throws Exception {
    String userStatusBefore = GitRepos.git(repo, "status", "--porcelain=v2", "--branch");
    String mainHead = GitRepos.git(repo, "rev-parse", "main");

    Feature.Registration registration = workspaces.prepare("login", repo.toString(), "main", Plan.defaults());

    Path worktree = Path.of(registration.worktree());
    assertEquals(worktrees.resolve("login"), worktree);
    assertEquals(mainHead, registration.baseCommit());
    assertEquals("warden/login", GitRepos.git(worktree, "rev-parse", "--abbrev-ref", "HEAD"));
    assertEquals(mainHead, GitRepos.git(worktree, "rev-parse", "HEAD"));
    assertEquals("", GitRepos.git(worktree, "status", "--porcelain"));
    assertEquals("hello", Files.readString(worktree.resolve("a.txt")).trim());
    // the agent can commit there
    Files.writeString(worktree.resolve("b.txt"), "agent work\n");
    GitRepos.git(worktree, "add", "b.txt");
    GitRepos.git(worktree, "-c", "user.email=a@example.com", "-c", "user.name=Agent", "commit", "-q", "-m", "work");
    // the user's own checkout and branch did not move
    assertEquals(userStatusBefore, GitRepos.git(repo, "status", "--porcelain=v2", "--branch"));
    assertEquals(mainHead, GitRepos.git(repo, "rev-parse", "main"));
  }

  @Test
  void removeTakesAwayWorktreeAndBranchAndCanBeRepeated() {
    Feature.Registration r = workspaces.prepare("gone", repo.toString(), "main", Plan.defaults());
    workspaces.remove("gone", r.repo(), r.branch(), r.worktree());

    assertFalse(Files.exists(Path.of(r.worktree())));
    assertEquals(List.of("main", "other"), GitRepos.branches(repo));
    assertFalse(GitRepos.git(repo, "worktree", "list").contains("gone"));
    workspaces.remove("gone", r.repo(), r.branch(), r.worktree());
  }

  @Test
  void anExistingBranchIsAConflictAndIsLeftAsItWas() {
    GitRepos.git(repo, "branch", "warden/taken", "other");
    String refsBefore = GitRepos.refs(repo);

    Rejection rejection = assertThrows(Rejection.class,
        () -> workspaces.prepare("taken", repo.toString(), "main", Plan.defaults()));

    assertEquals(Rejection.Kind.CONFLICT, rejection.kind());
    assertEquals(refsBefore, GitRepos.refs(repo));
    assertFalse(Files.exists(worktrees.resolve("taken")));
  }

  @Test
  void aWorktreeDirectoryInTheWayLeavesNoBranchBehind() throws Exception {
    Files.createDirectories(worktrees.resolve("blocked"));
    String refsBefore = GitRepos.refs(repo);

    Rejection rejection = assertThrows(Rejection.class,
        () -> workspaces.prepare("blocked", repo.toString(), "main", Plan.defaults()));

    assertEquals(Rejection.Kind.CONFLICT, rejection.kind());
    assertEquals(refsBefore, GitRepos.refs(repo));
  }

  @Test
  void aMissingTargetBranchIsRefusedNamingTarget() {
    Rejection rejection = assertThrows(Rejection.class,
        () -> workspaces.prepare("x", repo.toString(), "does-not-exist", Plan.defaults()));
    assertEquals("target", rejection.field().orElseThrow());
    Rejection badName = assertThrows(Rejection.class,
        () -> workspaces.prepare("x", repo.toString(), "bad..name", Plan.defaults()));
    assertEquals("target", badName.field().orElseThrow());
    assertEquals(List.of("main", "other"), GitRepos.branches(repo));
  }

  @Test
  void repositoryHooksDoNotRunWhenTheWorktreeIsCreated() throws Exception {
    Path marker = tmp.resolve("hook-ran");
    Path hook = repo.resolve(".git/hooks/post-checkout");
    Files.writeString(hook, "#!/bin/sh\ntouch " + marker + "\n");
    assertTrue(hook.toFile().setExecutable(true));

    workspaces.prepare("hooked", repo.toString(), "main", Plan.defaults());

    assertFalse(Files.exists(marker), "the repository's post-checkout hook ran inside the daemon");
  }
}
