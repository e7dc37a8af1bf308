package dev.warden.apply;

import dev.warden.validate.CheckResult;
import dev.warden.validate.Validator.CheckOutcome;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/** What a landing's (or a revert's) result says, as an event or a reason: pure, for {@link Applier}. */
final class LandingOutcomes {

  private LandingOutcomes() {}

  /** The event that records how landing {@code p} went; deferred ones say when it is tried again ({@code retry}). */
  static Applier.Event outcomeEvent(String featureId, Proposal p, Landing.Outcome outcome, Duration retry, Instant now) {
    MergeEngine.Result result = outcome.result();
    String target = p.draft().target();
    if (result instanceof MergeEngine.Result.Applied applied) {
      return new Applier.ProposalApplied(featureId, p.id(), applied.targetBefore(), applied.commit(), applied.attempts(),
          outcomes(applied.tests()), outcome.foundAfterRestart(), now);
    }
    if (result instanceof MergeEngine.Result.Conflicted conflicted) {
      return new Applier.ProposalFailed(featureId, p.id(), "the checkpoint does not merge onto " + target + " at "
          + abbreviate(conflicted.targetHead()) + ": conflicts in " + String.join(", ", conflicted.paths()), conflicted.paths(), List.of(), now);
    }
    if (result instanceof MergeEngine.Result.TestsFailed failed) {
      return new Applier.ProposalFailed(featureId, p.id(), "the test command "
          + (failed.test().timedOut() ? "timed out" : "failed (exit " + failed.test().exitCode() + ")") + " on the merge with " + target
          + " at " + abbreviate(failed.targetHead()) + "; the target is unchanged", List.of(), List.of(CheckOutcome.of(failed.test())), now);
    }
    if (result instanceof MergeEngine.Result.TargetMissing missing) {
      return new Applier.ProposalFailed(featureId, p.id(), "the target branch " + missing.branch() + " no longer exists", List.of(), List.of(), now);
    }
    if (result instanceof MergeEngine.Result.TargetCheckedOut out) {
      return new Applier.ApplyDeferred(featureId, p.id(), "the target branch " + out.branch() + " is checked out in " + out.worktree()
          + "; Warden never moves a branch under someone's working tree: check out another branch there (tried again every "
          + human(retry) + ")", now);
    }
    if (result instanceof MergeEngine.Result.WorktreeBlocked blocked) {
      return new Applier.ApplyDeferred(featureId, p.id(), blocked.reason() + "; tried again when that working tree changes, every "
          + human(retry) + ", and on POST /api/v1/approvals/" + p.id() + "/land", now);
    }
    MergeEngine.Result.TargetBusy busy = (MergeEngine.Result.TargetBusy) result;
    return new Applier.ApplyDeferred(featureId, p.id(), "the target kept moving: " + busy.attempts()
        + " attempts lost the race (tried again every " + human(retry) + ")", now);
  }

  /** Why a revert that did not land did not (every result but applied). */
  static String revertFailure(MergeEngine.Result result) {
    String why;
    if (result instanceof MergeEngine.Result.Conflicted c) {
      why = "the revert conflicts with later changes in " + String.join(", ", c.paths());
    } else if (result instanceof MergeEngine.Result.TestsFailed t) {
      why = "the test command failed on the reverted target (exit " + t.test().exitCode() + "): " + tail(t.test());
    } else if (result instanceof MergeEngine.Result.TargetMissing m) {
      why = "the target branch " + m.branch() + " no longer exists";
    } else if (result instanceof MergeEngine.Result.TargetCheckedOut o) {
      why = "the target branch " + o.branch() + " is checked out in " + o.worktree();
    } else if (result instanceof MergeEngine.Result.WorktreeBlocked b) {
      why = b.reason();
    } else {
      why = "the target kept moving (" + ((MergeEngine.Result.TargetBusy) result).attempts() + " attempts)";
    }
    return why;
  }

  static List<CheckOutcome> outcomes(List<CheckResult> results) {
    return results.stream().map(CheckOutcome::of).toList();
  }

  static String abbreviate(String commit) {
    return commit.length() > 12 ? commit.substring(0, 12) : commit;
  }

  static String tail(CheckResult result) {
    String out = result.output().strip();
    return out.length() > 500 ? "..." + out.substring(out.length() - 500) : out;
  }

  static String human(Duration d) {
    if (d.toDays() > 0 && d.equals(Duration.ofDays(d.toDays()))) {
      return d.toDays() + " d";
    }
    if (d.toHours() > 0 && d.equals(Duration.ofHours(d.toHours()))) {
      return d.toHours() + " h";
    }
    if (d.toMinutes() > 0 && d.equals(Duration.ofMinutes(d.toMinutes()))) {
      return d.toMinutes() + " min";
    }
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
  }
}
