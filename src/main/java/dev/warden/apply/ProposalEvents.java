package dev.warden.apply;

import dev.warden.auth.Role;
import java.util.List;
import java.util.Optional;

/**
 * How each {@link Applier} event changes one proposal: pure, the same fold for the entity's event
 * handler, its look-ahead when deciding, the approvals view ({@link ApprovalIndex}) and a proposal read
 * back from the journal.
 */
final class ProposalEvents {

  private ProposalEvents() {}

  /** One proposal after {@code event}: the event handler's work, also used to look ahead when deciding. */
  static Proposal apply(Proposal p, Applier.Event event) {
    if (event instanceof Applier.ProposalValidated e) {
      return p.withValidation(e.verdict(), e.violations(), e.at());
    }
    if (event instanceof Applier.ApprovalGiven e) {
      return p.withDecision(new Proposal.Decision(e.bypass() ? "bypass" : "approve", e.by(), Optional.of(e.role()), e.reason(), e.at()));
    }
    if (event instanceof Applier.ProposalApproved e) {
      Proposal decided = e.by().equals(Applier.POLICY)
          ? p.withDecision(new Proposal.Decision("auto-approve", Applier.POLICY, Optional.empty(), Optional.of(e.reason()), e.at()))
          : p;
      return decided.with(ProposalStatus.APPROVED, e.at());
    }
    if (event instanceof Applier.ProposalRejected e) {
      return p.withDecision(new Proposal.Decision("reject", e.by(), Optional.empty(), Optional.of(e.reason()), e.at()))
          .with(ProposalStatus.REJECTED, e.at());
    }
    if (event instanceof Applier.ProposalWithdrawn e) {
      return p.withDecision(new Proposal.Decision("withdraw", e.by(), Optional.empty(), Optional.of(e.reason()), e.at()))
          .with(ProposalStatus.WITHDRAWN, e.at());
    }
    if (event instanceof Applier.ProposalExpired e) {
      return p.withDecision(new Proposal.Decision("expire", Applier.POLICY, Optional.empty(),
          Optional.of("no decision before " + p.draft().expiresAt()), e.at())).with(ProposalStatus.EXPIRED, e.at());
    }
    if (event instanceof Applier.ProposalWentStale e) {
      return p.withDecision(new Proposal.Decision("stale", Applier.POLICY, Optional.empty(),
          Optional.of("checkpoint " + e.newerCheckpoint() + " is newer"), e.at())).with(ProposalStatus.STALE, e.at());
    }
    if (event instanceof Applier.ApplyDeferred e) {
      return p.withNote(e.reason(), e.at());
    }
    if (event instanceof Applier.ProposalApplied e) {
      return p.withApply(new Proposal.ApplyRecord(Optional.of(e.targetBefore()), Optional.of(e.commit()), e.attempts(), e.tests(),
          Optional.empty(), List.of(), e.foundAfterRestart(), e.at())).with(ProposalStatus.APPLIED, e.at());
    }
    if (event instanceof Applier.ProposalFailed e) {
      Proposal failed = p.status() == ProposalStatus.APPROVED
          ? p.withApply(new Proposal.ApplyRecord(Optional.empty(), Optional.empty(), 0, e.tests(), Optional.of(e.reason()), e.conflicts(),
              false, e.at()))
          : p.withNote(e.reason(), e.at());
      return failed.with(ProposalStatus.FAILED, e.at());
    }
    if (event instanceof Applier.ProposalReverted e) {
      return p.withRevert(new Proposal.RevertRecord(e.revertCommit(), e.by(), e.reason(), e.tests(), e.at()))
          .withDecision(new Proposal.Decision("revert", e.by(), Optional.of(Role.ADMIN.label()), Optional.of(e.reason()), e.at()))
          .with(ProposalStatus.REVERTED, e.at());
    }
    if (event instanceof Applier.FeatureSettled) {
      return p.settled();
    }
    return p; // ProposalCreated: made by the event handler itself
  }
}
