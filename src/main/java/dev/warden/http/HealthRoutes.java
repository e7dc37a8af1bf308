package dev.warden.http;

import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Adapter;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import akka.management.HealthCheckSettings;
import akka.management.javadsl.CheckResult;
import akka.management.javadsl.HealthChecks;
import akka.http.javadsl.marshallers.jackson.Jackson;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * {@code GET /health/alive} and {@code GET /health/ready} on the main port, no token needed. Backed by
 * akka-management's configured checks (cluster membership Up, database reachable), plus: a daemon
 * that is shutting down is not ready.
 */
public final class HealthRoutes extends AllDirectives {

  private final HealthChecks checks;
  private final CoordinatedShutdown shutdown;
  private final ObjectMapper mapper;
  private final Supplier<WatchFigures> watch;
  private final dev.warden.metrics.WardenMetrics metrics;

  /**
   * What the file watcher reports, read on every health request and metrics scrape. The watcher's
   * package sits above this one: it hands its figures in as {@code watch}, so http never imports it.
   */
  public record WatchFigures(int features, int watchedDirectories, long overflows, long failedRegistrations,
      List<String> degradedFeatures) {}

  public HealthRoutes(ActorSystem<?> system, Supplier<WatchFigures> watch) {
    this.watch = watch;
    this.metrics = dev.warden.metrics.WardenMetrics.get(system);
    var registry = metrics.registry();
    io.micrometer.core.instrument.Gauge.builder("warden_watched_directories", watch, w -> w.get().watchedDirectories())
        .strongReference(true).register(registry);
    io.micrometer.core.instrument.Gauge.builder("warden_watch_overflows", watch, w -> w.get().overflows())
        .description("Times a feature was told file events were lost (each answered by a full scan)").strongReference(true)
        .register(registry);
    io.micrometer.core.instrument.Gauge.builder("warden_watch_failed_registrations", watch, w -> w.get().failedRegistrations())
        .strongReference(true).register(registry);
    io.micrometer.core.instrument.Gauge.builder("warden_watch_degraded_features", watch, w -> w.get().degradedFeatures().size())
        .strongReference(true).register(registry);
    akka.actor.ActorSystem classic = Adapter.toClassic(system);
    this.checks = new HealthChecks(
        (akka.actor.ExtendedActorSystem) classic,
        HealthCheckSettings.create(system.settings().config().getConfig("akka.management.health-checks")));
    this.shutdown = CoordinatedShutdown.get(classic);
    this.mapper = ApiDirectives.apiMapper(system);
  }

  public Route route() {
    return concat(
        pathPrefix("health", () -> concat(
            path("alive", () -> get(() -> respond(checks.aliveResult()))),
            path("ready", () -> get(() -> respond(readiness()))))),
        path("metrics", () -> get(() -> complete(akka.http.javadsl.model.HttpResponse.create().withEntity(
            akka.http.javadsl.model.HttpEntities.create(akka.http.javadsl.model.ContentTypes.TEXT_PLAIN_UTF8, metrics.scrape()))))));
  }

  private CompletionStage<CheckResult> readiness() {
    if (shutdown.getShutdownReason().isPresent()) {
      return CompletableFuture.completedFuture(new CheckResult(scala.util.Left.apply("shutting down")));
    }
    return checks.readyResult();
  }

  private Route respond(CompletionStage<CheckResult> result) {
    return onSuccess(result, check -> {
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("status", check.isSuccess() ? "ok" : "unavailable");
      check.failure().ifPresent(reason -> body.put("reason", reason));
      // lost file events are not a reason to stop serving, but an operator must see them
      var watch = this.watch.get();
      body.put("watch", Map.of(
          "features", watch.features(),
          "watchedDirectories", watch.watchedDirectories(),
          "overflows", watch.overflows(),
          "failedRegistrations", watch.failedRegistrations(),
          "degradedFeatures", watch.degradedFeatures()));
      return complete(check.isSuccess() ? StatusCodes.OK : StatusCodes.SERVICE_UNAVAILABLE, body, Jackson.marshaller(mapper));
    });
  }
}
