package dev.warden.validate;

import dev.warden.checkpoint.Checkpoints;
import dev.warden.plan.PathGlob;
import dev.warden.plan.Plan;
import dev.warden.validate.Validator.Command;
import dev.warden.validate.Validator.Failed;
import dev.warden.validate.Validator.FastDone;
import dev.warden.validate.Validator.HeavyDone;
import dev.warden.validate.Validator.HeavyQueued;
import dev.warden.validate.Validator.PatchDoesNotApply;
import dev.warden.validate.Validator.PatchFailed;
import dev.warden.validate.Validator.PatchOutcome;
import dev.warden.validate.Validator.PatchPromoted;
import dev.warden.validate.Validator.PatchRefused;
import dev.warden.validate.Validator.Validate;
import dev.warden.validate.Validator.ValidatePatch;
import dev.warden.validate.Validator.ValidationServices;
import java.io.File;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;

/**
 * The work a validator sets off, off its thread: the fast rules, the heavy checks, a patch's judgement.
 * Each returns what the validator is told when it ends (piped to itself); none of it reads or changes
 * the validator's state.
 */
final class ValidationWork {

  private final ValidationServices services;
  private final ValidationCache cache;

  ValidationWork(ValidationServices services, ValidationCache cache) {
    this.services = services;
    this.cache = cache;
  }

  /** The fast rules of checkpoint {@code request}: {@link FastDone}, or {@link Failed} when they could not run. */
  CompletionStage<Command> fast(ValidatorPeers peers, Validate request) {
    return peers.plan().thenCombine(peers.diskUsage(), (plan, usage) -> new Object[] {plan, usage}).thenApplyAsync(both -> {
      Plan plan = (Plan) both[0];
      OptionalLong usage = (OptionalLong) both[1];
      try (Repository repo = new FileRepositoryBuilder().setGitDir(new File(request.gitDir())).setMustExist(true).build();
          ObjectReader reader = repo.newObjectReader()) {
        FastRules.Input input = FastRules.Input.fromGit(reader, ObjectId.fromString(request.baseCommit()),
                ObjectId.fromString(request.commit()), plan)
            .withCache(cache)
            .withBudget(services.fastBudget());
        if (usage.isPresent()) {
          input = input.withDiskUsage(usage.getAsLong());
        }
        FastRules.Result result = FastRules.check(input);
        boolean heavyDue = !plan.checks().isEmpty() || plan.test().isPresent();
        List<String> changed = input.changes().stream().map(Change::path).toList();
        return (Command) new FastDone(request, plan.version(), result, heavyDue, plan, changed);
      } catch (Exception e) {
        return new Failed(request, e.getClass().getSimpleName() + ": " + e.getMessage());
      }
    }, services.blocking());
  }

  /** What the fast-rule work ended with, when it ended in a failure rather than a command. */
  static Command fastFailed(Validate request, Throwable failure) {
    return new Failed(request, "the plan could not be read: " + failure);
  }

  /** The plan's checks and test of checkpoint {@code request} through the pool, at the trigger's priority. */
  CompletionStage<List<CheckResult>> heavy(Validate request, Plan plan, List<String> changedPaths) {
    CheckPriority priority = switch (request.trigger()) {
      case FINAL -> CheckPriority.FINAL;
      case MANUAL, ROLLBACK, FORCED -> CheckPriority.MANUAL;
      default -> CheckPriority.PERIODIC;
    };
    List<HeavyChecks.Candidate> candidates = plan.checks().stream().map(check -> {
      PathGlob glob = PathGlob.compile(check.paths());
      return new HeavyChecks.Candidate(check, glob::matches);
    }).toList();
    HeavyChecks.Request heavy = new HeavyChecks.Request(Path.of(request.gitDir()), request.commit(), plan.version(),
        candidates, changedPaths, plan.test(), plan.sandboxRules());
    try {
      return services.heavy().submit(services.pool(), priority, heavy);
    } catch (RuntimeException refused) {
      // a full pool refuses at once: the verdict says queued and the checks are tried again later
      return CompletableFuture.failedFuture(refused);
    }
  }

  /** What the heavy checks ended with: done, queued behind a full pool, or failed. */
  static Command heavyEnded(Validate request, Plan plan, List<String> changedPaths, List<CheckResult> results, Throwable failure) {
    Throwable cause = failure;
    while (cause instanceof CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof CheckPool.PoolFull full) {
      return new HeavyQueued(request, plan, changedPaths, full.getMessage());
    } else if (cause != null) {
      return new Failed(request, "checks could not run: " + cause);
    }
    return new HeavyDone(request, results);
  }

  /**
   * Patch mode: judge {@code request}'s diff in a shadow worktree at the latest checkpoint and, when it is
   * valid, have the checkpoint chain bring it in.
   */
  CompletionStage<PatchOutcome> patch(ValidatorPeers peers, ValidatePatch request) {
    PatchGate gate = new PatchGate(services);
    return peers.plan()
        .thenCombine(peers.diskUsage(), (plan, usage) -> new Object[] {plan, usage})
        .thenCombine(peers.latestCheckpoint(), (both, latest) -> new Object[] {both[0], both[1], latest.orElse(request.baseCommit())})
        .thenApplyAsync(all -> {
          try {
            return gate.judge(Path.of(request.gitDir()), request.baseCommit(), (String) all[2], request.diff(),
                (Plan) all[0], (OptionalLong) all[1], cache);
          } catch (Exception e) {
            throw new CompletionException(e);
          }
        }, services.blocking())
        .thenCompose(judgement -> {
          if (judgement instanceof PatchGate.DoesNotApply no) {
            return CompletableFuture.<PatchOutcome>completedFuture(new PatchDoesNotApply(no.output()));
          }
          if (judgement instanceof PatchGate.TooLarge large) {
            // judged on its sizes alone: nothing was applied anywhere, not even in a shadow
            return CompletableFuture.<PatchOutcome>completedFuture(new PatchRefused(VerdictStatus.INVALID, large.violations(),
                List.of()));
          }
          PatchGate.Judged judged = (PatchGate.Judged) judgement;
          if (!judged.valid()) {
            VerdictStatus verdict = judged.rules().verdict() != FastRules.Verdict.VALID ? VerdictStatus.of(judged.rules().verdict())
                : VerdictStatus.INVALID;
            return CompletableFuture.<PatchOutcome>completedFuture(new PatchRefused(verdict, judged.rules().violations(),
                judged.checks().stream().map(Validator.CheckOutcome::of).toList()));
          }
          return peers.promote(judged.commit(), judged.paths(), request.by()).thenApply(outcome ->
              outcome instanceof Checkpoints.Taken taken ? (PatchOutcome) new PatchPromoted(taken.checkpoint(), judged.tree())
                  : new PatchFailed("the validated patch could not be brought in: " + outcome));
        });
  }

  /** What a patch's judgement ended with, a failure included. */
  static PatchOutcome patchEnded(PatchOutcome outcome, Throwable failure) {
    return failure == null ? outcome : new PatchFailed(String.valueOf(failure.getCause() != null ? failure.getCause() : failure));
  }
}
