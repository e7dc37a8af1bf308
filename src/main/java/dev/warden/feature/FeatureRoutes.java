package dev.warden.feature;

import akka.actor.typed.ActorSystem;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.headers.Location;
import akka.http.javadsl.server.PathMatchers;
import akka.http.javadsl.server.Route;
import dev.warden.Rejection;
import dev.warden.auth.Caller;
import dev.warden.auth.Role;
import dev.warden.http.ApiDirectives;
import dev.warden.http.JsonFields;
import dev.warden.plan.Plan;
import java.util.List;
import java.util.Optional;

/**
 * {@code /api/v1/features}: create, list, read, pause, resume and abandon features. Reading needs
 * a viewer token, creating, pausing and resuming an agent token, abandoning an approver token.
 */
public final class FeatureRoutes extends ApiDirectives {

  private final FeatureService features;
  private final List<FeatureSubRoutes> subRoutes;
  private final PlanTemplates templates;

  public FeatureRoutes(ActorSystem<?> system, FeatureService features, long maxBodyBytes, List<FeatureSubRoutes> subRoutes) {
    this(system, features, maxBodyBytes, subRoutes, PlanTemplates.none());
  }

  public FeatureRoutes(ActorSystem<?> system, FeatureService features, long maxBodyBytes, List<FeatureSubRoutes> subRoutes,
      PlanTemplates templates) {
    super(system, maxBodyBytes);
    this.features = features;
    this.subRoutes = List.copyOf(subRoutes);
    this.templates = templates;
  }

  public Route route(Caller caller) {
    return concat(
        path("plan-templates", () -> get(() -> completeJson(StatusCodes.OK, new PlanTemplateList(templates.all())))),
        features(caller));
  }

  /** {@code GET /api/v1/plan-templates}: the operator's named plans, by name. */
  public record PlanTemplateList(java.util.Map<String, Plan> templates) {}

  private Route features(Caller caller) {
    return pathPrefix("features", () -> concat(
        pathEndOrSingleSlash(() -> concat(
            get(() -> parameterOptional("status", status -> list(status))),
            post(() -> requireRole(caller, Role.AGENT, () -> create(caller))))),
        pathPrefix(PathMatchers.segment(), id -> !FeatureId.isValid(id)
            ? complete(dev.warden.http.Problems.of(Rejection.notFound("no feature '" + id + "' (feature ids are slugs)")))
            : concat(
            subRoutes(caller, id),
            pathEnd(() -> concat(
                get(() -> onSuccess(features.get(id), this::ok)),
                delete(() -> requireRole(caller, Role.APPROVER, () -> optionalBody(body ->
                    onSuccess(features.abandon(id, reason(body), caller), this::ok)))))),
            path("pause", () -> post(() -> requireRole(caller, Role.AGENT, () -> optionalBody(body ->
                onSuccess(features.pause(id, reason(body), caller), this::ok))))),
            path("resume", () -> post(() -> requireRole(caller, Role.AGENT, () -> optionalBody(body -> {
              body.onlyKeys(java.util.Set.of()); // no body, or {}: anything else is refused, as on every route
              return onSuccess(features.resume(id, caller), this::ok);
            })))),
            path("plan", () -> concat(
                get(() -> onSuccess(features.get(id), feature -> completeJson(StatusCodes.OK, feature.plan()))),
                put(() -> requireRole(caller, Role.APPROVER, () -> bodyText(text -> {
                  Plan plan = FeatureJson.planBody(JsonFields.parseObject(mapper, text, false));
                  return onSuccess(features.changePlan(id, plan, caller), this::ok);
                })))))))));
  }

  private Route subRoutes(Caller caller, String id) {
    return subRoutes.stream().map(r -> r.route(caller, id)).reduce(Route::orElse).orElse(reject());
  }

  private Route list(Optional<String> status) {
    Optional<FeatureStatus> filter = status.map(label -> FeatureStatus.fromLabel(label)
        .orElseThrow(() -> Rejection.invalid("status", "'" + label + "' is not a feature status")));
    return onSuccess(features.list(filter), list -> completeJson(StatusCodes.OK, FeatureJson.FeatureList.fromDomain(list)));
  }

  private Route create(Caller caller) {
    return bodyText(text -> {
      FeatureService.NewFeature request = FeatureJson.newFeature(JsonFields.parseObject(mapper, text, false), templates,
          caller.role().includes(Role.APPROVER));
      return onSuccess(features.create(request, caller), feature ->
          respondWithHeader(Location.create("/api/v1/features/" + feature.id()), () ->
              completeJson(StatusCodes.CREATED, FeatureJson.FeatureView.fromDomain(feature))));
    });
  }

  /** The optional reason of pause and abandon, within warden.http.max-text-bytes. */
  private java.util.Optional<String> reason(JsonFields body) {
    return FeatureJson.reason(body).map(reason -> limitedText("reason", reason));
  }

  private Route optionalBody(java.util.function.Function<JsonFields, Route> inner) {
    return bodyText(text -> inner.apply(JsonFields.parseObject(mapper, text, true)));
  }

  private Route ok(Feature.FeatureSummary feature) {
    return completeJson(StatusCodes.OK, FeatureJson.FeatureView.fromDomain(feature));
  }
}
