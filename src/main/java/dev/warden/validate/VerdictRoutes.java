package dev.warden.validate;

import akka.actor.typed.ActorSystem;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.PathMatchers;
import akka.http.javadsl.server.Route;
import dev.warden.Rejection;
import dev.warden.auth.Caller;
import dev.warden.checkpoint.Checkpoints;
import dev.warden.feature.FeatureService;
import dev.warden.feature.FeatureSubRoutes;
import dev.warden.http.ApiDirectives;
import dev.warden.secrets.SecretMasker;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * {@code GET /api/v1/features/{id}/checkpoints/{seq}/validation} (viewer): a checkpoint's verdict, each
 * check's output masked. And the smart rollback the checkpoint routes hand on ({@link #smartRollback}):
 * the validator picks the checkpoint and paths. Both serve the validator's data, so they live here and
 * the checkpoint package never imports this one.
 */
public final class VerdictRoutes extends ApiDirectives implements FeatureSubRoutes {

  private final ClusterSharding sharding;
  private final FeatureService features;
  private final Duration askTimeout;
  private final Duration captureTimeout;

  public VerdictRoutes(ActorSystem<?> system, FeatureService features, long maxBodyBytes, Duration askTimeout,
      Duration captureTimeout) {
    super(system, maxBodyBytes);
    this.sharding = ClusterSharding.get(system);
    this.features = features;
    this.askTimeout = askTimeout;
    this.captureTimeout = captureTimeout;
  }

  @Override
  public Route route(Caller caller, String id) {
    return pathPrefix("checkpoints", () -> pathPrefix(PathMatchers.longSegment(), seq -> path("validation", () -> get(() ->
        onSuccess(features.get(id), feature -> onSuccess(
            sharding.entityRefFor(Validator.ENTITY_KEY, id)
                .<Validator.Lookup>ask(replyTo -> new Validator.GetVerdict(seq, replyTo), askTimeout),
            lookup -> {
              if (lookup instanceof Validator.Found found) {
                return completeJson(StatusCodes.OK, maskedOutputs(found.verdict()));
              }
              throw Rejection.notFound("checkpoint " + seq + " of '" + id + "' has no verdict (yet)");
            }))))));
  }

  /**
   * {@code POST .../rollback} with {@code "strategy": "smart"}: the checkpoint's outcome, or a failed
   * outcome (409) naming why there was nothing to roll back.
   */
  public CompletionStage<Checkpoints.Outcome> smartRollback(String id, String by) {
    return sharding.entityRefFor(Validator.ENTITY_KEY, id)
        .<Validator.SmartRollbackResult>ask(replyTo -> new Validator.SmartRollback(by, replyTo), captureTimeout)
        .thenApply(result -> {
          if (result instanceof Validator.NothingToRollBack nothing) {
            return new Checkpoints.Failed(Rejection.Kind.CONFLICT, nothing.reason());
          }
          return ((Validator.RolledBackSmartly) result).outcome();
        });
  }

  /**
   * A verdict as the API shows it: each check's output masked (a command may print a file, or a diff).
   * Head and tail are masked as one text when nothing was dropped between them, so a secret across
   * the seam is found; when one was, the whole masked output is then the head, and the tail is empty.
   */
  static Validator.VerdictRecord maskedOutputs(Validator.VerdictRecord v) {
    List<Validator.CheckOutcome> checks = v.checks().stream().map(VerdictRoutes::maskedOutput).toList();
    return new Validator.VerdictRecord(v.seq(), v.commit(), v.status(), v.fastRules(), v.planVersion(), v.violations(),
        v.unchecked(), checks, v.failure(), v.startedAt(), v.finishedAt());
  }

  private static Validator.CheckOutcome maskedOutput(Validator.CheckOutcome c) {
    String head;
    String tail;
    if (c.droppedBytes() == 0) {
      SecretMasker.Masked all = SecretMasker.content(c.outputHead() + c.outputTail());
      if (all.secrets() == 0) {
        return c;
      }
      head = all.text();
      tail = "";
    } else {
      head = SecretMasker.content(c.outputHead()).text();
      tail = SecretMasker.content(c.outputTail()).text();
    }
    return new Validator.CheckOutcome(c.name(), c.argv(), c.passed(), c.exitCode(), c.timedOut(), c.durationMs(), head, tail,
        c.droppedBytes(), c.sandbox());
  }
}
