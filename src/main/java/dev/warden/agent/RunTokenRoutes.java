package dev.warden.agent;

import akka.actor.typed.ActorSystem;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.headers.Authorization;
import akka.http.javadsl.server.Route;
import dev.warden.Rejection;
import dev.warden.auth.Caller;
import dev.warden.auth.Role;
import dev.warden.auth.RunTokens;
import dev.warden.feature.FeatureService;
import dev.warden.feature.FeatureSubRoutes;
import dev.warden.http.ApiDirectives;
import java.time.Instant;

/**
 * {@code /api/v1/features/{id}/agent-token}: {@code POST} gives a run token for one run of
 * {@code bin/warden agent} (agent role, bound to this feature, expiring; see {@link RunTokens}) to a
 * caller with the agent role or stronger that may reach the feature — not to a run token, so a run
 * cannot extend itself; {@code DELETE}, presenting the run token itself, revokes it.
 */
public final class RunTokenRoutes extends ApiDirectives implements FeatureSubRoutes {

  private final FeatureService features;
  private final RunTokens tokens;

  public RunTokenRoutes(ActorSystem<?> system, FeatureService features, RunTokens tokens, long maxBodyBytes) {
    super(system, maxBodyBytes);
    this.features = features;
    this.tokens = tokens;
  }

  /** What {@code POST} answers: the token (shown once), its caller name, and when it stops working. */
  public record RunTokenView(String token, String name, String feature, Instant expiresAt) {}

  @Override
  public Route route(Caller caller, String featureId) {
    return path("agent-token", () -> concat(
        post(() -> requireRole(caller, Role.AGENT, () -> {
          if (!caller.mayReach(featureId)) {
            throw Rejection.forbidden(null, "token '" + caller.name() + "' is not bound to feature '" + featureId + "'");
          }
          if (caller.isRunToken()) {
            throw Rejection.forbidden(null, "a run token cannot issue run tokens: the wrapper renews its token with the"
                + " operator's token");
          }
          return bodyText(ignored -> onSuccess(features.requireLive(featureId), feature -> { // the body ({} or none) says nothing
            RunTokens.Issued issued = tokens.issue(featureId, caller.name());
            return completeJson(StatusCodes.CREATED, new RunTokenView(issued.token(),
                RunTokens.NAME_PREFIX + featureId + ":" + issued.id(), featureId, issued.expiresAt()));
          }));
        })),
        delete(() -> {
          if (!caller.isRunToken() || !caller.features().contains(featureId)) {
            throw Rejection.forbidden(null, "revoke a run token by presenting it: DELETE with the run token of this feature"
                + " as the bearer token");
          }
          return headerValueByType(Authorization.class, header -> {
            tokens.revoke(bearer(header.value()));
            return complete(StatusCodes.NO_CONTENT);
          });
        })));
  }

  private static String bearer(String headerValue) {
    String value = headerValue.trim();
    int space = value.indexOf(' ');
    return space < 0 ? value : value.substring(space + 1).trim();
  }
}
