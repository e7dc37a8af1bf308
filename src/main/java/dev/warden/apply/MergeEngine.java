package dev.warden.apply;

import dev.warden.plan.Plan;
import dev.warden.git.GitCli;
import dev.warden.git.GitFailure;
import dev.warden.process.SandboxRules;
import dev.warden.validate.CheckResult;
import dev.warden.validate.CheckRunner;
import dev.warden.validate.CheckSandbox;
import dev.warden.validate.ThrowawayWorktree;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.Ref;
import org.eclipse.jgit.lib.RefUpdate;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lands a proposal's checkpoint on a target branch, or takes an applied one back out, without ever
 * touching the user's working tree, index or HEAD. Plain blocking code: callers run it on a
 * dedicated pool.
 *
 * <p>One attempt: read the target's head; in a {@link ThrowawayWorktree} detached at that head, make
 * the new commit with the git CLI (a {@code --no-ff} merge, a squash, or a revert), authored and
 * committed by {@code Warden <warden@localhost>}, hooks disabled; run the plan's test command there
 * with {@link CheckRunner}, in the runner's sandbox under the plan's rules (the worktree writable, the
 * repository's git directory read-only: the test cannot move the target, only this class does); then move {@code refs/heads/<target>} from the head the attempt started
 * on to the new commit with a JGit compare-and-swap. If the target moved meanwhile the swap fails
 * and the whole attempt starts over from the new head, at most {@code maxRetries} more times; the ref
 * is never forced. A conflict or a failing test leaves the target as it was.
 *
 * <p>Every apply commit carries a trailer {@code Warden-Checkpoint: <checkpoint>} and every revert
 * commit {@code Warden-Reverts: <applied commit>}; {@link #alreadyApplied} and {@link #alreadyReverted}
 * find them on the target's first-parent history, so a daemon restarted mid-apply never lands the
 * same checkpoint twice.
 *
 * <p>A target checked out in a non-bare worktree of the repository (the user's own, usually) is
 * refused with {@link Result.TargetCheckedOut} unless {@link #updatingCheckedOutTargets} was given
 * (and the worktree is not Warden's own): moving only the ref would leave the user's working tree and
 * index showing our change reversed as uncommitted edits, which is why {@code git push} to a non-bare
 * repository refuses it too. With it, the branch and that worktree's index and files move together
 * (see {@link CheckedOutTargets}), or the landing waits with {@link Result.WorktreeBlocked}.
 */
public final class MergeEngine {

  private static final Logger log = LoggerFactory.getLogger(MergeEngine.class);

  public static final String CHECKPOINT_TRAILER = "Warden-Checkpoint";
  public static final String REVERTS_TRAILER = "Warden-Reverts";
  /** How far back {@link #alreadyApplied} looks on the target's first-parent history. */
  public static final int HISTORY_LIMIT = 500;

  private static final Pattern OBJECT_ID = Pattern.compile("[0-9a-f]{4,64}");
  private static final Pattern TRAILER_LINE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9-]*: \\S.*");
  private static final List<String> IDENTITY = List.of(
      "-c", "user.name=Warden", "-c", "user.email=warden@localhost",
      "-c", "commit.gpgSign=false", "-c", "core.hooksPath=/dev/null");

  /** How the checkpoint lands on the target. */
  public enum Mode {
    /** A merge commit whose parents are the target's head and the checkpoint. */
    MERGE,
    /** One commit on the target's head with the checkpoint's changes merged in (linear history). */
    SQUASH
  }

  /** What {@link #apply} or {@link #revert} did. */
  public sealed interface Result {
    /** The target moved from {@code targetBefore} to {@code commit}; {@code tests} from the winning attempt. */
    record Applied(String targetBefore, String commit, List<CheckResult> tests, int attempts) implements Result {
      public Applied {
        tests = List.copyOf(tests);
      }
    }

    /** The change does not merge onto {@code targetHead}; the target is unchanged. */
    record Conflicted(List<String> paths, String targetHead) implements Result {
      public Conflicted {
        paths = List.copyOf(paths);
      }
    }

    /** The test command failed (or timed out) on the merged result; the target is unchanged. */
    record TestsFailed(String targetHead, CheckResult test) implements Result {}

    /** No such branch. */
    record TargetMissing(String branch) implements Result {}

    /** The branch is checked out in a worktree of the repository ({@code worktree}); refused, nothing done. */
    record TargetCheckedOut(String branch, String worktree) implements Result {}

    /**
     * The branch is checked out in {@code worktree}, a user's working tree Warden updates with it, but
     * that cannot take the landing now: {@code paths} (landed paths with local changes there; empty for
     * a held index lock), {@code reason} for the note. The branch is unchanged.
     */
    record WorktreeBlocked(String branch, String worktree, List<String> paths, String reason) implements Result {
      public WorktreeBlocked {
        paths = List.copyOf(paths);
      }
    }

    /** The target kept moving under us: every one of {@code attempts} lost the compare-and-swap. */
    record TargetBusy(String targetHead, int attempts) implements Result {}
  }

  /** Called after the tests passed and before the compare-and-swap; tests use it to move the target. */
  @FunctionalInterface
  interface BeforeSwap {
    void run(int attempt, String targetHead, String newCommit);
  }

  private final GitCli git;
  private final CheckRunner runner;
  private final Path scratchParent;
  private final BeforeSwap beforeSwap;
  private volatile Optional<CheckedOutTargets> checkedOut = Optional.empty();

  /**
   * @param scratchParent where throwaway worktrees are made (swept with {@link ThrowawayWorktree#sweep}
   *     after a crash)
   */
  public MergeEngine(GitCli git, CheckRunner runner, Path scratchParent) {
    this(git, runner, scratchParent, (attempt, head, commit) -> { });
  }

  MergeEngine(GitCli git, CheckRunner runner, Path scratchParent, BeforeSwap beforeSwap) {
    this.git = git;
    this.runner = runner;
    this.scratchParent = scratchParent;
    this.beforeSwap = beforeSwap;
  }

  /**
   * Updates a user's working tree that has the target checked out along with the branch (when
   * {@code targets} says so) instead of refusing with {@link Result.TargetCheckedOut}.
   */
  public MergeEngine updatingCheckedOutTargets(CheckedOutTargets targets) {
    this.checkedOut = Optional.of(targets);
    return this;
  }

  /**
   * Lands {@code checkpointCommit} on {@code targetBranch} with {@code message} (plus the
   * {@value #CHECKPOINT_TRAILER} trailer), after {@code test} passed on the result. Interrupting the
   * thread cancels a running test; the target is then unchanged.
   */
  public Result apply(Path gitDir, String targetBranch, String checkpointCommit, String message,
      Optional<Plan.TestCommand> test, Mode mode, int maxRetries) throws InterruptedException {
    return apply(gitDir, targetBranch, checkpointCommit, message, test, SandboxRules.defaults(), mode, maxRetries);
  }

  /** As above, the test sandboxed under {@code sandbox}, the plan's rules ({@link Plan#sandboxRules()}). */
  public Result apply(Path gitDir, String targetBranch, String checkpointCommit, String message,
      Optional<Plan.TestCommand> test, SandboxRules sandbox, Mode mode, int maxRetries) throws InterruptedException {
    requireObjectId(checkpointCommit);
    String checkpoint = resolveCommit(gitDir, checkpointCommit);
    String fullMessage = withTrailer(message, CHECKPOINT_TRAILER, checkpoint);
    Change change = mode == Mode.MERGE
        ? worktree -> merge(worktree, checkpoint, fullMessage)
        : worktree -> squash(worktree, checkpoint, fullMessage);
    return land(gitDir, targetBranch, test, sandbox, maxRetries, change);
  }

  /**
   * Adds a commit to {@code targetBranch} undoing {@code appliedCommit} (a merge commit is reverted
   * against its first parent, the target's history), after {@code test} passed on the result.
   * Throws {@link IllegalArgumentException} when {@code appliedCommit} is not on the target.
   */
  public Result revert(Path gitDir, String targetBranch, String appliedCommit, String message,
      Optional<Plan.TestCommand> test, int maxRetries) throws InterruptedException {
    return revert(gitDir, targetBranch, appliedCommit, message, test, SandboxRules.defaults(), maxRetries);
  }

  /** As above, the test sandboxed under {@code sandbox}, the plan's rules. */
  public Result revert(Path gitDir, String targetBranch, String appliedCommit, String message,
      Optional<Plan.TestCommand> test, SandboxRules sandbox, int maxRetries) throws InterruptedException {
    requireObjectId(appliedCommit);
    String applied = resolveCommit(gitDir, appliedCommit);
    String fullMessage = withTrailer(message, REVERTS_TRAILER, applied);
    return land(gitDir, targetBranch, test, sandbox, maxRetries, worktree -> {
      if (!git(worktree, "merge-base", "--is-ancestor", applied, "HEAD").ok()) {
        throw new IllegalArgumentException(applied + " is not on " + targetBranch);
      }
      int parents = checked(worktree, "rev-list", "--parents", "-n", "1", applied).strip().split(" ").length - 1;
      List<String> args = new ArrayList<>(List.of("revert", "--no-commit"));
      if (parents > 1) {
        args.addAll(List.of("-m", "1"));
      }
      args.add(applied);
      GitCli.Result reverted = git(worktree, args.toArray(String[]::new));
      if (!reverted.ok()) {
        return conflictOrFail(worktree, reverted, "git revert " + applied);
      }
      return commit(worktree, fullMessage);
    });
  }

  /** The commit on the target's recent first-parent history that applied {@code checkpointCommit}, if any. */
  public Optional<String> alreadyApplied(Path gitDir, String targetBranch, String checkpointCommit) {
    return findTrailer(gitDir, targetBranch, CHECKPOINT_TRAILER, resolveCommit(gitDir, requireObjectId(checkpointCommit)));
  }

  /**
   * The commit on the target's recent first-parent history whose message has the trailer
   * {@code key: value} (a caller's own trailer, such as the proposal a commit landed), if any.
   */
  public Optional<String> landedWithTrailer(Path gitDir, String targetBranch, String key, String value) {
    return findTrailer(gitDir, targetBranch, key, value);
  }

  /** The commit on the target's recent first-parent history that reverted {@code appliedCommit}, if any. */
  public Optional<String> alreadyReverted(Path gitDir, String targetBranch, String appliedCommit) {
    return findTrailer(gitDir, targetBranch, REVERTS_TRAILER, resolveCommit(gitDir, requireObjectId(appliedCommit)));
  }

  // --- one attempt, retried ---

  /** Makes the new commit in a worktree at the target's head: its id, or a conflict. */
  @FunctionalInterface
  private interface Change {
    Outcome make(Path worktree);
  }

  private sealed interface Outcome {
    record Committed(String commit) implements Outcome {}

    record Conflict(List<String> paths) implements Outcome {}
  }

  private Result land(Path gitDir, String targetBranch, Optional<Plan.TestCommand> test, SandboxRules sandbox, int maxRetries,
      Change change) throws InterruptedException {
    if (maxRetries < 0) {
      throw new IllegalArgumentException("maxRetries must not be negative, got " + maxRetries);
    }
    String refName = Constants.R_HEADS + targetBranch;
    if (targetBranch.isBlank() || !Repository.isValidRefName(refName)) {
      throw new IllegalArgumentException("'" + targetBranch + "' is not a valid branch name");
    }
    Optional<String> checkedOutIn = checkedOutIn(gitDir, refName);
    Optional<CheckedOutTargets> userTree = checkedOut.filter(t -> checkedOutIn.isPresent() && t.mayUpdate(Path.of(checkedOutIn.get())));
    if (checkedOutIn.isPresent() && userTree.isEmpty()) {
      return new Result.TargetCheckedOut(targetBranch, checkedOutIn.get());
    }
    String head = null;
    for (int attempt = 1; attempt <= maxRetries + 1; attempt++) {
      Optional<String> current = readRef(gitDir, refName);
      if (current.isEmpty()) {
        return new Result.TargetMissing(targetBranch);
      }
      head = current.get();
      String commit;
      List<CheckResult> tests = new ArrayList<>();
      try (ThrowawayWorktree worktree = ThrowawayWorktree.create(git, gitDir, head, scratchParent)) {
        Outcome outcome = change.make(worktree.path());
        if (outcome instanceof Outcome.Conflict conflict) {
          return new Result.Conflicted(conflict.paths(), head);
        }
        commit = ((Outcome.Committed) outcome).commit();
        if (test.isPresent()) {
          CheckResult result = runTest(test.get(), worktree.path(), CheckSandbox.Scope.of(gitDir, sandbox));
          if (!result.passed()) {
            return new Result.TestsFailed(head, result);
          }
          tests.add(result);
        }
      }
      beforeSwap.run(attempt, head, commit);
      if (userTree.isPresent()) {
        // as if the user ran `git merge --ff-only <commit>` there: the branch, its index and its files move together
        CheckedOutTargets targets = userTree.get();
        Path tree = Path.of(checkedOutIn.get());
        Optional<CheckedOutTargets.Blocked> blocked = targets.blocked(gitDir, tree, head, commit);
        if (blocked.isPresent()) {
          return new Result.WorktreeBlocked(targetBranch, tree.toString(), blocked.get().paths(),
              "the target branch " + targetBranch + " is checked out in " + tree + " and " + blocked.get().describe());
        }
        targets.record(tree, refName, head, commit);
        if (!swap(gitDir, refName, head, commit)) {
          targets.forget(commit);
          log.info("{} moved away from {} during attempt {}; starting over", refName, head, attempt);
          continue;
        }
        targets.afterBranchMoved();
        Optional<String> failed = targets.update(tree, head, commit);
        if (failed.isPresent()) {
          // the user changed something meanwhile: put the branch back, so the tree never shows the change reversed
          if (swap(gitDir, refName, commit, head, true)) {
            targets.forget(commit);
            log.info("{} put back to {}: {} could not follow: {}", refName, head, tree, failed.get());
            return new Result.WorktreeBlocked(targetBranch, tree.toString(), List.of(), "the target branch " + targetBranch
                + " is checked out in " + tree + ", which changed while it was being updated: " + failed.get());
          }
          throw new GitFailure(refName + " is at " + commit + " but " + tree + " could not follow (" + failed.get()
              + ") and the branch moved on; run: git -C " + tree + " read-tree -m -u " + head + " " + commit);
        }
        targets.forget(commit);
        log.info("{} moved {} -> {} with the working tree {} (attempt {})", refName, head, commit, tree, attempt);
        return new Result.Applied(head, commit, tests, attempt);
      }
      if (swap(gitDir, refName, head, commit)) {
        log.info("{} moved {} -> {} (attempt {})", refName, head, commit, attempt);
        return new Result.Applied(head, commit, tests, attempt);
      }
      log.info("{} moved away from {} during attempt {}; starting over", refName, head, attempt);
    }
    return new Result.TargetBusy(head, maxRetries + 1);
  }

  private CheckResult runTest(Plan.TestCommand test, Path directory, CheckSandbox.Scope scope) throws InterruptedException {
    try {
      return runner.run("test", test.argv(), directory, Duration.ofSeconds(test.timeoutSeconds()), scope);
    } catch (IOException e) {
      throw new GitFailure("cannot run the test command " + test.argv() + ": " + e.getMessage(), e);
    }
  }

  private Outcome merge(Path worktree, String checkpoint, String message) {
    String before = checked(worktree, "rev-parse", "HEAD").strip();
    GitCli.Result merged = git(worktree, "merge", "--no-ff", "--no-edit", "-m", message, checkpoint);
    if (!merged.ok()) {
      Outcome outcome = conflictOrFail(worktree, merged, "git merge " + checkpoint);
      git(worktree, "merge", "--abort");
      return outcome;
    }
    String head = checked(worktree, "rev-parse", "HEAD").strip();
    if (head.equals(before)) {
      // already up to date: the checkpoint is in the target. An empty commit still records the trailer.
      return commitEmpty(worktree, message, head);
    }
    return new Outcome.Committed(head);
  }

  private Outcome squash(Path worktree, String checkpoint, String message) {
    GitCli.Result merged = git(worktree, "merge", "--squash", checkpoint);
    if (!merged.ok()) {
      Outcome outcome = conflictOrFail(worktree, merged, "git merge --squash " + checkpoint);
      git(worktree, "reset", "--hard", "--quiet");
      return outcome;
    }
    return commit(worktree, message);
  }

  private Outcome commit(Path worktree, String message) {
    checked(worktree, "commit", "--quiet", "--allow-empty", "--no-verify", "-m", message);
    return new Outcome.Committed(checked(worktree, "rev-parse", "HEAD").strip());
  }

  private Outcome commitEmpty(Path worktree, String message, String head) {
    log.info("{} already contains the change; recording it with an empty commit", head);
    return commit(worktree, message);
  }

  private Outcome conflictOrFail(Path worktree, GitCli.Result failed, String what) {
    String unmerged = checked(worktree, "diff", "--name-only", "--diff-filter=U", "-z");
    List<String> paths = unmerged.isEmpty() ? List.of()
        : List.of(unmerged.split("\0")).stream().filter(p -> !p.isEmpty()).distinct().sorted().toList();
    if (paths.isEmpty()) {
      throw new GitFailure(what + " failed: " + failed.output());
    }
    return new Outcome.Conflict(paths);
  }

  // --- refs ---

  private static boolean swap(Path gitDir, String refName, String from, String to) {
    return swap(gitDir, refName, from, to, false);
  }

  /** {@code back}: undoing our own swap (not a fast-forward: forced, but still only from {@code from}). */
  private static boolean swap(Path gitDir, String refName, String from, String to, boolean back) {
    try (Repository repository = open(gitDir)) {
      RefUpdate update = repository.updateRef(refName);
      update.setExpectedOldObjectId(ObjectId.fromString(from));
      update.setNewObjectId(ObjectId.fromString(to));
      update.setForceUpdate(back);
      update.setRefLogMessage(back ? "warden: apply undone, the working tree could not follow" : "warden: apply", false);
      RefUpdate.Result result = update.update();
      return switch (result) {
        case FAST_FORWARD, FORCED, NEW -> true;
        case LOCK_FAILURE -> false; // moved under us, or someone holds the lock: start over
        default -> throw new GitFailure("cannot move " + refName + " from " + from + " to " + to + ": " + result);
      };
    } catch (IOException e) {
      throw new GitFailure("cannot move " + refName + ": " + e.getMessage(), e);
    }
  }

  private static Optional<String> readRef(Path gitDir, String refName) {
    try (Repository repository = open(gitDir)) {
      Ref ref = repository.exactRef(refName);
      return ref == null || ref.getObjectId() == null ? Optional.empty() : Optional.of(ref.getObjectId().name());
    } catch (IOException e) {
      throw new GitFailure("cannot read " + refName + ": " + e.getMessage(), e);
    }
  }

  /** The worktree (main or linked) that has {@code refName} checked out, from {@code git worktree list}. */
  private Optional<String> checkedOutIn(Path gitDir, String refName) {
    GitCli.Result listed = git.run(gitDir, List.of("worktree", "list", "--porcelain", "-z"));
    if (!listed.ok()) {
      throw new GitFailure("git worktree list failed: " + listed.output());
    }
    String worktree = null;
    for (String line : listed.output().split("\0")) {
      if (line.startsWith("worktree ")) {
        worktree = line.substring("worktree ".length());
      } else if (line.equals("branch " + refName)) {
        return Optional.ofNullable(worktree);
      }
    }
    return Optional.empty();
  }

  private static Optional<String> findTrailer(Path gitDir, String targetBranch, String key, String value) {
    String refName = Constants.R_HEADS + targetBranch;
    try (Repository repository = open(gitDir); RevWalk walk = new RevWalk(repository)) {
      Ref ref = repository.exactRef(refName);
      if (ref == null || ref.getObjectId() == null) {
        return Optional.empty();
      }
      walk.setFirstParent(true);
      walk.markStart(walk.parseCommit(ref.getObjectId()));
      int seen = 0;
      for (RevCommit commit : walk) {
        if (commit.getFooterLines(key).stream().anyMatch(v -> v.strip().equals(value))) {
          return Optional.of(commit.name());
        }
        if (++seen >= HISTORY_LIMIT) {
          break;
        }
      }
      return Optional.empty();
    } catch (IOException e) {
      throw new GitFailure("cannot read the history of " + refName + ": " + e.getMessage(), e);
    }
  }

  private static Repository open(Path gitDir) throws IOException {
    return new FileRepositoryBuilder().setGitDir(gitDir.toFile()).setMustExist(true).build();
  }

  // --- git in a throwaway worktree ---

  private GitCli.Result git(Path worktree, String... args) {
    List<String> command = new ArrayList<>(IDENTITY);
    command.add("--work-tree=" + worktree);
    command.addAll(List.of(args));
    // the worktree's .git file names its admin directory; git follows it for --git-dir
    return git.run(worktree.resolve(".git"), command);
  }

  private String checked(Path worktree, String... args) {
    GitCli.Result result = git(worktree, args);
    if (!result.ok()) {
      throw new GitFailure("git " + String.join(" ", args) + " failed in " + worktree + ": " + result.output());
    }
    return result.output();
  }

  private String resolveCommit(Path gitDir, String commit) {
    GitCli.Result resolved = git.run(gitDir, List.of("rev-parse", "--verify", "--quiet", commit + "^{commit}"));
    if (!resolved.ok()) {
      throw new IllegalArgumentException("no commit " + commit + " in " + gitDir);
    }
    return resolved.output().strip();
  }

  private static String requireObjectId(String id) {
    if (!OBJECT_ID.matcher(id).matches()) {
      throw new IllegalArgumentException("not a commit id: '" + id + "'");
    }
    return id;
  }

  /**
   * {@code message} with {@code key: value} as the last line of its trailer block: appended to the
   * message's last paragraph when that is already a block of {@code Key: value} lines (the caller's
   * own trailers), else as a new paragraph.
   */
  static String withTrailer(String message, String key, String value) {
    String body = message.strip();
    if (body.isEmpty()) {
      body = "warden";
    }
    int cut = body.lastIndexOf("\n\n");
    boolean trailerBlock = cut >= 0 && body.substring(cut + 2).lines().allMatch(line -> TRAILER_LINE.matcher(line).matches());
    return body + (trailerBlock ? "\n" : "\n\n") + key + ": " + value + "\n";
  }
}
