package dev.warden.apply;

import static dev.warden.testing.GitRepos.git;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warden.apply.MergeEngine.Mode;
import dev.warden.apply.MergeEngine.Result;
import dev.warden.plan.Plan;
import dev.warden.git.GitCli;
import dev.warden.testing.GitRepos;
import dev.warden.validate.CheckRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class MergeEngineTest {

  @TempDir Path tmp;
  Path repo;
  Path gitDir;
  Path scratch;
  final GitCli gitCli = new GitCli("git", Duration.ofSeconds(30));
  final CheckRunner runner = new CheckRunner(CheckRunner.Settings.defaults());

  @BeforeEach
  void setUp() throws IOException {
    repo = GitRepos.create(tmp.resolve("repo"));
    gitDir = repo.resolve(".git");
    scratch = tmp.resolve("scratch");
    // the user works on 'other'; 'main' is the target and not checked out anywhere
    git(repo, "checkout", "-q", "other");
  }

  private MergeEngine engine() {
    return new MergeEngine(gitCli, runner, scratch);
  }

  /** A commit on a new branch from main changing {@code file}: the feature's checkpoint. */
  private String feature(String name, String file, String content) throws IOException {
    Path wt = tmp.resolve("wt-" + name);
    git(repo, "worktree", "add", "-q", "-b", name, wt.toString(), "main");
    Files.writeString(wt.resolve(file), content);
    git(wt, "add", file);
    git(wt, "-c", "user.name=Agent", "-c", "user.email=a@example.com", "commit", "-q", "-m", "feature " + name);
    return git(wt, "rev-parse", "HEAD");
  }

  private String main() {
    return git(repo, "rev-parse", "refs/heads/main");
  }

  private String showOnMain(String file) {
    return git(repo, "show", "main:" + file);
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void cleanApplyLandsWithTrailer(Mode mode) throws Exception {
    String before = main();
    String checkpoint = feature("f1", "b.txt", "from f1\n");
    Result result = engine().apply(gitDir, "main", checkpoint, "Apply f1", Optional.empty(), mode, 2);

    Result.Applied applied = assertInstanceOf(Result.Applied.class, result);
    assertEquals(before, applied.targetBefore());
    assertEquals(applied.commit(), main());
    assertEquals(1, applied.attempts());
    assertEquals("from f1", showOnMain("b.txt"));
    String log = git(repo, "log", "-1", "--format=%B%n%an <%ae>|%cn <%ce>|%P", "main");
    assertTrue(log.contains("Warden-Checkpoint: " + checkpoint), log);
    assertTrue(log.contains("Warden <warden@localhost>|Warden <warden@localhost>"), log);
    String parents = git(repo, "log", "-1", "--format=%P", "main");
    assertEquals(mode == Mode.MERGE ? before + " " + checkpoint : before, parents);
    assertEquals("", git(repo, "status", "--porcelain"), "the user's worktree is untouched");
    assertEquals("other", git(repo, "rev-parse", "--abbrev-ref", "HEAD"));
    assertEquals(Optional.of(applied.commit()), engine().alreadyApplied(gitDir, "main", checkpoint));
    assertEquals("", git(repo, "worktree", "list", "--porcelain").lines()
        .filter(l -> l.contains(scratch.getFileName().toString())).findAny().orElse(""), "throwaway worktree removed");
  }

  @Test
  void twoFeaturesOnDifferentFilesBothLandInEitherOrder() throws Exception {
    String a = feature("fa", "x.txt", "x\n");
    String b = feature("fb", "y.txt", "y\n");
    assertInstanceOf(Result.Applied.class, engine().apply(gitDir, "main", b, "b", Optional.empty(), Mode.MERGE, 0));
    assertInstanceOf(Result.Applied.class, engine().apply(gitDir, "main", a, "a", Optional.empty(), Mode.SQUASH, 0));
    assertEquals("x", showOnMain("x.txt"));
    assertEquals("y", showOnMain("y.txt"));
    assertTrue(engine().alreadyApplied(gitDir, "main", a).isPresent());
    assertTrue(engine().alreadyApplied(gitDir, "main", b).isPresent());
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void conflictingSecondFeatureIsConflictedAndTargetUnchanged(Mode mode) throws Exception {
    String a = feature("fa", "a.txt", "from a\n");
    String b = feature("fb", "a.txt", "from b\n");
    assertInstanceOf(Result.Applied.class, engine().apply(gitDir, "main", a, "a", Optional.empty(), mode, 0));
    String head = main();
    Result result = engine().apply(gitDir, "main", b, "b", Optional.empty(), mode, 0);
    Result.Conflicted conflicted = assertInstanceOf(Result.Conflicted.class, result);
    assertEquals(List.of("a.txt"), conflicted.paths());
    assertEquals(head, conflicted.targetHead());
    assertEquals(head, main());
    assertFalse(engine().alreadyApplied(gitDir, "main", b).isPresent());
  }

  @Test
  void failingTestLeavesTargetUnchanged() throws Exception {
    String before = main();
    String checkpoint = feature("f1", "b.txt", "from f1\n");
    Plan.TestCommand test = new Plan.TestCommand(List.of("sh", "-c", "echo boom; cat b.txt; exit 3"), 30);
    Result result = engine().apply(gitDir, "main", checkpoint, "f1", Optional.of(test), Mode.MERGE, 0);
    Result.TestsFailed failed = assertInstanceOf(Result.TestsFailed.class, result);
    assertEquals(before, failed.targetHead());
    assertEquals(3, failed.test().exitCode());
    assertTrue(failed.test().output().contains("boom"), failed.test().output());
    assertTrue(failed.test().output().contains("from f1"), "tests ran on the merged tree");
    assertEquals(before, main());
  }

  @Test
  void passingTestIsReported() throws Exception {
    String checkpoint = feature("f1", "b.txt", "from f1\n");
    Plan.TestCommand test = new Plan.TestCommand(List.of("grep", "-q", "from f1", "b.txt"), 30);
    Result.Applied applied = assertInstanceOf(Result.Applied.class,
        engine().apply(gitDir, "main", checkpoint, "f1", Optional.of(test), Mode.SQUASH, 0));
    assertEquals(1, applied.tests().size());
    assertTrue(applied.tests().get(0).passed());
  }

  @Test
  void targetMovedBeforeSwapIsRetriedOnTheNewHead() throws Exception {
    String checkpoint = feature("f1", "b.txt", "from f1\n");
    String intruder = feature("intruder", "c.txt", "someone else\n");
    AtomicBoolean moved = new AtomicBoolean();
    MergeEngine engine = new MergeEngine(gitCli, runner, scratch, (attempt, head, commit) -> {
      if (moved.compareAndSet(false, true)) {
        git(repo, "update-ref", "refs/heads/main", intruder, head);
      }
    });
    Result.Applied applied = assertInstanceOf(Result.Applied.class,
        engine.apply(gitDir, "main", checkpoint, "f1", Optional.empty(), Mode.MERGE, 2));
    assertEquals(2, applied.attempts());
    assertEquals(intruder, applied.targetBefore());
    assertEquals(intruder + " " + checkpoint, git(repo, "log", "-1", "--format=%P", "main"));
    assertEquals("someone else", showOnMain("c.txt"));
    assertEquals("from f1", showOnMain("b.txt"));
  }

  @Test
  void targetThatKeepsMovingIsBusyAfterBoundedRetries() throws Exception {
    String checkpoint = feature("f1", "b.txt", "from f1\n");
    MergeEngine engine = new MergeEngine(gitCli, runner, scratch, (attempt, head, commit) -> {
      Path wt = tmp.resolve("mover");
      if (!Files.exists(wt)) {
        git(repo, "worktree", "add", "-q", "--detach", wt.toString(), "main");
      }
      git(wt, "-c", "user.name=T", "-c", "user.email=t@x", "commit", "-q", "--allow-empty", "-m", "move " + attempt);
      git(repo, "update-ref", "refs/heads/main", git(wt, "rev-parse", "HEAD"));
    });
    Result result = engine.apply(gitDir, "main", checkpoint, "f1", Optional.empty(), Mode.MERGE, 1);
    Result.TargetBusy busy = assertInstanceOf(Result.TargetBusy.class, result);
    assertEquals(2, busy.attempts());
    assertTrue(engine().alreadyApplied(gitDir, "main", checkpoint).isEmpty());
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void revertUndoesAnAppliedProposal(Mode mode) throws Exception {
    String checkpoint = feature("f1", "b.txt", "from f1\n");
    Result.Applied applied = assertInstanceOf(Result.Applied.class,
        engine().apply(gitDir, "main", checkpoint, "f1", Optional.empty(), mode, 0));
    Plan.TestCommand test = new Plan.TestCommand(List.of("sh", "-c", "test ! -e b.txt"), 30);
    Result.Applied reverted = assertInstanceOf(Result.Applied.class,
        engine().revert(gitDir, "main", applied.commit(), "Roll back f1", Optional.of(test), 0));
    assertEquals(applied.commit(), reverted.targetBefore());
    assertEquals(reverted.commit(), main());
    assertTrue(GitRepos.tryGit(repo, "cat-file", "-e", "main:b.txt").exitCode() != 0, "b.txt gone");
    assertEquals(applied.commit(), git(repo, "log", "-1", "--format=%P", "main"));
    assertTrue(git(repo, "log", "-1", "--format=%B", "main").contains("Warden-Reverts: " + applied.commit()));
    assertEquals(Optional.of(reverted.commit()), engine().alreadyReverted(gitDir, "main", applied.commit()));
  }

  @Test
  void revertWithFailingTestLeavesTargetUnchanged() throws Exception {
    String checkpoint = feature("f1", "b.txt", "from f1\n");
    Result.Applied applied = assertInstanceOf(Result.Applied.class,
        engine().apply(gitDir, "main", checkpoint, "f1", Optional.empty(), Mode.MERGE, 0));
    Plan.TestCommand test = new Plan.TestCommand(List.of("test", "-e", "b.txt"), 30);
    assertInstanceOf(Result.TestsFailed.class,
        engine().revert(gitDir, "main", applied.commit(), "Roll back f1", Optional.of(test), 0));
    assertEquals(applied.commit(), main());
  }

  @Test
  void checkedOutTargetIsRefused() throws Exception {
    String checkpoint = feature("f1", "b.txt", "from f1\n");
    String before = git(repo, "rev-parse", "refs/heads/other");
    Result result = engine().apply(gitDir, "other", checkpoint, "f1", Optional.empty(), Mode.MERGE, 0);
    Result.TargetCheckedOut refused = assertInstanceOf(Result.TargetCheckedOut.class, result);
    assertEquals("other", refused.branch());
    assertEquals(repo.toRealPath().toString(), refused.worktree());
    assertEquals(before, git(repo, "rev-parse", "refs/heads/other"));
  }

  @Test
  void missingTarget() throws Exception {
    String checkpoint = feature("f1", "b.txt", "from f1\n");
    assertEquals(new Result.TargetMissing("nope"),
        engine().apply(gitDir, "nope", checkpoint, "f1", Optional.empty(), Mode.MERGE, 0));
  }

  @Test
  void alreadyAppliedIsEmptyForAnUnappliedCheckpoint() throws Exception {
    String checkpoint = feature("f1", "b.txt", "from f1\n");
    assertEquals(Optional.empty(), engine().alreadyApplied(gitDir, "main", checkpoint));
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void checkpointAlreadyInTargetStillGetsATrailerCommit(Mode mode) throws Exception {
    String checkpoint = feature("f1", "b.txt", "from f1\n");
    git(repo, "update-ref", "refs/heads/main", checkpoint);
    Result.Applied applied = assertInstanceOf(Result.Applied.class,
        engine().apply(gitDir, "main", checkpoint, "f1", Optional.empty(), mode, 0));
    assertEquals(checkpoint, git(repo, "log", "-1", "--format=%P", "main"));
    assertEquals(Optional.of(applied.commit()), engine().alreadyApplied(gitDir, "main", checkpoint));
  }

  // --- a target checked out in the user's worktree (warden.apply.checked-out-target = update) ---

  private CheckedOutTargets targets(List<Path> own, CheckedOutTargets.Hold hold) {
    return new CheckedOutTargets(gitCli, tmp.resolve("landings"), own, CheckedOutTargets.Policy.UPDATE, hold);
  }

  /** 'other' is checked out in the user's repo; a checkpoint from it changing {@code file}. */
  private String featureOnOther(String name, String file, String content) throws IOException {
    Path wt = tmp.resolve("wt-" + name);
    git(repo, "worktree", "add", "-q", "-b", name, wt.toString(), "other");
    Files.writeString(wt.resolve(file), content);
    git(wt, "add", file);
    git(wt, "-c", "user.name=Agent", "-c", "user.email=a@example.com", "commit", "-q", "-m", "feature " + name);
    return git(wt, "rev-parse", "HEAD");
  }

  @Test
  void aTargetCheckedOutByTheUserMovesWithItsIndexAndFilesKeepingUnrelatedEdits() throws Exception {
    String checkpoint = featureOnOther("f1", "b.txt", "from f1\n");
    Files.writeString(repo.resolve("a.txt"), "staged by the user\n");
    git(repo, "add", "a.txt");
    Files.writeString(repo.resolve("notes.txt"), "untracked\n");
    MergeEngine engine = engine().updatingCheckedOutTargets(targets(List.of(scratch), CheckedOutTargets.NO_HOLD));
    Result.Applied applied = assertInstanceOf(Result.Applied.class,
        engine.apply(gitDir, "other", checkpoint, "f1", Optional.empty(), Mode.MERGE, 0));
    assertEquals(applied.commit(), git(repo, "rev-parse", "HEAD"));
    assertEquals("from f1\n", Files.readString(repo.resolve("b.txt")));
    assertEquals("M  a.txt\n?? notes.txt", git(repo, "status", "--porcelain"), "the user's edits stay, nothing else shows");
    assertEquals("staged by the user\n", Files.readString(repo.resolve("a.txt")));
    assertFalse(Files.exists(tmp.resolve("landings").resolve(applied.commit() + ".landing")), "the record is gone");
  }

  @Test
  void anIndexLockOrAnEditOfALandedPathBlocksAndNothingMoves() throws Exception {
    String checkpoint = featureOnOther("f1", "b.txt", "from f1\n");
    String before = git(repo, "rev-parse", "other");
    MergeEngine engine = engine().updatingCheckedOutTargets(targets(List.of(scratch), CheckedOutTargets.NO_HOLD));
    Files.writeString(gitDir.resolve("index.lock"), "");
    Result.WorktreeBlocked locked = assertInstanceOf(Result.WorktreeBlocked.class,
        engine.apply(gitDir, "other", checkpoint, "f1", Optional.empty(), Mode.MERGE, 0));
    assertTrue(locked.reason().contains("index is locked"), locked.reason());
    Files.delete(gitDir.resolve("index.lock"));
    Files.writeString(repo.resolve("b.txt"), "the user's own b\n"); // untracked, where the landing puts b.txt
    Result.WorktreeBlocked edited = assertInstanceOf(Result.WorktreeBlocked.class,
        engine.apply(gitDir, "other", checkpoint, "f1", Optional.empty(), Mode.MERGE, 0));
    assertEquals(List.of("b.txt"), edited.paths());
    assertTrue(edited.reason().contains("local changes to b.txt"), edited.reason());
    assertEquals(before, git(repo, "rev-parse", "other"));
    assertEquals("the user's own b\n", Files.readString(repo.resolve("b.txt")));
  }

  @Test
  void anEditMadeAfterTheCheckPutsTheBranchBackAndLeavesTheEditAlone() throws Exception {
    String checkpoint = featureOnOther("f1", "b.txt", "from f1\n");
    String before = git(repo, "rev-parse", "other");
    MergeEngine engine = engine().updatingCheckedOutTargets(targets(List.of(scratch), () -> {
      try {
        Files.writeString(repo.resolve("b.txt"), "typed just now\n");
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }));
    Result.WorktreeBlocked blocked = assertInstanceOf(Result.WorktreeBlocked.class,
        engine.apply(gitDir, "other", checkpoint, "f1", Optional.empty(), Mode.MERGE, 0));
    assertTrue(blocked.reason().contains("changed while it was being updated"), blocked.reason());
    assertEquals(before, git(repo, "rev-parse", "other"), "the branch is put back");
    assertEquals("typed just now\n", Files.readString(repo.resolve("b.txt")));
    assertEquals("?? b.txt", git(repo, "status", "--porcelain"));
  }

  @Test
  void aWorktreeOfWardensOwnIsNeverUpdated() throws Exception {
    String checkpoint = featureOnOther("f1", "b.txt", "from f1\n");
    MergeEngine engine = engine().updatingCheckedOutTargets(targets(List.of(tmp), CheckedOutTargets.NO_HOLD));
    assertInstanceOf(Result.TargetCheckedOut.class, engine.apply(gitDir, "other", checkpoint, "f1", Optional.empty(), Mode.MERGE, 0));
  }

  @Test
  void aLandingKilledBetweenTheBranchMoveAndTheFilesIsFinishedByRecover() throws Exception {
    String checkpoint = featureOnOther("f1", "b.txt", "from f1\n");
    String before = git(repo, "rev-parse", "other");
    CheckedOutTargets targets = targets(List.of(scratch), CheckedOutTargets.NO_HOLD);
    // what a killed daemon leaves: the record, the branch moved, the files not
    targets.record(repo.toRealPath(), "refs/heads/other", before, checkpoint);
    git(repo, "update-ref", "refs/heads/other", checkpoint, before);
    assertEquals("D  b.txt", git(repo, "status", "--porcelain"), "the change shows reversed until it is finished");
    assertEquals(List.of(), targets.recover());
    assertEquals("", git(repo, "status", "--porcelain"));
    assertEquals("from f1\n", Files.readString(repo.resolve("b.txt")));
    assertEquals(List.of(), targets.recover(), "nothing left to do");
  }

  @Test
  void statusEntriesGiveTheirPaths() {
    assertEquals(Optional.of("a b.txt"), CheckedOutTargets.statusPath("1 .M N... 100644 100644 100644 abc abc a b.txt"));
    assertEquals(Optional.of("new dir/x"), CheckedOutTargets.statusPath("? new dir/x"));
    assertEquals(Optional.of("build/"), CheckedOutTargets.statusPath("! build/"));
    assertEquals(Optional.of("c.txt"), CheckedOutTargets.statusPath("u UU N... 100644 100644 100644 100644 a b c c.txt"));
    assertEquals(Optional.empty(), CheckedOutTargets.statusPath(""));
  }
}
