package dev.warden.apply;

import akka.actor.typed.ActorSystem;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.headers.Location;
import akka.http.javadsl.server.PathMatchers;
import akka.http.javadsl.server.Route;
import dev.warden.Rejection;
import dev.warden.auth.Caller;
import dev.warden.auth.Role;
import dev.warden.feature.FeatureSubRoutes;
import dev.warden.http.ApiDirectives;
import dev.warden.http.JsonFields;
import dev.warden.http.SecretViews;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * {@code /api/v1/approvals}: the approval queue, one proposal, its diff, approve, reject, rollback;
 * and {@code POST /api/v1/features/{id}/propose}. Reading needs a viewer token, proposing an agent
 * token, deciding an approver token, a bypass or a rollback an admin token. The diff comes with its
 * secrets masked ({@link SecretViews}).
 */
public final class ApprovalRoutes extends ApiDirectives implements FeatureSubRoutes {

  private final ProposalService proposals;
  private final Duration proposeTimeout;
  private final Duration rollbackTimeout;

  public ApprovalRoutes(ActorSystem<?> system, ProposalService proposals, long maxBodyBytes, Duration proposeTimeout,
      Duration rollbackTimeout) {
    super(system, maxBodyBytes);
    this.proposals = proposals;
    this.proposeTimeout = proposeTimeout;
    this.rollbackTimeout = rollbackTimeout;
  }

  /** {@code POST /api/v1/features/{id}/propose} {@code {"description"}}: 201 with the proposal. */
  @Override
  public Route route(Caller caller, String featureId) {
    return path("propose", () -> post(() -> requireRole(caller, Role.AGENT, () -> withRequestTimeout(scala(proposeTimeout), () ->
        body(true, body -> {
          body.onlyKeys(Set.of("description"));
          String description = body.optionalText("description").map(d -> limitedText("description", d))
              .filter(d -> !d.isBlank()).orElse(Proposal.defaultTitle(featureId));
          return onSuccess(proposals.propose(featureId, description, caller.name()), proposal ->
              respondWithHeader(Location.create("/api/v1/approvals/" + proposal.id()), () ->
                  completeJson(StatusCodes.CREATED, ProposalJson.ProposalView.fromDomain(proposal))));
        })))));
  }

  public Route route(Caller caller) {
    return pathPrefix("approvals", () -> concat(
        pathEndOrSingleSlash(() -> get(() -> parameterOptional("status", status -> {
          Optional<ProposalStatus> filter = status.map(label -> ProposalStatus.fromLabel(label)
              .orElseThrow(() -> Rejection.invalid("status", "'" + label + "' is not a proposal status (" + String.join(", ",
                  java.util.Arrays.stream(ProposalStatus.values()).map(ProposalStatus::label).toList()) + ")")));
          return onSuccess(proposals.list(filter), list -> completeJson(StatusCodes.OK, ProposalJson.ProposalList.fromDomain(list)));
        }))),
        pathPrefix(PathMatchers.segment(), id -> concat(
            pathEnd(() -> get(() -> onSuccess(proposals.get(id), this::ok))),
            path("diff", () -> get(() -> SecretViews.rawParameter(caller, raw -> onSuccess(proposals.diff(id), text ->
                complete(SecretViews.diff(text, raw).plainText()))))),
            path("approve", () -> post(() -> requireRole(caller, Role.APPROVER, () -> body(true, body -> {
              body.onlyKeys(Set.of("reason", "bypass"));
              boolean bypass = body.optionalBoolean("bypass").orElse(false);
              Optional<String> reason = body.optionalText("reason").map(r -> limitedText("reason", r)).filter(r -> !r.isBlank());
              if (bypass && reason.isEmpty()) {
                throw Rejection.invalid("reason", "a bypass needs a reason: it is recorded with the decision");
              }
              if (bypass) {
                return requireRole(caller, Role.ADMIN, () -> onSuccess(proposals.approve(id, caller, reason, true), this::ok));
              }
              return onSuccess(proposals.approve(id, caller, reason, false), this::ok);
            })))),
            path("land", () -> post(() -> requireRole(caller, Role.APPROVER, () -> body(true, body -> {
              body.onlyKeys(Set.of());
              return onSuccess(proposals.landNow(id, caller), proposal ->
                  completeJson(StatusCodes.ACCEPTED, ProposalJson.ProposalView.fromDomain(proposal)));
            })))),
            path("reject", () -> post(() -> requireRole(caller, Role.APPROVER, () -> body(false, body -> {
              body.onlyKeys(Set.of("reason"));
              String reason = requiredReason(body);
              return onSuccess(proposals.reject(id, caller, reason), this::ok);
            })))),
            path("rollback", () -> post(() -> requireRole(caller, Role.ADMIN, () -> withRequestTimeout(scala(rollbackTimeout), () ->
                body(false, body -> {
                  body.onlyKeys(Set.of("reason"));
                  String reason = requiredReason(body);
                  return onSuccess(proposals.rollback(id, caller, reason, rollbackTimeout), this::ok);
                })))))))));
  }

  private static scala.concurrent.duration.FiniteDuration scala(Duration d) {
    return scala.concurrent.duration.FiniteDuration.fromNanos(d.toNanos());
  }

  private String requiredReason(JsonFields body) {
    String reason = limitedText("reason", body.requiredText("reason"));
    if (reason.isBlank()) {
      throw Rejection.invalid("reason", "must not be blank: it is recorded with the decision");
    }
    return reason;
  }

  private Route body(boolean emptyAllowed, Function<JsonFields, Route> inner) {
    return bodyText(text -> inner.apply(JsonFields.parseObject(mapper, text, emptyAllowed)));
  }

  private Route ok(Proposal proposal) {
    return completeJson(StatusCodes.OK, ProposalJson.ProposalView.fromDomain(proposal));
  }
}
