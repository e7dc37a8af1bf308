package dev.warden.apply;

import akka.actor.typed.ActorSystem;
import akka.persistence.query.PersistenceQuery;
import akka.persistence.query.javadsl.CurrentEventsByPersistenceIdQuery;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * A done proposal the {@link Applier}'s state let go of, read back from the applier's own events in
 * the journal and folded with {@link ProposalEvents}: the same proposal the state held. Only asked for
 * such proposals (a get by id, or a decision refused because it is done, or an admin's revert).
 */
final class ProposalHistory {

  private final ActorSystem<?> system;
  private final String readJournalId;

  ProposalHistory(ActorSystem<?> system, String readJournalId) {
    this.system = system;
    this.readJournalId = readJournalId;
  }

  CompletionStage<Optional<Proposal>> read(String persistenceId, String proposalId) {
    CurrentEventsByPersistenceIdQuery journal = PersistenceQuery.get(system)
        .getReadJournalFor(CurrentEventsByPersistenceIdQuery.class, readJournalId);
    return journal.currentEventsByPersistenceId(persistenceId, 0L, Long.MAX_VALUE)
        .map(envelope -> envelope.event())
        .filter(event -> event instanceof Applier.Event e && e.proposalId().equals(proposalId))
        .runFold(Optional.<Proposal>empty(), (proposal, event) -> event instanceof Applier.ProposalCreated created
            ? Optional.of(Proposal.created(created.draft(), created.validation(), created.at()))
            : proposal.map(p -> ProposalEvents.apply(p, (Applier.Event) event)), system);
  }
}
