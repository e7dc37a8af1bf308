package dev.warden.apply;

import dev.warden.CborSerializable;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The proposals decisions need, oldest first: every one that is open or not yet told to its feature,
 * and the newest {@value #DONE_KEPT} done ones; at most one is open. {@code made}: how many the
 * feature ever made (the next is numbered {@code made + 1}). Older done proposals are read back from
 * the journal when asked for ({@link ProposalHistory}), so the state does not grow with the history.
 */
public record ApplierState(Map<String, Proposal> proposals, int made) implements CborSerializable {

  /** How many done proposals (finished and told to the feature) the state keeps. */
  public static final int DONE_KEPT = 8;

  static ApplierState empty() {
    return new ApplierState(Map.of(), 0);
  }

  /** The state after {@code event}: the event handler's work. */
  ApplierState next(Applier.Event event) {
    if (event instanceof Applier.ProposalCreated e) {
      return new ApplierState(with(Proposal.created(e.draft(), e.validation(), e.at())).proposals(), made + 1).trimmed();
    }
    return update(event.proposalId(), p -> ProposalEvents.apply(p, event)).trimmed();
  }

  /** Finished, and the feature was told (or nothing is told: reverted). */
  static boolean done(Proposal p) {
    return !p.status().isOpen() && !Applier.needsSettling(p);
  }

  private ApplierState trimmed() {
    long done = proposals.values().stream().filter(ApplierState::done).count();
    if (done <= DONE_KEPT) {
      return this;
    }
    Map<String, Proposal> kept = new LinkedHashMap<>();
    long drop = done - DONE_KEPT;
    for (Proposal p : proposals.values()) {
      if (drop > 0 && done(p)) {
        drop--;
      } else {
        kept.put(p.id(), p);
      }
    }
    return new ApplierState(kept, made);
  }

  Optional<Proposal> get(String id) {
    return Optional.ofNullable(proposals.get(id));
  }

  Optional<Proposal> open() {
    return proposals.values().stream().filter(p -> p.status().isOpen()).findFirst();
  }

  ApplierState with(Proposal proposal) {
    Map<String, Proposal> next = new LinkedHashMap<>(proposals);
    next.put(proposal.id(), proposal);
    return new ApplierState(next, made);
  }

  ApplierState update(String id, Function<Proposal, Proposal> change) {
    Proposal current = proposals.get(id);
    return current == null ? this : with(change.apply(current));
  }
}
