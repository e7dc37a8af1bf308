package dev.warden.daemon;

import akka.Done;
import akka.actor.typed.ActorSystem;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import dev.warden.agent.AgentLink;
import dev.warden.agent.AgentMessage;
import dev.warden.apply.ApplierPeers;
import dev.warden.apply.Landing;
import dev.warden.apply.Proposal;
import dev.warden.apply.ProposalStatus;
import dev.warden.feature.Feature;
import dev.warden.feature.FeatureService;
import dev.warden.validate.Validator;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/** How each feature's {@link dev.warden.apply.Applier} reaches the validator, git, the feature and the agent. */
final class ApplierWiring implements Function<String, ApplierPeers> {

  private final ActorSystem<?> system;
  private final ClusterSharding sharding;
  private final FeatureService features;
  private final Landing landing;
  private final Duration askTimeout;

  ApplierWiring(ActorSystem<?> system, FeatureService features, Landing landing, Duration askTimeout) {
    this.system = system;
    this.sharding = ClusterSharding.get(system);
    this.features = features;
    this.landing = landing;
    this.askTimeout = askTimeout;
  }

  @Override
  public ApplierPeers apply(String featureId) {
    return new ApplierPeers() {
      @Override
      public CompletionStage<Validator.Lookup> verdict(long seq) {
        return sharding.entityRefFor(Validator.ENTITY_KEY, featureId).ask(replyTo -> new Validator.GetVerdict(seq, replyTo), askTimeout);
      }

      /**
       * A landing an earlier run made is recorded whatever happened since; a new one is never made
       * for a feature that ended meanwhile (abandoned, with a crash before its proposal was
       * withdrawn). A feature that does not answer in time is taken as live: the withdrawal at
       * abandonment is the first line, this check the second.
       */
      @Override
      public CompletionStage<Landing.Outcome> land(Proposal.Draft draft) {
        return landing.earlier(draft).thenCompose(found -> found.isPresent() ? CompletableFuture.completedFuture(found.get())
            : sharding.entityRefFor(Feature.ENTITY_KEY, featureId).<Feature.Reply>ask(Feature.Get::new, askTimeout)
                .exceptionally(failure -> null)
                .thenCompose(reply -> {
                  if (reply instanceof Feature.Accepted accepted && accepted.feature().status().isTerminal()) {
                    throw new IllegalStateException("feature '" + featureId + "' is " + accepted.feature().status().label()
                        + "; its work is not landed");
                  }
                  return landing.merge(draft);
                }));
      }

      @Override
      public CompletionStage<String> worktreeFingerprint(String worktree, java.util.List<String> paths) {
        return landing.fingerprint(worktree, paths);
      }

      @Override
      public CompletionStage<Landing.Outcome> revert(Proposal.Draft draft, String appliedCommit, String by, String reason) {
        return landing.revert(draft, appliedCommit, by, reason);
      }

      @Override
      public CompletionStage<Done> settleFeature(Proposal proposal) {
        Feature.ProposalEnd end = proposal.status() == ProposalStatus.APPLIED ? Feature.ProposalEnd.APPLIED
            : proposal.status() == ProposalStatus.REJECTED ? Feature.ProposalEnd.REJECTED : Feature.ProposalEnd.RETURNED;
        String by = proposal.decisions().isEmpty() ? "warden" : proposal.decisions().get(proposal.decisions().size() - 1).by();
        return features.settleProposal(featureId, proposal.id(), end, reasonOf(proposal), by).thenApply(feature -> Done.getInstance());
      }

      @Override
      public void tellAgent(String text) {
        sharding.entityRefFor(AgentLink.ENTITY_KEY, featureId).tell(new AgentLink.Notify(AgentMessage.text(text)));
      }
    };
  }

  private static String reasonOf(Proposal p) {
    return switch (p.status()) {
      case APPLIED -> "proposal " + p.id() + " applied to " + p.draft().target() + " as "
          + p.apply().flatMap(Proposal.ApplyRecord::commit).orElse("?");
      case REJECTED -> "proposal " + p.id() + " rejected: "
          + p.decisions().stream().filter(d -> d.decision().equals("reject")).reduce((a, b) -> b).flatMap(Proposal.Decision::reason).orElse("");
      case FAILED -> "proposal " + p.id() + " failed: "
          + p.apply().flatMap(Proposal.ApplyRecord::error).or(p::note).orElse("unknown reason");
      case EXPIRED -> "proposal " + p.id() + " expired without a decision";
      case STALE -> "proposal " + p.id() + " went stale: a newer checkpoint replaced it";
      case WITHDRAWN -> "proposal " + p.id() + " "
          + p.decisions().stream().filter(d -> d.decision().equals("withdraw")).reduce((a, b) -> b).flatMap(Proposal.Decision::reason).orElse("withdrawn");
      default -> "proposal " + p.id() + " is " + p.status().label();
    };
  }
}
