package dev.warden.apply;

import akka.NotUsed;
import akka.actor.typed.ActorSystem;
import akka.persistence.jdbc.query.javadsl.JdbcReadJournal;
import akka.persistence.query.EventEnvelope;
import akka.persistence.query.Offset;
import akka.persistence.query.PersistenceQuery;
import akka.stream.KillSwitches;
import akka.stream.RestartSettings;
import akka.stream.UniqueKillSwitch;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.RestartSource;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The approval queue as a query view: every proposal of every feature, folded from the journal's
 * {@value Applier#TAG} events with the applier's own event handler ({@link ProposalEvents#apply}), so
 * listing never starts an entity. Follows the journal live (the read journal's polling interval
 * behind the entities); a failed read is retried from the last offset. Finished proposals older
 * than the history retention are dropped from the view (the journal keeps them; each is still
 * readable by id from its entity).
 */
public final class ApprovalIndex {

  private static final Logger log = LoggerFactory.getLogger(ApprovalIndex.class);

  private final ConcurrentHashMap<String, Proposal> proposals = new ConcurrentHashMap<>();
  private final AtomicLong offset = new AtomicLong(0);
  private final Duration retention;
  private final UniqueKillSwitch killSwitch;

  public ApprovalIndex(ActorSystem<?> system, Duration retention) {
    this.retention = retention;
    JdbcReadJournal journal = PersistenceQuery.get(system).getReadJournalFor(JdbcReadJournal.class, JdbcReadJournal.Identifier());
    Source<EventEnvelope, NotUsed> events = RestartSource.withBackoff(
        RestartSettings.create(Duration.ofMillis(500), Duration.ofSeconds(10), 0.2),
        () -> journal.eventsByTag(Applier.TAG, Offset.sequence(offset.get())));
    this.killSwitch = events
        .viaMat(KillSwitches.single(), Keep.right())
        .to(Sink.foreach(this::fold))
        .run(system);
    system.getWhenTerminated().thenRun(killSwitch::shutdown);
  }

  private void fold(EventEnvelope envelope) {
    if (envelope.offset() instanceof akka.persistence.query.Sequence sequence) {
      offset.set(sequence.value());
    }
    if (!(envelope.event() instanceof Applier.Event event)) {
      return;
    }
    if (event instanceof Applier.ProposalCreated created) {
      proposals.putIfAbsent(created.draft().id(), Proposal.created(created.draft(), created.validation(), created.at()));
    } else {
      proposals.computeIfPresent(event.proposalId(), (id, p) -> ProposalEvents.apply(p, event));
    }
  }

  /** Proposals newest first, optionally in one status; finished ones past the retention left out. */
  public List<Proposal> list(Optional<ProposalStatus> status) {
    Instant cutoff = Instant.now().minus(retention);
    proposals.values().removeIf(p -> p.finishedBefore(cutoff));
    return proposals.values().stream()
        .filter(p -> status.map(s -> s == p.status()).orElse(true))
        .sorted(Comparator.comparing((Proposal p) -> p.draft().proposedAt()).reversed().thenComparing(Proposal::id))
        .toList();
  }

  void stop() {
    log.debug("approval index stopped at offset {}", offset.get());
    killSwitch.shutdown();
  }
}
