package dev.warden.apply;

import dev.warden.git.GitCli;
import dev.warden.git.GitFailure;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/**
 * Lands proposals with the {@link MergeEngine} on the blocking pool, exactly once: every apply commit
 * names its proposal in a {@value #PROPOSAL_TRAILER} trailer, and before merging anything the target's
 * history is searched for it, so a daemon killed after moving the target but before recording that
 * finds its own commit instead of landing the change a second time. The same holds for reverts
 * ({@link MergeEngine#alreadyReverted}).
 */
public final class Landing {

  public static final String PROPOSAL_TRAILER = "Warden-Proposal";
  public static final String REVERTED_PROPOSAL_TRAILER = "Warden-Reverts-Proposal";

  /** What happened; {@code foundAfterRestart} when the commit was already there from an earlier run. */
  public record Outcome(MergeEngine.Result result, boolean foundAfterRestart) {}

  private final MergeEngine engine;
  private final GitCli git;
  private final ApplySettings settings;
  private final Executor blocking;
  private final Optional<CheckedOutTargets> checkedOut;

  public Landing(MergeEngine engine, GitCli git, ApplySettings settings, Executor blocking) {
    this(engine, git, settings, blocking, Optional.empty());
  }

  /** With {@code checkedOut}: the engine updates users' working trees, and half-done updates are finished first. */
  public Landing(MergeEngine engine, GitCli git, ApplySettings settings, Executor blocking, Optional<CheckedOutTargets> checkedOut) {
    this.engine = engine;
    this.git = git;
    this.settings = settings;
    this.blocking = blocking;
    this.checkedOut = checkedOut;
    checkedOut.ifPresent(engine::updatingCheckedOutTargets);
  }

  /** Finishes the working tree updates a killed daemon left half done (at boot); what is still pending. */
  public CompletionStage<List<CheckedOutTargets.Pending>> recover() {
    return CompletableFuture.supplyAsync(() -> checkedOut.map(CheckedOutTargets::recover).orElse(List.of()), blocking);
  }

  /** A cheap fingerprint of a blocked working tree: when it changes, the landing is worth trying again. */
  public CompletionStage<String> fingerprint(String worktree, List<String> paths) {
    return CompletableFuture.supplyAsync(() -> checkedOut.map(t -> t.fingerprint(Path.of(worktree), paths)).orElse(""), blocking);
  }

  /** The landing an earlier run of the daemon already made of this proposal, if any. */
  public CompletionStage<Optional<Outcome>> earlier(Proposal.Draft draft) {
    return CompletableFuture.supplyAsync(() -> {
      Path gitDir = Path.of(draft.gitDir());
      return engine.landedWithTrailer(gitDir, draft.target(), PROPOSAL_TRAILER, draft.id()).map(commit -> {
        // the branch moved in an earlier run: applied once its checked-out working tree followed
        Optional<CheckedOutTargets.Pending> pending = checkedOut.flatMap(t -> t.pending(commit));
        if (pending.isPresent()) {
          CheckedOutTargets.Pending p = pending.get();
          return new Outcome(new MergeEngine.Result.WorktreeBlocked(draft.target(), p.worktree().toString(), List.of(),
              p.ref() + " is at the landed commit " + commit + " but " + p.worktree() + " still shows the commit before it ("
                  + p.reason() + "); do not commit there: undo your edits of the landed paths (or stash them), then run: "
                  + p.command()), false);
        }
        return new Outcome(new MergeEngine.Result.Applied(firstParent(gitDir, commit), commit, List.of(), 0), true);
      });
    }, blocking);
  }

  /** Lands the proposal, or finds the landing an earlier run already made. */
  public CompletionStage<Outcome> land(Proposal.Draft draft) {
    return earlier(draft).thenCompose(found -> found.isPresent() ? CompletableFuture.completedFuture(found.get()) : merge(draft));
  }

  /** Merges, tests and moves the target: only after {@link #earlier} found nothing. */
  public CompletionStage<Outcome> merge(Proposal.Draft draft) {
    return CompletableFuture.supplyAsync(() -> {
      Path gitDir = Path.of(draft.gitDir());
      String message = draft.commitMessage(); // the proposal's title as subject
      try {
        return new Outcome(engine.apply(gitDir, draft.target(), draft.checkpointCommit(), message, draft.test(), draft.sandboxRules(), settings.mode(),
            settings.maxRetries()), false);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new GitFailure("interrupted while applying " + draft.id(), e);
      }
    }, blocking);
  }

  public CompletionStage<Outcome> revert(Proposal.Draft draft, String appliedCommit, String by, String reason) {
    return CompletableFuture.supplyAsync(() -> {
      Path gitDir = Path.of(draft.gitDir());
      Optional<String> earlier = engine.alreadyReverted(gitDir, draft.target(), appliedCommit);
      if (earlier.isPresent()) {
        return new Outcome(new MergeEngine.Result.Applied(firstParent(gitDir, earlier.get()), earlier.get(), List.of(), 0), true);
      }
      String message = "Warden: revert " + draft.id() + " (" + firstLine(draft.description()) + ")\n\n"
          + "Rolled back by " + by + ": " + reason + "\n\n" + REVERTED_PROPOSAL_TRAILER + ": " + draft.id();
      try {
        return new Outcome(engine.revert(gitDir, draft.target(), appliedCommit, message, draft.test(), draft.sandboxRules(),
            settings.maxRetries()), false);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new GitFailure("interrupted while reverting " + draft.id(), e);
      }
    }, blocking);
  }

  private String firstParent(Path gitDir, String commit) {
    GitCli.Result parent = git.run(gitDir, List.of("rev-parse", "--verify", "--quiet", commit + "^1"));
    return parent.ok() ? parent.output().strip() : "";
  }

  private static String firstLine(String text) {
    String line = text.strip().lines().findFirst().orElse("").strip();
    if (line.isEmpty()) {
      return "proposed change";
    }
    return line.length() > 72 ? line.substring(0, 69) + "..." : line;
  }
}
