package dev.warden.apply;

import dev.warden.plan.Tier;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** When a proposal is approved: the tier's rule, pure (design brief §2). */
final class ApprovalRule {

  private ApprovalRule() {}

  /**
   * The approval event when the tier's rule holds for {@code p} (valid, still proposed): low always,
   * medium with one approver, high with its number of distinct approvers, any tier after a bypass.
   */
  static Optional<Applier.Event> ruleMet(String featureId, Proposal p, Instant now) {
    if (p.status() != ProposalStatus.PROPOSED || !p.validation().equals(Proposal.VALID)) {
      return Optional.empty();
    }
    Tier tier = p.draft().tier();
    List<String> approvers = p.approvers();
    if (p.bypassed()) {
      Proposal.Decision bypass = p.decisions().stream().filter(d -> d.decision().equals("bypass")).reduce((a, b) -> b).orElseThrow();
      return Optional.of(new Applier.ProposalApproved(featureId, p.id(), bypass.by(), "bypass: " + bypass.reason().orElse(""), now));
    }
    if (tier == Tier.LOW) {
      return Optional.of(new Applier.ProposalApproved(featureId, p.id(), Applier.POLICY, "low tier: approved once its checkpoint is valid", now));
    }
    if (tier == Tier.MEDIUM && p.draft().reviewEndsAt().filter(end -> !now.isBefore(end)).isPresent()) {
      // the window ended while the verdict was still pending
      return Optional.of(new Applier.ProposalApproved(featureId, p.id(), Applier.POLICY, "medium tier: nobody rejected it within its review window", now));
    }
    if (!approvers.isEmpty() && approvers.size() >= Math.max(1, p.draft().requiredApprovals())) {
      return Optional.of(new Applier.ProposalApproved(featureId, p.id(), approvers.get(approvers.size() - 1),
          approvers.size() + " of " + Math.max(1, p.draft().requiredApprovals()) + " approver(s)", now));
    }
    return Optional.empty();
  }
}
