package dev.warden.validate;

import static dev.warden.testing.GitRepos.git;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warden.git.GitCli;
import dev.warden.testing.GitRepos;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real repositories, real git: the throwaway worktree shows one commit and leaves everything else alone. */
class ThrowawayWorktreeTest {

  @TempDir Path tmp;

  private final GitCli gitCli = new GitCli("git", Duration.ofSeconds(30));
  private Path repo;
  private Path gitDir;
  private Path feature;
  private Path scratch;
  private String first;
  private String second;

  @BeforeEach
  void setUp() throws IOException {
    repo = GitRepos.create(tmp.resolve("repo"));
    gitDir = repo.resolve(".git");
    first = git(repo, "rev-parse", "HEAD");
    Files.writeString(repo.resolve("a.txt"), "changed\n");
    Files.createDirectories(repo.resolve("sub"));
    Files.writeString(repo.resolve("sub/b.txt"), "b\n");
    git(repo, "add", "-A");
    commit(repo, "second");
    second = git(repo, "rev-parse", "HEAD");
    // the feature's own worktree, mid-work: an unstaged edit, a staged file, an untracked one
    feature = tmp.resolve("feature");
    git(repo, "worktree", "add", "-q", "-b", "warden/f1", feature.toString(), "main");
    Files.writeString(feature.resolve("a.txt"), "agent edit\n");
    Files.writeString(feature.resolve("staged.txt"), "staged\n");
    git(feature, "add", "staged.txt");
    Files.writeString(feature.resolve("untracked.txt"), "untracked\n");
    scratch = tmp.resolve("data/scratch");
  }

  @Test
  void hasExactlyTheCommitsContentAndLeavesTheRestAlone() throws Exception {
    Map<String, String> before = everythingElse();

    Path path;
    try (ThrowawayWorktree worktree = ThrowawayWorktree.create(gitCli, gitDir, first.substring(0, 12), scratch)) {
      path = worktree.path();
      assertEquals(first, worktree.commit(), "the full id");
      assertTrue(path.startsWith(scratch.toRealPath()));
      assertEquals(Map.of("a.txt", "hello\n"), files(path), "the first commit, not the branch head or the feature's edits");
      assertEquals(first, git(path, "rev-parse", "HEAD"));
      assertEquals("", git(path, "status", "--porcelain"));
      assertTrue(GitRepos.tryGit(path, "symbolic-ref", "-q", "HEAD").exitCode() != 0, "detached");
      assertEquals(before, everythingElse(), "nothing else changed by adding it");
    }

    assertFalse(Files.exists(path));
    assertEquals(List.of(repo.toRealPath(), feature.toRealPath()), worktreeList());
    assertEquals(before, everythingElse(), "nothing else changed by removing it");
  }

  @Test
  void isRemovedAfterAFailedCheckThatLeftJunkAndReadOnlyDirectories() throws Exception {
    Map<String, String> before = everythingElse();
    CheckRunner runner = new CheckRunner(CheckRunner.Settings.defaults());
    Path path = null;
    CheckResult result = null;

    try (ThrowawayWorktree worktree = ThrowawayWorktree.create(gitCli, gitDir, second, scratch)) {
      path = worktree.path();
      assertEquals(Map.of("a.txt", "changed\n", "sub/b.txt", "b\n"), files(path));
      result = runner.run("dirty", List.of("sh", "-c",
          "echo junk > junk.txt; rm sub/b.txt; mkdir -p ro/deep && touch ro/deep/f && chmod 000 ro/deep && chmod 500 ro; exit 1"),
          path, Duration.ofSeconds(30));
      throw new IllegalStateException("the caller fails after the check");
    } catch (IllegalStateException expected) {
      // closed on the way out
    }

    assertEquals(1, result.exitCode());
    assertFalse(Files.exists(path));
    assertEquals(List.of(repo.toRealPath(), feature.toRealPath()), worktreeList());
    assertEquals(before, everythingElse());
  }

  @Test
  void aCheckRewritingTheGitFileCannotMakeCloseRemoveAnotherWorktreesRecord() throws Exception {
    Map<String, String> before = everythingElse();
    ThrowawayWorktree worktree = ThrowawayWorktree.create(gitCli, gitDir, second, scratch);
    Path featureRecord = gitDir.toRealPath().resolve("worktrees/feature");
    assertTrue(Files.isDirectory(featureRecord));
    Files.writeString(worktree.path().resolve(".git"), "gitdir: " + featureRecord + "\n");

    worktree.close();

    assertFalse(Files.exists(worktree.path()));
    assertTrue(Files.isDirectory(featureRecord));
    assertEquals(List.of(repo.toRealPath(), feature.toRealPath()), worktreeList());
    assertEquals(before, everythingElse());
    worktree.close(); // idempotent
  }

  @Test
  void refusesWhatIsNotACommitIdAndLeavesNothing() throws Exception {
    for (String bad : List.of("HEAD", "main", "--upload-pack=touch /tmp/x", "", "abc")) {
      assertThrows(IllegalArgumentException.class, () -> ThrowawayWorktree.create(gitCli, gitDir, bad, scratch), bad);
    }
    String tree = git(repo, "rev-parse", "HEAD^{tree}");
    assertThrows(IllegalArgumentException.class, () -> ThrowawayWorktree.create(gitCli, gitDir, tree, scratch), "a tree");
    assertThrows(IllegalArgumentException.class, () -> ThrowawayWorktree.create(gitCli, gitDir, "0123456789abcdef", scratch));
    assertTrue(!Files.exists(scratch) || isEmpty(scratch));
    assertEquals(List.of(repo.toRealPath(), feature.toRealPath()), worktreeList());
  }

  @Test
  void sweepRemovesWhatACrashLeftAndNothingElse() throws Exception {
    Map<String, String> before = everythingElse();
    ThrowawayWorktree left1 = ThrowawayWorktree.create(gitCli, gitDir, first, scratch);
    ThrowawayWorktree left2 = ThrowawayWorktree.create(gitCli, gitDir, second, scratch);
    Files.createDirectories(scratch.resolve("not-ours"));
    // a throwaway of another repository under the same parent is that repository's business
    Path otherRepo = GitRepos.create(tmp.resolve("other"));
    ThrowawayWorktree others = ThrowawayWorktree.create(gitCli, otherRepo.resolve(".git"), git(otherRepo, "rev-parse", "HEAD"), scratch);

    List<Path> swept = ThrowawayWorktree.sweep(gitCli, gitDir, scratch);

    assertEquals(List.of(left1.path(), left2.path()).stream().sorted().toList(), swept.stream().sorted().toList());
    assertFalse(Files.exists(left1.path()));
    assertFalse(Files.exists(left2.path()));
    assertTrue(Files.isDirectory(scratch.resolve("not-ours")));
    assertTrue(Files.isDirectory(others.path()));
    assertEquals(List.of(repo.toRealPath(), feature.toRealPath()), worktreeList());
    assertEquals(before, everythingElse());
    others.close();
  }

  @Test
  void closeOnAnInterruptedThreadStillRemovesItAndKeepsTheFlag() throws Exception {
    ThrowawayWorktree worktree = ThrowawayWorktree.create(gitCli, gitDir, second, scratch);

    Thread.currentThread().interrupt(); // as after a cancelled check
    try {
      worktree.close();
      assertTrue(Thread.currentThread().isInterrupted(), "the caller still sees the interrupt");
    } finally {
      Thread.interrupted();
    }

    assertFalse(Files.exists(worktree.path()));
    assertEquals(List.of(repo.toRealPath(), feature.toRealPath()), worktreeList());
  }

  @Test
  void createOnAnInterruptedThreadFailsAndLeavesNothing() throws Exception {
    Thread.currentThread().interrupt();
    try {
      assertThrows(dev.warden.git.GitFailure.class, () -> ThrowawayWorktree.create(gitCli, gitDir, second, scratch));
    } finally {
      Thread.interrupted();
    }
    assertTrue(!Files.exists(scratch) || isEmpty(scratch));
    assertEquals(List.of(repo.toRealPath(), feature.toRealPath()), worktreeList());
  }

  @Test
  void sweepAlsoDropsTheRecordOfAThrowawayWhoseDirectoryIsGone() throws Exception {
    Map<String, String> before = everythingElse();
    ThrowawayWorktree left = ThrowawayWorktree.create(gitCli, gitDir, second, scratch);
    deleteTree(left.path()); // as an operator cleaning the scratch directory by hand would
    assertEquals(3, worktreeList().size(), "git still has its record");

    assertEquals(List.of(left.path()), ThrowawayWorktree.sweep(gitCli, gitDir, scratch));

    assertEquals(List.of(repo.toRealPath(), feature.toRealPath()), worktreeList());
    assertEquals(before, everythingElse());
  }

  private static void deleteTree(Path root) throws IOException {
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  /** HEADs, refs, index files, statuses and file contents of the repository and the feature's worktree. */
  private Map<String, String> everythingElse() throws Exception {
    Map<String, String> state = new TreeMap<>();
    state.put("refs", GitRepos.refs(repo));
    state.put("repo HEAD", git(repo, "symbolic-ref", "HEAD") + " " + git(repo, "rev-parse", "HEAD"));
    state.put("feature HEAD", git(feature, "symbolic-ref", "HEAD") + " " + git(feature, "rev-parse", "HEAD"));
    state.put("repo index", sha256(gitDir.resolve("index")));
    state.put("feature index", sha256(gitDir.resolve("worktrees/feature/index")));
    state.put("repo status", git(repo, "status", "--porcelain"));
    state.put("feature status", git(feature, "status", "--porcelain"));
    files(repo).forEach((k, v) -> state.put("repo file " + k, v));
    files(feature).forEach((k, v) -> state.put("feature file " + k, v));
    return state;
  }

  private List<Path> worktreeList() {
    return git(repo, "worktree", "list", "--porcelain").lines()
        .filter(l -> l.startsWith("worktree "))
        .map(l -> Path.of(l.substring("worktree ".length())))
        .toList();
  }

  /** Every file under {@code root} but git's own, by relative path. */
  private static Map<String, String> files(Path root) throws IOException {
    Map<String, String> files = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : walk.filter(Files::isRegularFile).toList()) {
        String rel = root.relativize(p).toString();
        if (!rel.equals(".git") && !rel.startsWith(".git/")) {
          files.put(rel, Files.readString(p));
        }
      }
    }
    return files;
  }

  private static String sha256(Path file) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
  }

  private static boolean isEmpty(Path dir) throws IOException {
    try (Stream<Path> entries = Files.list(dir)) {
      return entries.findAny().isEmpty();
    }
  }

  static void commit(Path dir, String message) {
    git(dir, "-c", "user.email=t@example.com", "-c", "user.name=Test", "commit", "-q", "-m", message);
  }

  @Test
  void aRecordLeftHalfWrittenByAKilledGitDoesNotBlockTheNextCheck() throws Exception {
    // git worktree add killed after creating commondir but before writing it: git itself then
    // refuses every worktree add and list of the repository
    Path record = Files.createDirectories(gitDir.resolve("worktrees/check-4242"));
    Files.writeString(record.resolve("gitdir"), scratch.resolve("check-4242/.git") + "\n");
    Files.createFile(record.resolve("commondir"));
    try (ThrowawayWorktree worktree = ThrowawayWorktree.create(gitCli, gitDir, second, scratch)) {
      assertTrue(Files.isRegularFile(worktree.path().resolve("sub/b.txt")));
    }
    assertFalse(Files.exists(record), "the half-written record is still there");
    git(repo, "worktree", "list"); // works again for the user too
  }
}
