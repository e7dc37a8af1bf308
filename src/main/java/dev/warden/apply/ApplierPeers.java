package dev.warden.apply;

import akka.Done;
import dev.warden.validate.Validator;
import java.util.concurrent.CompletionStage;

/**
 * What a feature's {@link Applier} needs from the rest of Warden. The git work runs on a blocking
 * pool behind these stages; the entity only decides and records.
 */
public interface ApplierPeers {

  /** The validator's verdict of checkpoint {@code seq} as it stands now. */
  CompletionStage<Validator.Lookup> verdict(long seq);

  /** Lands an approved proposal (or finds that an earlier run of the daemon already did). */
  CompletionStage<Landing.Outcome> land(Proposal.Draft draft);

  /**
   * A cheap fingerprint of a user's working tree that blocked a landing ({@code paths}: the landed
   * paths with local changes there): when it changes, the landing is tried again.
   */
  default CompletionStage<String> worktreeFingerprint(String worktree, java.util.List<String> paths) {
    return java.util.concurrent.CompletableFuture.completedFuture("");
  }

  /** Takes an applied proposal back out with a revert commit, after the tests pass on the result. */
  CompletionStage<Landing.Outcome> revert(Proposal.Draft draft, String appliedCommit, String by, String reason);

  /**
   * Brings the feature in line with how its proposal ended: applied or rejected end the feature
   * (watchers stopped, worktree and branch removed; checkpoint refs kept), the others send it back
   * to work. Repeating it is harmless.
   */
  CompletionStage<Done> settleFeature(Proposal proposal);

  /** A line for the feature's agent, if one is connected. */
  void tellAgent(String text);
}
