package dev.warden.feature;

import akka.Done;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * What runs beside a live feature — its watchdog, checkpoint chain and agent link. The Feature
 * entity starts them when it is registered or recovered, holds the agent paused while an operator
 * pause lasts, and {@link FeatureService} finishes them (final checkpoint, stop) before a worktree
 * is removed. Implemented in the daemon wiring; {@link #NONE} runs nothing (entity tests).
 */
public interface FeatureRuntime {

  /** The feature is live: make sure its watchdog, checkpoints and agent link run. Idempotent. */
  void start(Feature.FeatureSummary feature);

  /** An operator paused ({@code paused=true}) or resumed the feature. */
  void hold(String featureId, boolean paused);

  /** The feature ended: take a final checkpoint, stop watching, disconnect the agent. */
  CompletionStage<Done> finish(Feature.FeatureSummary feature, String reason);

  FeatureRuntime NONE = new FeatureRuntime() {
    @Override
    public void start(Feature.FeatureSummary feature) {}

    @Override
    public void hold(String featureId, boolean paused) {}

    @Override
    public CompletionStage<Done> finish(Feature.FeatureSummary feature, String reason) {
      return CompletableFuture.completedFuture(Done.getInstance());
    }
  };
}
