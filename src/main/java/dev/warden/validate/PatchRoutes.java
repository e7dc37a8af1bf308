package dev.warden.validate;

import akka.actor.typed.ActorSystem;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.Route;
import dev.warden.Rejection;
import dev.warden.auth.Caller;
import dev.warden.auth.Role;
import dev.warden.feature.FeatureService;
import dev.warden.feature.FeatureSubRoutes;
import dev.warden.http.ApiDirectives;
import dev.warden.http.JsonFields;
import dev.warden.http.Problems;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;

/**
 * {@code POST /api/v1/features/{id}/patches} (agent): patch mode. The diff is applied and judged in a
 * shadow worktree; only a valid one becomes a checkpoint (201). Invalid: 422 with the violations and
 * check results; not applying: 409 with git's account of the failing hunks. Either way the feature's
 * worktree is untouched.
 */
public final class PatchRoutes extends ApiDirectives implements FeatureSubRoutes {

  private final ClusterSharding sharding;
  private final FeatureService features;
  private final Duration timeout;

  public PatchRoutes(ActorSystem<?> system, FeatureService features, long maxBodyBytes, Duration timeout) {
    super(system, maxBodyBytes);
    this.sharding = ClusterSharding.get(system);
    this.features = features;
    this.timeout = timeout;
  }

  @Override
  public Route route(Caller caller, String id) {
    return path("patches", () -> post(() -> requireRole(caller, Role.AGENT, () -> bodyText(text -> {
      JsonFields body = JsonFields.parseObject(mapper, text, false).onlyKeys(Set.of("diff"));
      String diff = body.requiredText("diff");
      if (diff.isBlank()) {
        throw Rejection.invalid("diff", "must not be empty");
      }
      return onSuccess(features.requireLive(id).thenCompose(feature -> {
        Path gitDir = dev.warden.git.SupervisedRepository.atRoot(Path.of(feature.repo())).gitDir();
        return sharding.entityRefFor(Validator.ENTITY_KEY, id).<Validator.PatchOutcome>ask(
            replyTo -> new Validator.ValidatePatch(gitDir.toString(), feature.baseCommit(), diff, caller.name(), replyTo), timeout);
      }), this::answer);
    }))));
  }

  private Route answer(Validator.PatchOutcome outcome) {
    if (outcome instanceof Validator.PatchPromoted promoted) {
      return completeJson(StatusCodes.CREATED, Map.of("checkpoint", promoted.checkpoint(), "shadowTree", promoted.shadowTree()));
    }
    if (outcome instanceof Validator.PatchRefused refused) {
      return complete(Problems.response(StatusCodes.UNPROCESSABLE_ENTITY, "the patch is " + refused.verdict() + "; the worktree is unchanged",
          "diff", Map.of("verdict", refused.verdict(), "violations", refused.violations(), "checks", refused.checks()), mapper));
    }
    if (outcome instanceof Validator.PatchDoesNotApply no) {
      return complete(Problems.response(StatusCodes.CONFLICT, "the patch does not apply to the latest checkpoint: " + no.output(),
          "diff", Map.of(), mapper));
    }
    throw Rejection.conflict("diff", "the patch could not be judged or brought in: " + ((Validator.PatchFailed) outcome).reason());
  }
}
