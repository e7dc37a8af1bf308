package dev.warden.checkpoint;

import akka.actor.typed.ActorSystem;
import akka.persistence.query.PersistenceQuery;
import akka.persistence.query.javadsl.CurrentEventsByPersistenceIdQuery;
import akka.stream.javadsl.Sink;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionStage;

/**
 * Checkpoint records older than the ones a chain keeps in its state ({@link CheckpointsState.Started#recent}),
 * read back from the chain's own events in the journal ({@link Checkpoints.CheckpointTaken} carries the
 * whole record). Checkpoint {@code k} is at least the chain's event {@code k + 1} (its ChainStarted
 * comes first), so a read of checkpoints from {@code k} on scans the chain's events from event
 * {@code k}; only reads of old checkpoints (the listing's first pages, a get, diff or compare of an
 * old one, a rollback to one) come here.
 */
final class CheckpointJournal {

  private final ActorSystem<?> system;
  private final String readJournalId;

  /** @param readJournalId the read journal plugin of the journal the entity writes to. */
  CheckpointJournal(ActorSystem<?> system, String readJournalId) {
    this.system = system;
    this.readJournalId = readJournalId;
  }

  /** The records numbered {@code from} to {@code to} (both included), oldest first. */
  CompletionStage<List<Checkpoints.CheckpointRecord>> range(String persistenceId, long from, long to) {
    return read(persistenceId, from, to, seq -> seq >= from);
  }

  /** The records numbered {@code seqs}, oldest first (those that exist). */
  CompletionStage<List<Checkpoints.CheckpointRecord>> only(String persistenceId, Set<Long> seqs) {
    long first = seqs.stream().mapToLong(Long::longValue).min().orElse(1);
    long last = seqs.stream().mapToLong(Long::longValue).max().orElse(0);
    return read(persistenceId, first, last, seqs::contains);
  }

  private CompletionStage<List<Checkpoints.CheckpointRecord>> read(String persistenceId, long from, long upTo,
      java.util.function.LongPredicate wanted) {
    CurrentEventsByPersistenceIdQuery journal = PersistenceQuery.get(system)
        .getReadJournalFor(CurrentEventsByPersistenceIdQuery.class, readJournalId);
    return journal.currentEventsByPersistenceId(persistenceId, Math.max(1L, from), Long.MAX_VALUE)
        .map(envelope -> envelope.event())
        .filter(event -> event instanceof Checkpoints.CheckpointTaken)
        .map(event -> ((Checkpoints.CheckpointTaken) event).checkpoint())
        .takeWhile(record -> record.seq() <= upTo)
        .filter(record -> wanted.test(record.seq()))
        .runWith(Sink.seq(), system);
  }
}
