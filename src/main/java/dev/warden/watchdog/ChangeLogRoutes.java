package dev.warden.watchdog;

import akka.actor.typed.ActorSystem;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.Route;
import akka.persistence.jdbc.query.javadsl.JdbcReadJournal;
import akka.persistence.query.PersistenceQuery;
import akka.stream.javadsl.Sink;
import dev.warden.auth.Caller;
import dev.warden.feature.FeatureService;
import dev.warden.feature.FeatureSubRoutes;
import dev.warden.http.ApiDirectives;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * {@code GET /api/v1/features/{id}/changes?since=&limit=}: the continuous file-change log, read from
 * the journal. Each batch has a sequence number; pass the last one seen as {@code since} to continue.
 * Violations and lost-event notices are in the same log.
 */
public final class ChangeLogRoutes extends ApiDirectives implements FeatureSubRoutes {

  private static final int DEFAULT_LIMIT = 100;
  private static final int MAX_LIMIT = 1000;

  private final ActorSystem<?> system;
  private final FeatureService features;
  private final JdbcReadJournal journal;

  public ChangeLogRoutes(ActorSystem<?> system, FeatureService features, long maxBodyBytes) {
    super(system, maxBodyBytes);
    this.system = system;
    this.features = features;
    this.journal = PersistenceQuery.get(system).getReadJournalFor(JdbcReadJournal.class, JdbcReadJournal.Identifier());
  }

  @Override
  public Route route(Caller caller, String id) {
    return path("changes", () -> get(() -> parameterOptional("since", since -> parameterOptional("limit", limit -> {
      long from = numberParam("since", since, 0, Long.MAX_VALUE - 1);
      long max = numberParam("limit", limit, DEFAULT_LIMIT, MAX_LIMIT);
      return onSuccess(features.get(id).thenCompose(feature -> journal
              .currentEventsByPersistenceId(Watchdog.ENTITY_KEY.name() + "|" + id, from + 1, Long.MAX_VALUE)
              .map(envelope -> entry(envelope.sequenceNr(), envelope.event()))
              .filter(Optional::isPresent)
              .map(Optional::get)
              .take(max)
              .runWith(Sink.seq(), system)),
          entries -> completeJson(StatusCodes.OK, new ChangeLog(entries,
              entries.isEmpty() ? from : entries.get(entries.size() - 1).seq())));
    }))));
  }

  private static Optional<Entry> entry(long seq, Object event) {
    if (event instanceof Watchdog.ChangesRecorded c) {
      return Optional.of(new Entry(seq, "changes", c.at(), c.changes(), c.truncated(), c.fullScan(), List.of(), null));
    }
    if (event instanceof Watchdog.ViolationsDetected v) {
      return Optional.of(new Entry(seq, "violations", v.at(), List.of(), false, false, v.violations(), null));
    }
    if (event instanceof Watchdog.WatchDegraded d) {
      return Optional.of(new Entry(seq, "degraded", d.at(), List.of(), false, true, List.of(), d.reason()));
    }
    return Optional.empty();
  }

  /** One entry of the change log. */
  public record Entry(long seq, String type, Instant at, List<Watchdog.RecordedChange> changes, boolean truncated,
      boolean fullScan, List<Watchdog.ViolationRecord> violations, String reason) {}

  public record ChangeLog(List<Entry> entries, long next) {}
}
