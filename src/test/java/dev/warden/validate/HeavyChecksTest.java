package dev.warden.validate;

import static dev.warden.testing.GitRepos.git;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warden.plan.Plan;
import dev.warden.git.GitCli;
import dev.warden.testing.GitRepos;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The glue, against a real repository: selection, one throwaway worktree, the cache. */
class HeavyChecksTest {

  @TempDir Path tmp;

  private final GitCli gitCli = new GitCli("git", Duration.ofSeconds(30));
  private final CheckRunner runner = new CheckRunner(CheckRunner.Settings.defaults());
  private Path repo;
  private Path gitDir;
  private Path scratch;
  private Path runs;
  private String commit;

  @BeforeEach
  void setUp() throws IOException {
    repo = GitRepos.create(tmp.resolve("repo"));
    gitDir = repo.resolve(".git");
    Files.createDirectories(repo.resolve("src"));
    Files.writeString(repo.resolve("src/Main.java"), "class Main {}\n");
    Files.writeString(repo.resolve("README.md"), "# readme\n");
    git(repo, "add", "-A");
    ThrowawayWorktreeTest.commit(repo, "code and docs");
    commit = git(repo, "rev-parse", "HEAD");
    scratch = tmp.resolve("data/scratch");
    runs = tmp.resolve("runs.log"); // every check that really runs appends its name here
  }

  @Test
  void runsTheConcernedChecksAndTheTestInOneThrowawayWorktreeAtTheCommit() throws Exception {
    Files.writeString(repo.resolve("README.md"), "uncommitted edit\n"); // not part of the commit
    String refsBefore = GitRepos.refs(repo);
    HeavyChecks heavy = new HeavyChecks(gitCli, runner, scratch, 100);
    Plan.Check java = check("java", "src/Main.java", "cat src/Main.java; pwd > " + tmp.resolve("java.pwd"));
    Plan.Check docs = check("docs", "README.md", "cat README.md");
    Plan.Check failing = check("failing", "fail", "echo nope; exit 2");
    Plan.Check unconcerned = check("unconcerned", "", "exit 0");
    Plan.TestCommand test = new Plan.TestCommand(List.of("sh", "-c", "echo test >> " + runs + "; ls src"), 30);

    List<CheckResult> results = heavy.run(new HeavyChecks.Request(gitDir, commit, 1,
        List.of(candidate(java, p -> p.startsWith("src/")), candidate(docs, p -> p.endsWith(".md")),
            candidate(failing, p -> true), candidate(unconcerned, p -> p.startsWith("deploy/"))),
        Set.of("src/Main.java", "README.md"), Optional.of(test)));

    assertEquals(List.of("java", "docs", "failing", HeavyChecks.TEST_NAME), results.stream().map(CheckResult::name).toList());
    assertEquals("class Main {}\n", results.get(0).outputHead());
    assertEquals("# readme\n", results.get(1).outputHead(), "the commit's content, not the working tree's");
    assertEquals(2, results.get(2).exitCode());
    assertTrue(results.get(3).passed(), "checks after a failing one still run");
    assertEquals("Main.java\n", results.get(3).outputHead());
    assertEquals(List.of("java", "docs", "failing", "test"), Files.readAllLines(runs), "one after another, in plan order");
    Path ranIn = Path.of(Files.readString(tmp.resolve("java.pwd")).strip());
    assertTrue(ranIn.startsWith(scratch.toRealPath()), ranIn.toString());
    assertFalse(Files.exists(ranIn), "the throwaway worktree is gone");
    assertNoThrowawayLeft();
    assertEquals(refsBefore, GitRepos.refs(repo));
    assertEquals("uncommitted edit\n", Files.readString(repo.resolve("README.md")));
  }

  @Test
  void theSameTreeIsNotCheckedTwiceButAnotherPlanVersionIs() throws Exception {
    HeavyChecks heavy = new HeavyChecks(gitCli, runner, scratch, 100);
    List<HeavyChecks.Candidate> checks = List.of(candidate(check("java", "java", "exit 0"), p -> true),
        candidate(check("lint", "lint", "exit 3"), p -> true));
    Optional<Plan.TestCommand> test = Optional.of(new Plan.TestCommand(List.of("sh", "-c", "echo test >> " + runs), 30));

    List<CheckResult> first = heavy.run(new HeavyChecks.Request(gitDir, commit, 1, checks, Set.of("a.txt"), test));
    // another commit with the same tree: a checkpoint after a change that was undone
    git(repo, "-c", "user.email=t@example.com", "-c", "user.name=Test", "commit", "-q", "--allow-empty", "-m", "same tree");
    String sameTree = git(repo, "rev-parse", "HEAD");
    List<CheckResult> second = heavy.run(new HeavyChecks.Request(gitDir, sameTree, 1, checks, Set.of("a.txt"), test));

    assertEquals(first, second, "failures are cached as well as passes");
    assertEquals(List.of("java", "lint", "test"), Files.readAllLines(runs), "nothing ran the second time");
    assertEquals(new HeavyChecks.CacheStats(3, 3, 3, 100), heavy.cacheStats());

    heavy.run(new HeavyChecks.Request(gitDir, sameTree, 2, checks, Set.of("a.txt"), test));
    assertEquals(6, Files.readAllLines(runs).size(), "a new plan version checks again");
    assertNoThrowawayLeft();
  }

  @Test
  void aCheckOfTheSameNameWithAnotherCommandIsNotAnsweredFromTheCache() throws Exception {
    HeavyChecks heavy = new HeavyChecks(gitCli, runner, scratch, 100);
    CheckResult passes = heavy.run(request(commit, check("lint", "lint", "exit 0"))).get(0);
    CheckResult fails = heavy.run(request(commit, check("lint", "lint", "exit 1"))).get(0);
    assertTrue(passes.passed());
    assertFalse(fails.passed(), "another feature's version 1 may call another command 'lint'");
  }

  @Test
  void timeoutsAreNotCachedAndTheWorktreeIsRemovedAfterOne() throws Exception {
    HeavyChecks heavy = new HeavyChecks(gitCli, runner, scratch, 100);
    Plan.Check hang = new Plan.Check("hang", List.of("sh", "-c", "echo hang >> " + runs + "; sleep 1000 & sleep 1000"), "**", 1);

    CheckResult result = heavy.run(request(commit, hang)).get(0);
    heavy.run(request(commit, hang));

    assertTrue(result.timedOut());
    assertNull(result.exitCode());
    assertEquals(List.of("hang", "hang"), Files.readAllLines(runs));
    assertNoThrowawayLeft();
  }

  @Test
  void theCacheIsBounded() throws Exception {
    HeavyChecks heavy = new HeavyChecks(gitCli, runner, scratch, 2);
    for (String name : List.of("a", "b", "c")) {
      heavy.run(request(commit, check(name, name, "exit 0")));
    }
    assertEquals(2, heavy.cacheStats().size());
    heavy.run(request(commit, check("a", "a", "exit 0")));
    assertEquals(List.of("a", "b", "c", "a"), Files.readAllLines(runs), "the oldest was evicted");
  }

  @Test
  void nothingConcernedMeansNoWorktreeAndNoResults() throws Exception {
    HeavyChecks heavy = new HeavyChecks(gitCli, runner, scratch, 100);
    List<CheckResult> results = heavy.run(new HeavyChecks.Request(gitDir, commit, 1,
        List.of(candidate(check("docs", "docs", "exit 0"), p -> p.endsWith(".md"))), Set.of("src/Main.java"), Optional.empty()));
    assertEquals(List.of(), results);
    assertFalse(Files.exists(scratch));
  }

  @Test
  void anUnknownCommitIsRefused() {
    HeavyChecks heavy = new HeavyChecks(gitCli, runner, scratch, 100);
    assertThrows(IllegalArgumentException.class, () -> heavy.run(request("0123456789abcdef", check("x", "x", "exit 0"))));
    assertThrows(IllegalArgumentException.class, () -> heavy.run(request("HEAD", check("x", "x", "exit 0"))));
  }

  @Test
  void runsOnThePool() throws Exception {
    HeavyChecks heavy = new HeavyChecks(gitCli, runner, scratch, 100);
    CheckPool pool = new CheckPool(1, 4);
    try {
      List<CheckResult> results = heavy.submit(pool, CheckPriority.FINAL, request(commit, check("ok", "ok", "exit 0")))
          .toCompletableFuture().get();
      assertTrue(results.get(0).passed());
    } finally {
      pool.shutdown(Duration.ofSeconds(10));
    }
  }

  @Test
  void cancellingOnThePoolKillsTheCheckAndRemovesTheWorktree() throws Exception {
    HeavyChecks heavy = new HeavyChecks(gitCli, runner, scratch, 100);
    CheckPool pool = new CheckPool(1, 4);
    try {
      String marker = "warden-heavy-cancel-" + System.nanoTime();
      Plan.Check hang = new Plan.Check("hang", List.of("sh", "-c", "sleep 1000 & sleep 1000", marker), "**", 600);
      CompletableFuture<List<CheckResult>> stage = heavy.submit(pool, CheckPriority.PERIODIC, request(commit, hang))
          .toCompletableFuture();
      long pgid = Procs.awaitGroup(marker, 2, Duration.ofSeconds(20));
      assertEquals(1, worktreeCount() - 1, "the check runs in a throwaway worktree");

      stage.cancel(true);

      Procs.await(() -> Procs.liveMembers(pgid).isEmpty(), Duration.ofSeconds(10), "group " + pgid + " killed");
      Procs.await(() -> pool.stats().running() == 0, Duration.ofSeconds(20), "the job has ended");
      assertNoThrowawayLeft();
    } finally {
      pool.shutdown(Duration.ofSeconds(10));
    }
  }

  @Test
  void sandboxedChecksReadTheRepositoryButCannotMoveItsRefsAndOtherSandboxRulesAreNotAnsweredFromTheCache() throws Exception {
    Path data = tmp.resolve("data");
    CheckRunner sandboxed = new CheckRunner(CheckRunner.Settings.defaults(), CheckSandbox.of(
        new dev.warden.process.SandboxPolicy(dev.warden.process.SandboxPolicy.Settings.defaults(), data, List.of())));
    HeavyChecks heavy = new HeavyChecks(gitCli, sandboxed, scratch, 100);
    String refsBefore = GitRepos.refs(repo);
    Plan.Check gitCheck = new Plan.Check("git", List.of("sh", "-c",
        "git log --oneline -1 && git update-ref refs/heads/main HEAD~1 && echo MOVED; exit 0"), "**", 30);
    List<HeavyChecks.Candidate> checks = List.of(candidate(gitCheck, p -> true));
    dev.warden.process.SandboxRules online = new dev.warden.process.SandboxRules(Optional.empty(), Optional.of(true), List.of(),
        List.of(), Optional.empty());

    CheckResult offline = heavy.run(new HeavyChecks.Request(gitDir, commit, 1, checks, Set.of("a.txt"), Optional.empty())).get(0);
    CheckResult withNetwork = heavy.run(new HeavyChecks.Request(gitDir, commit, 1, checks, Set.of("a.txt"), Optional.empty(),
        online)).get(0);

    assertTrue(offline.output().contains("code and docs"), "git reads the repository's objects: " + offline.output());
    assertFalse(offline.output().contains("MOVED"), offline.output());
    assertTrue(offline.output().contains("Read-only file system"), offline.output());
    assertEquals(refsBefore, GitRepos.refs(repo));
    assertTrue(offline.sandbox().endsWith("network off"), offline.sandbox());
    assertTrue(withNetwork.sandbox().endsWith("network on"), "the same command under other rules runs again: " + withNetwork.sandbox());
    assertEquals(new HeavyChecks.CacheStats(0, 2, 2, 100), heavy.cacheStats());
    assertNoThrowawayLeft();
  }

  private int worktreeCount() {
    return (int) git(repo, "worktree", "list", "--porcelain").lines().filter(l -> l.startsWith("worktree ")).count();
  }

  private HeavyChecks.Request request(String commit, Plan.Check check) {
    return new HeavyChecks.Request(gitDir, commit, 1, List.of(candidate(check, p -> true)), Set.of("a.txt"), Optional.empty());
  }

  /** A check that logs its name to {@link #runs}, then runs {@code script}. */
  private Plan.Check check(String name, String paths, String script) {
    return new Plan.Check(name, List.of("sh", "-c", "echo " + name + " >> " + runs + "; " + script), paths, 30);
  }

  private static HeavyChecks.Candidate candidate(Plan.Check check, java.util.function.Predicate<String> concerns) {
    return new HeavyChecks.Candidate(check, concerns);
  }

  private void assertNoThrowawayLeft() throws IOException {
    assertEquals(List.of("worktree " + repo.toRealPath()),
        git(repo, "worktree", "list", "--porcelain").lines().filter(l -> l.startsWith("worktree ")).toList());
    if (Files.exists(scratch)) {
      try (Stream<Path> left = Files.list(scratch)) {
        assertEquals(List.of(), left.toList());
      }
    }
  }
}
