package dev.warden.metrics;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.Extension;
import akka.actor.typed.ExtensionId;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;

/**
 * The daemon's Prometheus registry (one per actor system), served at {@code GET /metrics}. Actors
 * record through the named meters here so metric names are defined in one place.
 */
public final class WardenMetrics implements Extension {

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Timer capture;
  private final Counter quiesced;
  private final Counter unquiesced;
  private final Counter violations;
  private final Counter changeBatches;
  private final Counter ruleCacheHits;
  private final Counter ruleCacheMisses;
  private final Timer fastRules;

  private WardenMetrics() {
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    capture = Timer.builder("warden_checkpoint_capture").description("Time to snapshot a worktree into a checkpoint commit")
        .publishPercentiles(0.5, 0.95, 0.99).register(registry);
    quiesced = Counter.builder("warden_checkpoints_total").tag("quiesced", "true").register(registry);
    unquiesced = Counter.builder("warden_checkpoints_total").tag("quiesced", "false").register(registry);
    violations = Counter.builder("warden_violations_total").description("Violations the watchdog reported").register(registry);
    changeBatches = Counter.builder("warden_change_batches_total").description("Debounced change batches recorded").register(registry);
    ruleCacheHits = Counter.builder("warden_validation_cache_total").tag("result", "hit")
        .description("Per-file fast-rule results found in the cache (path, blob, plan version)").register(registry);
    ruleCacheMisses = Counter.builder("warden_validation_cache_total").tag("result", "miss").register(registry);
    fastRules = Timer.builder("warden_validation_fast_rules").description("Time to run the fast rules on one checkpoint")
        .publishPercentiles(0.5, 0.99).register(registry);
  }

  public MeterRegistry registry() {
    return registry;
  }

  public String scrape() {
    return registry.scrape();
  }

  public void checkpointTaken(Duration captureTime, boolean wasQuiesced) {
    capture.record(captureTime);
    (wasQuiesced ? quiesced : unquiesced).increment();
  }

  public void violationsReported(int count) {
    violations.increment(count);
  }

  public void changeBatchRecorded() {
    changeBatches.increment();
  }

  public void fastRulesRan(Duration elapsed, int cacheHits, int cacheMisses) {
    fastRules.record(elapsed);
    ruleCacheHits.increment(cacheHits);
    ruleCacheMisses.increment(cacheMisses);
  }

  public static WardenMetrics get(ActorSystem<?> system) {
    return Id.INSTANCE.apply(system);
  }

  private static final class Id extends ExtensionId<WardenMetrics> {
    static final Id INSTANCE = new Id();

    @Override
    public WardenMetrics createExtension(ActorSystem<?> system) {
      return new WardenMetrics();
    }
  }
}
