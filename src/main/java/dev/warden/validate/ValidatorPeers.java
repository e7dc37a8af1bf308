package dev.warden.validate;

import dev.warden.plan.Plan;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/** Who a feature's validator talks to: the feature (its plan, escalation) and the agent. */
public interface ValidatorPeers {

  /** The feature's current plan. */
  CompletionStage<Plan> plan();

  /** The worktree's disk use as the watchdog counts it; empty when it is not watching. Never fails. */
  CompletionStage<java.util.OptionalLong> diskUsage();

  void notifyAgent(String json);

  /** A critical finding: pause the agent and put the feature in needs_attention. */
  void critical(String reason);

  /** The feature's latest checkpoint commit, or empty when it has none yet. */
  CompletionStage<Optional<String>> latestCheckpoint();

  /** Brings {@code paths} of the worktree to their content in {@code commit} and checkpoints it (trigger patch). */
  CompletionStage<dev.warden.checkpoint.Checkpoints.Outcome> promote(String commit, java.util.List<String> paths, String by);

  /** Restores {@code paths} to their content at checkpoint {@code to} (0: the base), with the agent paused. */
  CompletionStage<dev.warden.checkpoint.Checkpoints.Outcome> rollback(long to, java.util.List<String> paths, String by);
}
