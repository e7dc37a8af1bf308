package dev.warden.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warden.checkpoint.Snapshotter.Capture;
import dev.warden.checkpoint.Snapshotter.FileChange;
import dev.warden.checkpoint.Snapshotter.FileChange.Kind;
import dev.warden.git.GitCli;
import dev.warden.git.SupervisedRepository;
import dev.warden.git.Worktrees;
import dev.warden.testing.GitRepos;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.eclipse.jgit.lib.ObjectId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints of a real linked worktree (made with {@code git worktree add}, as the daemon does),
 * checked with the git CLI the way a user would look at them: tree ids against {@code git add -A &&
 * git write-tree} on a scratch copy of the index, parents with {@code git rev-list}, the agent's HEAD,
 * index and branch byte for byte.
 */
class SnapshotterTest {

  private static final String REF = "refs/warden/login/checkpoints";

  @TempDir Path tmp;
  private Path repo;
  private Path wt;
  private ObjectId base;
  private Snapshotter snap;
  /** What the daemon's blocking dispatcher is to a chain: line counts and pack merges run here. */
  private final java.util.concurrent.ExecutorService background = java.util.concurrent.Executors.newFixedThreadPool(2);
  private int scratch;

  @BeforeEach
  void setUp() throws Exception {
    repo = GitRepos.create(tmp.resolve("repo")).toRealPath();
    write(repo, "src/main.c", "int main() {\n  return 0;\n}\n");
    write(repo, "src/util/strings.c", "// strings\n");
    write(repo, "docs/readme.md", "# Readme\n\nline two\n");
    write(repo, "run.sh", "#!/bin/sh\necho hi\n");
    Files.setPosixFilePermissions(repo.resolve("run.sh"), PosixFilePermissions.fromString("rwxr-xr-x"));
    write(repo, "tracked.log", "committed before the ignore rule\n");
    Files.createSymbolicLink(repo.resolve("docs/link"), Path.of("readme.md"));
    GitRepos.git(repo, "add", "-A");
    write(repo, ".gitignore", "*.log\nbuild/\n");
    GitRepos.git(repo, "add", ".gitignore");
    GitRepos.git(repo, "-c", "user.email=t@example.com", "-c", "user.name=Test", "commit", "-q", "-m", "base");
    base = ObjectId.fromString(GitRepos.git(repo, "rev-parse", "main"));
    GitRepos.git(repo, "branch", "warden/login", "main");
    wt = tmp.resolve("data/worktrees/login");
    Files.createDirectories(wt.getParent());
    new Worktrees(new GitCli("git", Duration.ofSeconds(30))).add(new SupervisedRepository(repo, repo.resolve(".git")), wt,
        "warden/login");
    wt = wt.toRealPath();
    snap = open(Optional.empty());
  }

  @AfterEach
  void tearDown() {
    if (snap != null) {
      snap.close();
    }
    background.shutdownNow();
  }

  private Snapshotter open(Optional<ObjectId> expectedTip) {
    return Snapshotter.open(repo.resolve(".git"), wt, REF, base, expectedTip, background);
  }

  // ------------------------------------------------------------------ what is captured

  @Test
  void firstCaptureIsTheWholeWorktreeAsGitAddAllSeesItOnTopOfTheBase() throws Exception {
    write(wt, "src/main.c", "int main() {\n  return 1;\n}\n");           // modified
    Files.delete(wt.resolve("src/util/strings.c"));                        // deleted (its directory empties)
    write(wt, "notes/new file with spaces.txt", "untracked\n");            // untracked, new directory
    write(wt, "notes/ünïcødé ✓.txt", "unicode\n");
    write(wt, "deep/a/b/c/d.txt", "nested\n");
    write(wt, "debug.log", "ignored by *.log\n");                          // ignored
    write(wt, "build/out.o", "ignored directory\n");
    write(wt, "tracked.log", "tracked files stay even when a rule matches them\n");
    write(wt, "tool.sh", "#!/bin/sh\n");
    Files.setPosixFilePermissions(wt.resolve("tool.sh"), PosixFilePermissions.fromString("rwxr-x---"));
    Files.createSymbolicLink(wt.resolve("to-outside"), Path.of("/etc/passwd")); // stored, never followed
    Files.createDirectories(wt.resolve("empty/dir"));                       // git stores no empty trees

    Capture c = snap.capture(List.of(), true, false, "first");

    assertEquals(gitTree(), c.tree().name());
    assertEquals(base, c.parent());
    assertFalse(c.unchanged());
    assertTrue(c.fullScan());
    assertEquals(c.commit().name(), GitRepos.git(repo, "rev-parse", REF));
    assertEquals(base.name(), GitRepos.git(repo, "rev-parse", REF + "^"));
    String commit = GitRepos.git(repo, "cat-file", "-p", c.commit().name());
    assertTrue(commit.contains("author Warden <warden@localhost>"), commit);
    assertTrue(commit.contains("committer Warden <warden@localhost>"), commit);
    assertTrue(commit.endsWith("first"), commit);
    String tree = GitRepos.git(repo, "ls-tree", "-r", c.tree().name());
    assertTrue(tree.contains("120000 blob"), tree);
    assertTrue(entry(tree, "to-outside").startsWith("120000"), tree);
    assertEquals("/etc/passwd", GitRepos.git(repo, "cat-file", "-p", c.tree().name() + ":to-outside"));
    assertTrue(entry(tree, "tool.sh").startsWith("100755"), tree);
    assertTrue(entry(tree, "run.sh").startsWith("100755"), tree);
    assertTrue(tree.contains("tracked.log"), tree);
    assertFalse(tree.contains("debug.log"), tree);
    assertFalse(tree.contains("build/"), tree);
    assertFalse(tree.contains("empty"), tree);
    assertFalse(tree.contains("\t.git\n") || tree.contains("/.git/"), tree);
    assertEquals(Set.of("src/main.c", "src/util/strings.c", "notes/new file with spaces.txt", "notes/ünïcødé ✓.txt",
        "deep/a/b/c/d.txt", "tracked.log", "tool.sh", "to-outside"), paths(c.changes()));
    assertEquals(8, c.filesChangedSinceBase());
  }

  @Test
  void changesCarryKindsAndLineCountsFromARealDiff() throws Exception {
    snap.capture(List.of(), true, false, "start");
    write(wt, "docs/readme.md", "# Readme\n\nline two changed\nline three\n");
    write(wt, "added.txt", "a\nb\nc\n");
    Files.delete(wt.resolve("src/main.c"));
    Files.write(wt.resolve("blob.bin"), new byte[] {1, 0, 2, 0, 3});
    Files.delete(wt.resolve("docs/link"));
    write(wt, "docs/link", "now a regular file\n");

    Capture c = snap.capture(List.of("docs/readme.md", "added.txt", "src/main.c", "blob.bin", "docs/link"), false, false, "edit");

    assertEquals(List.of(
        new FileChange("added.txt", Kind.ADDED, 3, 0, false),
        new FileChange("blob.bin", Kind.ADDED, 0, 0, true),
        new FileChange("docs/link", Kind.TYPE_CHANGED, 1, 1, false),
        new FileChange("docs/readme.md", Kind.MODIFIED, 2, 1, false),
        new FileChange("src/main.c", Kind.DELETED, 0, 3, false)), c.changes());
    assertEquals(5, c.filesChangedSinceBase());
    assertFalse(c.fullScan());
    assertEquals(gitTree(), c.tree().name());
  }

  @Test
  void incrementalCaptureOfReportedPathsEqualsAFullScan() throws Exception {
    snap.capture(List.of(), true, false, "start");
    write(wt, "src/main.c", "changed\n");
    write(wt, "src/new/deeper/x.txt", "x\n");
    write(wt, "lib/a.txt", "a\n");
    write(wt, "lib/b.txt", "b\n");
    Files.delete(wt.resolve("docs/readme.md"));
    Files.setPosixFilePermissions(wt.resolve("run.sh"), PosixFilePermissions.fromString("rw-r--r--"));
    // the watcher reports a file, a new file in a new directory, a whole new directory, a deletion, a chmod
    Capture incremental = snap.capture(List.of("src/main.c", "src/new/deeper/x.txt", "lib", "docs/readme.md", "run.sh"),
        false, false, "incremental");

    assertEquals(gitTree(), incremental.tree().name());
    Capture full = snap.capture(List.of(), true, false, "full");
    assertTrue(full.unchanged());
    assertEquals(incremental.tree(), full.tree());
    assertEquals(incremental.commit(), full.commit());
    try (Snapshotter fresh = open(Optional.of(incremental.commit()))) {
      Capture again = fresh.capture(List.of(), true, false, "fresh");
      assertTrue(again.unchanged());
      assertEquals(incremental.tree(), again.tree());
    }
  }

  @Test
  void aChangeTheWatcherMissedIsPickedUpByTheNextFullScan() throws Exception {
    Capture first = snap.capture(List.of(), true, false, "start");
    write(wt, "src/main.c", "edited but never reported\n");
    write(wt, "docs/readme.md", "reported\n");

    Capture incremental = snap.capture(List.of("docs/readme.md"), false, false, "incremental");
    assertEquals(Set.of("docs/readme.md"), paths(incremental.changes()));
    assertEquals("int main() {\n  return 0;\n}", GitRepos.git(repo, "cat-file", "-p", incremental.tree().name() + ":src/main.c"));

    Capture healed = snap.capture(List.of(), true, false, "periodic full scan");
    assertEquals(Set.of("src/main.c"), paths(healed.changes()));
    assertEquals(gitTree(), healed.tree().name());
  }

  @Test
  void anUnchangedWorktreeWritesNothingUnlessAskedTo() throws Exception {
    Capture untouched = snap.capture(List.of(), true, false, "the worktree is still the base");
    assertTrue(untouched.unchanged());
    assertEquals(base, untouched.commit());
    assertEquals(Optional.empty(), snap.tip());
    assertFalse(GitRepos.refs(repo).contains(REF));
    Capture first = snap.capture(List.of(), true, true, "start");
    snap.awaitPackMerges();
    String refsBefore = GitRepos.refs(repo);
    Set<String> objectsBefore = objectFiles();

    Capture same = snap.capture(List.of("src/main.c", "docs"), false, false, "nothing to see");
    Capture sameFull = snap.capture(List.of(), true, false, "nothing to see");

    assertTrue(same.unchanged());
    assertTrue(sameFull.unchanged());
    assertEquals(first.commit(), same.commit());
    assertEquals(first.tree(), same.tree());
    assertEquals(List.of(), same.changes());
    assertEquals(refsBefore, GitRepos.refs(repo));
    assertEquals(objectsBefore, objectFiles());
    assertEquals(Optional.of(first.commit()), snap.tip());

    Capture forced = snap.capture(List.of(), false, true, "final");
    assertTrue(forced.unchanged());
    assertNotEquals(first.commit(), forced.commit());
    assertEquals(first.tree(), forced.tree());
    assertEquals(first.commit(), forced.parent());
    assertEquals(forced.commit().name(), GitRepos.git(repo, "rev-parse", REF));
  }

  @Test
  void checkpointsChainFromTheBaseAndTheAgentsHeadIndexAndBranchNeverMove() throws Exception {
    String head = GitRepos.git(wt, "rev-parse", "HEAD");
    String branch = GitRepos.git(wt, "symbolic-ref", "HEAD");
    Path index = Path.of(GitRepos.git(wt, "rev-parse", "--path-format=absolute", "--git-path", "index"));
    byte[] indexBytes = Files.readAllBytes(index);
    FileTime indexTime = Files.getLastModifiedTime(index);
    String userStatus = GitRepos.git(repo, "status", "--porcelain=v2", "--branch");
    String dotGitFile = Files.readString(wt.resolve(".git"));

    List<ObjectId> commits = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      write(wt, "work/step" + i + ".txt", "step " + i + "\n");
      commits.add(snap.capture(List.of("work/step" + i + ".txt"), i == 0, false, "step " + i).commit());
    }
    snap.restore(commits.get(0), Optional.empty());
    snap.diff(base, commits.get(2), 10_000);
    snap.compare(base, commits.get(2));

    assertEquals(String.join("\n", commits.get(2).name() + " " + commits.get(1).name(),
        commits.get(1).name() + " " + commits.get(0).name(), commits.get(0).name() + " " + base.name()),
        GitRepos.git(repo, "rev-list", "--parents", base.name() + ".." + REF));
    assertEquals(head, GitRepos.git(wt, "rev-parse", "HEAD"));
    assertEquals(branch, GitRepos.git(wt, "symbolic-ref", "HEAD"));
    assertEquals(base.name(), GitRepos.git(repo, "rev-parse", "warden/login"));
    assertArrayEquals(indexBytes, Files.readAllBytes(index));
    assertEquals(indexTime, Files.getLastModifiedTime(index));
    assertEquals(userStatus, GitRepos.git(repo, "status", "--porcelain=v2", "--branch"));
    assertEquals(dotGitFile, Files.readString(wt.resolve(".git")));
    assertEquals("", GitRepos.git(repo, "fsck", "--no-progress", "--no-dangling", "--connectivity-only"));
  }

  @Test
  void symlinksAreStoredNotFollowedAndPathsOutsideTheWorktreeAreSkipped() throws Exception {
    Path outside = Files.createDirectories(tmp.resolve("outside"));
    write(outside, "secret.txt", "do not capture\n");
    snap.capture(List.of(), true, false, "start");
    Files.createSymbolicLink(wt.resolve("escape"), outside);

    Capture c = snap.capture(List.of("escape/secret.txt", "../outside/secret.txt", "/etc/passwd", "src/../../x", "escape"),
        false, false, "hostile");

    assertEquals(List.of("../outside/secret.txt", "/etc/passwd", "src/../../x"), c.skippedPaths());
    String tree = GitRepos.git(repo, "ls-tree", "-r", c.tree().name());
    assertTrue(entry(tree, "escape").startsWith("120000"), tree);
    assertFalse(tree.contains("secret"), tree);
    assertEquals(gitTree(), c.tree().name());

    // a directory the image knows, swapped for a symlink and only its child reported
    Files.delete(wt.resolve("escape"));
    Path docs = wt.resolve("docs");
    Files.move(docs, wt.resolve("docs-moved"));
    Files.createSymbolicLink(docs, outside);
    Capture swapped = snap.capture(List.of("docs/secret.txt", "docs-moved/readme.md", "escape"), false, false, "swap");
    String after = GitRepos.git(repo, "ls-tree", "-r", swapped.tree().name());
    assertFalse(after.contains("secret"), after);
    assertTrue(entry(after, "docs").startsWith("120000"), after);
    assertEquals(gitTree(), swapped.tree().name());
  }

  @Test
  void nestedGitDirectoriesAndTheWorktreesGitFileAreNeverCaptured() throws Exception {
    write(wt, "vendor/lib/code.c", "vendored\n");
    GitRepos.git(wt.resolve("vendor/lib"), "init", "-q");
    write(wt, "vendor/lib/.git/hooks/evil", "not content\n");

    Capture c = snap.capture(List.of(), true, false, "nested");
    Capture again = snap.capture(List.of("vendor/lib/.git/config", ".git", "vendor/lib/.git"), false, false, "reported");

    String tree = GitRepos.git(repo, "ls-tree", "-r", "--name-only", c.tree().name());
    assertTrue(tree.contains("vendor/lib/code.c"), tree);
    assertFalse(tree.contains(".git/"), tree);
    assertFalse(List.of(tree.split("\n")).contains(".git"), tree);
    assertTrue(again.unchanged());
  }

  @Test
  void aChangedGitignoreIsAppliedToWhatIsAlreadyThere() throws Exception {
    write(wt, "gen/a.txt", "generated\n");
    write(wt, "gen/keep.txt", "keep\n");
    snap.capture(List.of(), true, false, "start");

    write(wt, "gen/.gitignore", "*.txt\n!keep.txt\n");
    Capture ignored = snap.capture(List.of("gen/.gitignore"), false, false, "ignore rule added");
    String tree = GitRepos.git(repo, "ls-tree", "-r", "--name-only", ignored.tree().name());
    assertFalse(tree.contains("gen/a.txt"), tree);
    assertTrue(tree.contains("gen/keep.txt"), tree);
    assertEquals(gitTree(), ignored.tree().name());

    Files.delete(wt.resolve("gen/.gitignore"));
    Capture back = snap.capture(List.of("gen/.gitignore"), false, false, "rule removed");
    assertTrue(GitRepos.git(repo, "ls-tree", "-r", "--name-only", back.tree().name()).contains("gen/a.txt"));
    assertEquals(gitTree(), back.tree().name());

    write(repo, ".git/info/exclude", "gen/\n");
    Capture excluded = snap.capture(List.of(), false, false, "info/exclude");
    assertFalse(GitRepos.git(repo, "ls-tree", "-r", "--name-only", excluded.tree().name()).contains("gen/"));
    assertEquals(gitTree(), excluded.tree().name());
  }

  @Test
  void theAgentsOwnCommitsAndStagingChangeNothingAboutWhatIsCaptured() throws Exception {
    write(wt, "feature.txt", "v1\n");
    GitRepos.git(wt, "add", "feature.txt");
    GitRepos.git(wt, "-c", "user.email=a@example.com", "-c", "user.name=Agent", "commit", "-q", "-m", "agent commit");
    write(wt, "feature.txt", "v2, not staged\n");
    write(wt, "staged.txt", "staged only\n");
    GitRepos.git(wt, "add", "staged.txt");
    write(wt, "staged.txt", "staged, then edited\n");
    Files.delete(wt.resolve("docs/readme.md"));
    GitRepos.git(wt, "rm", "-q", "--cached", "tracked.log"); // now untracked and ignored

    Capture c = snap.capture(List.of(), true, false, "after the agent's git work");

    assertEquals(gitTree(), c.tree().name());
    assertEquals(base, c.parent());
    assertEquals("v2, not staged", GitRepos.git(repo, "cat-file", "-p", c.tree().name() + ":feature.txt"));
    assertFalse(GitRepos.git(repo, "ls-tree", "-r", "--name-only", c.tree().name()).contains("tracked.log"));
    // a restarted snapshotter trusts the index only where it matches the disk
    snap.close();
    snap = open(Optional.of(c.commit()));
    Capture again = snap.capture(List.of(), false, false, "after restart");
    assertTrue(again.unchanged());
    assertEquals(c.tree(), again.tree());
  }

  @Test
  void aLargeFileIsStreamedIntoThePackIntact() throws Exception {
    Path big = wt.resolve("assets/big.bin");
    Files.createDirectories(big.getParent());
    byte[] chunk = new byte[1 << 20];
    new java.util.Random(7).nextBytes(chunk);
    try (var out = Files.newOutputStream(big)) {
      for (int i = 0; i < 40; i++) {
        chunk[0] = (byte) i;
        out.write(chunk);
      }
    }

    Capture c = snap.capture(List.of("assets/big.bin"), true, false, "big");

    assertEquals(GitRepos.git(wt, "hash-object", "assets/big.bin"), GitRepos.git(repo, "rev-parse", c.tree().name() + ":assets/big.bin"));
    assertEquals(String.valueOf(40 << 20), GitRepos.git(repo, "cat-file", "-s", c.tree().name() + ":assets/big.bin"));
    assertEquals(List.of(new FileChange("assets/big.bin", Kind.ADDED, 0, 0, true)), c.changes());
    assertEquals(gitTree(), c.tree().name());
    for (int i = 0; i < PackStore.FAN_IN; i++) {
      write(wt, "small" + i + ".txt", i + "\n");
      snap.capture(List.of("small" + i + ".txt"), false, false, "small " + i);
    }
    snap.awaitPackMerges();
    assertEquals("", GitRepos.git(repo, "fsck", "--no-progress", "--no-dangling", "--full"));
  }

  // ------------------------------------------------------------------ files over the cap

  @Test
  void aSparseTwoGigabyteFileIsLeftOutUnreadAndNamedWithoutWritingItsContent() throws Exception {
    long cap = 100L << 20;
    snap.capture(List.of(), true, false, "start", cap);
    long objectBytesBefore = objectBytes();
    Path huge = wt.resolve("assets/huge.img");
    Files.createDirectories(huge.getParent());
    try (java.io.RandomAccessFile file = new java.io.RandomAccessFile(huge.toFile(), "rw")) {
      file.setLength(2L << 30); // 2 GiB of holes: by size it is 2 GiB, by blocks nearly nothing
    }
    write(wt, "notes.txt", "written beside it\n");

    long started = System.nanoTime();
    Capture c = snap.capture(List.of("assets/huge.img", "notes.txt"), false, false, "huge", cap);
    long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
    System.out.println("capture with a sparse 2 GiB file left out: " + tookMs + " ms, object database grew "
        + (objectBytes() - objectBytesBefore) + " bytes");

    assertEquals(List.of(new Snapshotter.Oversized("assets/huge.img", 2L << 30, cap)), c.oversized());
    String tree = GitRepos.git(repo, "ls-tree", "-r", "--name-only", c.tree().name());
    assertTrue(tree.contains("notes.txt"), tree);
    assertFalse(tree.contains("huge.img"), "a file never read cannot be in the tree: " + tree);
    assertEquals(Set.of("notes.txt"), paths(c.changes()));
    assertTrue(objectBytes() - objectBytesBefore < 16 * 1024, "the pack holds the new note, the tree and the commit only: "
        + (objectBytes() - objectBytesBefore) + " bytes");
    String message = GitRepos.git(repo, "log", "-1", "--format=%B", c.commit().name());
    assertTrue(message.contains("Warden-Oversized: 2147483648 104857600 assets%2Fhuge.img"), message);
    assertTrue(tookMs < 1000, "never hashed, so well under a second: " + tookMs + " ms");

    // it stays reported, with no event about it, on incremental captures and on full scans alike
    write(wt, "notes.txt", "more\n");
    Capture next = snap.capture(List.of("notes.txt"), false, false, "next", cap);
    assertEquals(List.of("assets/huge.img"), next.oversized().stream().map(Snapshotter.Oversized::path).toList());
    Capture full = snap.capture(List.of(), true, true, "full", cap);
    assertEquals(List.of("assets/huge.img"), full.oversized().stream().map(Snapshotter.Oversized::path).toList());

    // brought under the cap, it is read like any file and nothing is left out any more
    try (java.io.RandomAccessFile file = new java.io.RandomAccessFile(huge.toFile(), "rw")) {
      file.setLength(4096);
    }
    Capture small = snap.capture(List.of(), false, false, "small again", cap);
    assertEquals(List.of(), small.oversized());
    assertEquals("4096", GitRepos.git(repo, "cat-file", "-s", small.tree().name() + ":assets/huge.img"));
    assertEquals(gitTree(), small.tree().name());
  }

  @Test
  void aFileThatGrowsPastTheCapKeepsItsLastVersionInTheTreeAndStillMakesANewCheckpoint() throws Exception {
    write(wt, "data.csv", "a,b\n1,2\n");
    Capture before = snap.capture(List.of(), true, false, "small", 1000);
    assertEquals(List.of(), before.oversized());

    write(wt, "data.csv", "x".repeat(5000));
    Capture grown = snap.capture(List.of("data.csv"), false, false, "grown", 1000);

    // the tree did not change, yet the chain moved: the last checkpoint must not stand for this worktree
    assertEquals(before.tree(), grown.tree());
    assertNotEquals(before.commit(), grown.commit());
    assertEquals(before.commit(), grown.parent());
    assertEquals(List.of(new Snapshotter.Oversized("data.csv", 5000, 1000)), grown.oversized());
    assertEquals("a,b\n1,2", GitRepos.git(repo, "show", grown.commit().name() + ":data.csv"));
    // asked again with nothing new, it is the same checkpoint (already naming the file)
    Capture same = snap.capture(List.of(), false, false, "same", 1000);
    assertTrue(same.unchanged());
    assertEquals(grown.commit(), same.commit());
    assertEquals(grown.oversized(), same.oversized());

    // a rollback puts the old version back over the large one, and deletes a large file the target lacks
    try (java.io.RandomAccessFile file = new java.io.RandomAccessFile(wt.resolve("blob.bin").toFile(), "rw")) {
      file.setLength(1L << 20);
    }
    assertEquals(List.of("blob.bin", "data.csv"), snap.capture(List.of("blob.bin"), false, false, "blob", 1000).oversized()
        .stream().map(Snapshotter.Oversized::path).toList());
    List<String> restored = snap.restore(before.commit(), Optional.empty());
    assertEquals(List.of("blob.bin", "data.csv"), restored);
    assertEquals("a,b\n1,2\n", Files.readString(wt.resolve("data.csv")));
    assertFalse(Files.exists(wt.resolve("blob.bin")));
    Capture back = snap.capture(List.of(), true, false, "back", 1000);
    assertEquals(List.of(), back.oversized());
    assertEquals(before.tree(), back.tree());
  }

  @Test
  void aLargeFileTheTreeAlreadyHoldsIsNotLeftOutButAnEditOfTheSameSizeIs() throws Exception {
    // every file of the base is larger than 4 bytes: unchanged, none of them is left out
    Capture c = snap.capture(List.of(), true, false, "start", 4);
    assertEquals(List.of(), c.oversized());
    assertEquals(GitRepos.git(repo, "rev-parse", base.name() + "^{tree}"), c.tree().name());

    write(wt, "src/main.c", "int main() {\n  return 1;\n}\n"); // same size, other content
    Capture edited = snap.capture(List.of("src/main.c"), false, false, "edited", 4);
    assertEquals(List.of(new Snapshotter.Oversized("src/main.c", 27, 4)), edited.oversized());
    assertEquals("int main() {\n  return 0;\n}", GitRepos.git(repo, "show", edited.commit().name() + ":src/main.c"),
        "the tree keeps the version it had");
  }

  @Test
  void theCommitMessageNamesAtMostAHundredFilesThenTheTotal() {
    List<Snapshotter.Oversized> many = new ArrayList<>();
    for (int i = 0; i < 150; i++) {
      many.add(new Snapshotter.Oversized("dir/f " + i + "\nline", 10, 5));
    }
    String message = Snapshotter.withOversized("warden: checkpoint", many);
    assertEquals(100, message.lines().filter(l -> l.startsWith("Warden-Oversized: ")).count());
    assertTrue(message.contains("Warden-Oversized-Total: 150\n"), message);
    assertTrue(message.contains("Warden-Oversized: 10 5 dir%2Ff+0%0Aline\n"), "paths are encoded, newlines too: " + message);
    assertEquals("warden: checkpoint", Snapshotter.withOversized("warden: checkpoint", List.of()));
  }

  // ------------------------------------------------------------------ crash recovery

  @Test
  void openResetsTheRefToTheRecordedTipSoTheChainHoldsOnlyRecordedCheckpoints() throws Exception {
    write(wt, "one.txt", "1\n");
    Capture c1 = snap.capture(List.of(), true, false, "one");
    write(wt, "two.txt", "2\n");
    Capture lost = snap.capture(List.of("two.txt"), false, false, "two (its record is lost in a crash)");
    snap.close();

    snap = open(Optional.of(c1.commit()));
    assertEquals(c1.commit().name(), GitRepos.git(repo, "rev-parse", REF));
    assertEquals(Optional.of(c1.commit()), snap.tip());
    Capture next = snap.capture(List.of(), false, false, "after restart");
    assertEquals(c1.commit(), next.parent());
    assertEquals(lost.tree(), next.tree());
    assertEquals(Set.of("two.txt"), paths(next.changes()));
    snap.close();

    snap = open(Optional.empty());
    assertFalse(GitRepos.refs(repo).contains(REF));
    Capture fromBase = snap.capture(List.of(), false, false, "nothing recorded");
    assertEquals(base, fromBase.parent());
    assertEquals(Set.of("one.txt", "two.txt"), paths(fromBase.changes()));
  }

  @Test
  void aRefMovedBySomeoneElseIsNotOverwritten() throws Exception {
    Capture c1 = snap.capture(List.of(), true, true, "one");
    GitRepos.git(repo, "update-ref", REF, base.name());
    write(wt, "x.txt", "x\n");

    assertThrows(Snapshotter.TipMoved.class, () -> snap.capture(List.of("x.txt"), false, false, "two"));

    assertEquals(base.name(), GitRepos.git(repo, "rev-parse", REF));
    assertEquals(Optional.of(c1.commit()), snap.tip());
  }

  // ------------------------------------------------------------------ rollback

  @Test
  void fullRestoreBringsBackExactlyTheCheckpointAndLeavesIgnoredFilesAlone() throws Exception {
    write(wt, "keep/a.txt", "a\n");
    write(wt, "dir-becomes-file/x.txt", "x\n");
    Capture target = snap.capture(List.of(), true, false, "good state");

    write(wt, "src/main.c", "broken\n");
    write(wt, "junk/new.txt", "junk\n");
    Files.delete(wt.resolve("keep/a.txt"));
    Files.setPosixFilePermissions(wt.resolve("run.sh"), PosixFilePermissions.fromString("rw-r--r--"));
    Files.delete(wt.resolve("docs/link"));
    write(wt, "docs/link", "not a link any more\n");
    Files.delete(wt.resolve("dir-becomes-file/x.txt"));
    Files.delete(wt.resolve("dir-becomes-file"));
    write(wt, "dir-becomes-file", "file now\n");
    write(wt, "debug.log", "ignored, stays\n");
    Capture bad = snap.capture(List.of(), true, false, "bad state");
    assertNotEquals(target.tree(), bad.tree());

    List<String> touched = snap.restore(target.commit(), Optional.empty());

    assertEquals(List.of("dir-becomes-file", "dir-becomes-file/x.txt", "docs/link", "junk/new.txt", "keep/a.txt", "run.sh",
        "src/main.c"), touched);
    assertEquals(target.tree().name(), gitTree());
    assertEquals("ignored, stays\n", Files.readString(wt.resolve("debug.log")));
    assertFalse(Files.exists(wt.resolve("junk")));
    assertTrue(Files.isSymbolicLink(wt.resolve("docs/link")));
    assertTrue(Files.isExecutable(wt.resolve("run.sh")));
    Capture after = snap.capture(List.of(), false, false, "after rollback");
    assertEquals(target.tree(), after.tree());
    Capture afterFull = snap.capture(List.of(), true, false, "full scan after rollback");
    assertEquals(target.tree(), afterFull.tree());
    assertTrue(afterFull.unchanged());
  }

  @Test
  void partialRestoreTouchesOnlyTheChosenPaths() throws Exception {
    Capture target = snap.capture(List.of(), true, false, "good");
    write(wt, "src/main.c", "broken\n");
    write(wt, "src/extra.c", "extra\n");
    write(wt, "docs/readme.md", "kept edit\n");
    snap.capture(List.of(), true, false, "bad");

    List<String> touched = snap.restore(target.commit(), Optional.of(List.of("src")));

    assertEquals(List.of("src/extra.c", "src/main.c"), touched);
    assertEquals("int main() {\n  return 0;\n}\n", Files.readString(wt.resolve("src/main.c")));
    assertFalse(Files.exists(wt.resolve("src/extra.c")));
    assertEquals("kept edit\n", Files.readString(wt.resolve("docs/readme.md")));
    Capture after = snap.capture(List.of(), false, false, "after partial rollback");
    assertEquals(GitRepos.git(repo, "rev-parse", target.tree().name() + ":src"),
        GitRepos.git(repo, "rev-parse", after.tree().name() + ":src"));
    assertEquals(gitTree(), after.tree().name());
    assertEquals(Set.of("src/extra.c", "src/main.c"), paths(after.changes()));

    List<String> one = snap.restore(target.commit(), Optional.of(List.of("docs/readme.md")));
    assertEquals(List.of("docs/readme.md"), one);
    Capture whole = snap.capture(List.of(), false, false, "now everything is back");
    assertEquals(target.tree(), whole.tree());
    assertThrows(dev.warden.Rejection.class, () -> snap.restore(target.commit(), Optional.of(List.of("../x"))));
    assertThrows(dev.warden.Rejection.class, () -> snap.restore(ObjectId.fromString("0123456789012345678901234567890123456789"),
        Optional.empty()));
    assertTrue(snap.capture(List.of(), false, false, "still fine").unchanged());
  }

  // ------------------------------------------------------------------ reading checkpoints

  @Test
  void diffIsGitStyleAndBounded() throws Exception {
    Capture c1 = snap.capture(List.of(), true, false, "one");
    write(wt, "docs/readme.md", "# Readme\n\nline two changed\n");
    write(wt, "added.txt", "fresh\n");
    Capture c2 = snap.capture(List.of("docs/readme.md", "added.txt"), false, false, "two");

    String diff = snap.diff(c1.commit(), c2.commit(), 1_000_000);
    assertTrue(diff.contains("diff --git a/docs/readme.md b/docs/readme.md"), diff);
    assertTrue(diff.contains("-line two\n+line two changed\n"), diff);
    assertTrue(diff.contains("diff --git a/added.txt b/added.txt\nnew file mode 100644"), diff);
    assertTrue(diff.contains("+fresh"), diff);
    assertEquals(diff, snap.diff(c1.tree(), c2.tree(), 1_000_000));

    String cut = snap.diff(c1.commit(), c2.commit(), 60);
    assertTrue(cut.length() < 160, cut);
    assertTrue(cut.endsWith("... diff truncated: it is longer than 60 bytes\n"), cut);
  }

  @Test
  void compareListsEveryFileWithLineCounts() throws Exception {
    Capture c1 = snap.capture(List.of(), true, false, "one");
    write(wt, "src/main.c", "int main() {\n  return 2;\n}\n// end\n");
    Files.delete(wt.resolve("run.sh"));
    Files.write(wt.resolve("image.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G', 0, 0, 1});
    Capture c2 = snap.capture(List.of(), true, false, "two");

    assertEquals(List.of(
        new FileChange("image.png", Kind.ADDED, 0, 0, true),
        new FileChange("run.sh", Kind.DELETED, 0, 2, false),
        new FileChange("src/main.c", Kind.MODIFIED, 2, 1, false)), snap.compare(c1.commit(), c2.commit()));
    assertEquals(c2.changes(), snap.compare(c1.commit(), c2.commit()));
  }

  @Test
  void historyIsReadFromTheRepositoryAloneWithTheChainClosed() throws Exception {
    Capture c1 = snap.capture(List.of(), true, false, "one");
    write(wt, "src/main.c", "int main() {\n  return 2;\n}\n");
    write(wt, "added.txt", "fresh\n");
    Capture c2 = snap.capture(List.of("src/main.c", "added.txt"), false, false, "two");
    String diffThroughTheChain = snap.diff(c1.commit(), c2.commit(), 1_000_000);
    snap.close();
    snap = null;

    // what the checkpoint routes answer comes from the object database, never from the chain's writer
    try (CheckpointHistory history = CheckpointHistory.open(repo.resolve(".git"))) {
      assertEquals(c2.changes(), history.compare(c1.commit(), c2.commit()));
      assertEquals(List.of(new FileChange("added.txt", Kind.ADDED, 1, 0, false),
          new FileChange("src/main.c", Kind.MODIFIED, 1, 1, false)), history.compare(c1.commit(), c2.commit()));
      assertEquals(diffThroughTheChain, history.diff(c1.commit(), c2.commit(), 1_000_000));
      assertTrue(history.diff(c1.commit(), c2.commit(), 1_000_000).contains("-  return 0;\n+  return 2;\n"));
      ObjectId unknown = ObjectId.fromString("0123456789abcdef0123456789abcdef01234567");
      assertThrows(dev.warden.Rejection.class, () -> history.compare(unknown, c2.commit()));
    }
  }

  @Test
  void packsAreMergedSoTheyDoNotPileUpAndGitReadsThemAll() throws Exception {
    long looseBefore = looseObjects();
    Capture last = null;
    for (int i = 0; i < 3 * PackStore.FAN_IN * PackStore.FAN_IN; i++) {
      write(wt, "many/f" + (i % 7) + ".txt", "version " + i + "\n");
      last = snap.capture(List.of("many/f" + (i % 7) + ".txt"), i == 0, false, "step " + i);
      snap.awaitPackMerges();
    }
    snap.awaitPackMerges();

    assertTrue(snap.packs().size() <= 3 * (PackStore.FAN_IN - 1), snap.packs().toString());
    assertEquals("", GitRepos.git(repo, "fsck", "--no-progress", "--no-dangling", "--full", "--strict"));
    assertEquals(gitTree(), last.tree().name());
    assertEquals(String.valueOf(3 * PackStore.FAN_IN * PackStore.FAN_IN), GitRepos.git(repo, "rev-list", "--count",
        base.name() + ".." + REF));
    assertEquals(looseBefore, looseObjects(), "checkpoints write packs, never loose objects");
    // a restarted snapshotter carries on with the packs it finds recorded
    snap.close();
    snap = open(Optional.of(last.commit()));
    assertTrue(snap.packs().size() >= 1);
  }

  // ------------------------------------------------------------------ helpers

  /** {@code git add -A && git write-tree} in the worktree on a throwaway copy of its index. */
  private String gitTree() throws IOException {
    Path index = Path.of(GitRepos.git(wt, "rev-parse", "--path-format=absolute", "--git-path", "index"));
    Path copy = tmp.resolve("scratch-index-" + scratch++);
    // with the index's own mtime: git's racy-entry rule needs it. A copy stamped "now" makes git trust
    // the stat of a file rewritten with the same size within the checkout's timestamp tick, and git,
    // not Warden, is then wrong (seen under load)
    Files.copy(index, copy, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
    Map<String, String> env = Map.of("GIT_INDEX_FILE", copy.toString());
    gitWith(env, "add", "-A");
    return gitWith(env, "write-tree");
  }

  private String gitWith(Map<String, String> env, String... args) throws IOException {
    List<String> command = new ArrayList<>(List.of("git", "-C", wt.toString()));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().keySet().removeIf(k -> k.startsWith("GIT_"));
    builder.environment().putAll(env);
    Process process = builder.start();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0) {
        throw new AssertionError(command + " failed: " + out);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
    return out;
  }

  /** Bytes under the repository's objects directory (packs and loose objects). */
  private long objectBytes() throws IOException {
    try (Stream<Path> files = Files.walk(repo.resolve(".git/objects"))) {
      return files.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)).mapToLong(p -> p.toFile().length()).sum();
    }
  }

  private long looseObjects() {
    return Stream.of(GitRepos.git(repo, "count-objects", "-v").split("\n")).filter(l -> l.startsWith("count: "))
        .mapToLong(l -> Long.parseLong(l.substring(7))).sum();
  }

  private Set<String> objectFiles() throws IOException {
    try (Stream<Path> files = Files.walk(repo.resolve(".git/objects"))) {
      return files.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS))
          .map(p -> repo.relativize(p).toString())
          .filter(p -> !p.contains("tmp_warden_"))
          .collect(Collectors.toCollection(TreeSet::new));
    }
  }

  private static String entry(String lsTree, String path) {
    for (String line : lsTree.split("\n")) {
      if (line.endsWith("\t" + path)) {
        return line;
      }
    }
    throw new AssertionError(path + " not in\n" + lsTree);
  }

  private static Set<String> paths(List<FileChange> changes) {
    return changes.stream().map(FileChange::path).collect(Collectors.toSet());
  }

  private static void write(Path root, String path, String content) throws IOException {
    Path file = root.resolve(path);
    Files.createDirectories(file.getParent());
    Files.writeString(file, content);
  }
}
