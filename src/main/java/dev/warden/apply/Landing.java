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

  public Landing(MergeEngine engine, GitCli git, ApplySettings settings, Executor blocking) {
    this.engine = engine;
    this.git = git;
    this.settings = settings;
    this.blocking = blocking;
  }

  /** The landing an earlier run of the daemon already made of this proposal, if any. */
  public CompletionStage<Optional<Outcome>> earlier(Proposal.Draft draft) {
    return CompletableFuture.supplyAsync(() -> {
      Path gitDir = Path.of(draft.gitDir());
      return engine.landedWithTrailer(gitDir, draft.target(), PROPOSAL_TRAILER, draft.id())
          .map(commit -> new Outcome(new MergeEngine.Result.Applied(firstParent(gitDir, commit), commit, List.of(), 0), true));
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
