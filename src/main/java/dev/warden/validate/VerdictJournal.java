package dev.warden.validate;

import akka.actor.typed.ActorSystem;
import akka.persistence.query.EventEnvelope;
import akka.persistence.query.PersistenceQuery;
import akka.persistence.query.javadsl.CurrentEventsByPersistenceIdQuery;
import dev.warden.validate.Validator.VerdictRecord;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * A checkpoint's verdict read back from the validator's own journal: the verdicts the validator no longer
 * keeps in its state (all but the latest and those under way). Its events are folded with the entity's own
 * pure handlers ({@link ValidatorStates#fold}), so the answer is the verdict the entity held. The read goes
 * through the whole persistence id once (events are never deleted); it is how an older checkpoint's
 * {@code GET .../validation} is answered, not the path of any decision.
 */
final class VerdictJournal {

  private final ActorSystem<?> system;
  private final String pluginId;
  private CurrentEventsByPersistenceIdQuery queries;

  VerdictJournal(ActorSystem<?> system, String pluginId) {
    this.system = system;
    this.pluginId = pluginId;
  }

  /** Checkpoint {@code seq}'s verdict as the events of {@code persistenceId} tell it; empty when they hold none. */
  CompletionStage<Optional<VerdictRecord>> verdict(String persistenceId, long seq) {
    return queries().currentEventsByPersistenceId(persistenceId, 0L, Long.MAX_VALUE)
        .map(EventEnvelope::event)
        .runFold(Optional.<VerdictRecord>empty(), (verdict, event) -> ValidatorStates.fold(verdict, seq, event), system);
  }

  private synchronized CurrentEventsByPersistenceIdQuery queries() {
    if (queries == null) {
      queries = PersistenceQuery.get(system).getReadJournalFor(CurrentEventsByPersistenceIdQuery.class, pluginId);
    }
    return queries;
  }
}
