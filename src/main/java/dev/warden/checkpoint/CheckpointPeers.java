package dev.warden.checkpoint;

import dev.warden.agent.AgentLink;
import dev.warden.plan.Trigger;
import java.util.concurrent.CompletionStage;

/** Who the checkpoint chain of one feature talks to: the agent (through its link) and the feature. */
public interface CheckpointPeers {

  /** Asks the agent to pause; completes with whether it acknowledged, never exceptionally. */
  CompletionStage<AgentLink.PauseOutcome> pauseAgent(String reason);

  void resumeAgent();

  /** Sends a ready-made protocol message to the agent, if one is connected. */
  void notifyAgent(String json);

  /** Puts the feature in needs_attention with a reason. */
  void escalate(String reason);

  /**
   * The plan's {@code maxFileBytes} (empty: the plan sets none), asked before each capture; the capture
   * reads no file larger than it (nor than {@code warden.checkpoint.max-file-bytes}). A failed answer
   * leaves only the setting's cap.
   */
  default CompletionStage<java.util.Optional<Long>> planMaxFileBytes() {
    return java.util.concurrent.CompletableFuture.completedFuture(java.util.Optional.empty());
  }

  /** A checkpoint was recorded: have it validated. */
  void validate(Checkpoints.ChainSetup setup, long seq, String commit, Trigger trigger);
}
