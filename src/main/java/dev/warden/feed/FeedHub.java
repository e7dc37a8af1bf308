package dev.warden.feed;

import akka.NotUsed;
import akka.actor.typed.ActorSystem;
import akka.persistence.jdbc.query.javadsl.JdbcReadJournal;
import akka.persistence.query.EventEnvelope;
import akka.persistence.query.Offset;
import akka.persistence.query.PersistenceQuery;
import akka.persistence.query.Sequence;
import akka.stream.RestartSettings;
import akka.stream.javadsl.BroadcastHub;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.RestartSource;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import dev.warden.FeedTags;
import dev.warden.metrics.WardenMetrics;
import dev.warden.persistence.JournalDatabase;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's one reader of the activity feed: {@code eventsByTag(FeedTags.ALL)} on the JDBC read
 * journal, from the journal's newest offset at start, each event rendered once by the
 * {@link FeedCatalog} and fanned out, a poll's events as one element ({@link Bursts}), through a
 * {@code BroadcastHub} to every subscriber. A drain keeps
 * the hub moving when nobody listens; subscribers never backpressure it (see {@link FeedSubscription}).
 * A failed journal query (database down) restarts the reader with backoff from the last offset it
 * emitted, so the chain of {@link FeedItem#previous} offsets stays unbroken. Lives as long as the
 * actor system.
 */
public final class FeedHub {

  private static final Logger log = LoggerFactory.getLogger(FeedHub.class);
  /** Events per hub element at most (a poll brings up to jdbc-read-journal.max-buffer-size, 500). */
  private static final int MAX_BATCH = 512;

  private final ActorSystem<?> system;
  private final FeedSettings settings;
  private final FeedCatalog catalog;
  private final JdbcReadJournal journal;
  private final Source<List<FeedItem>, NotUsed> live;
  private final AtomicLong lastOffset = new AtomicLong(-1);
  private final AtomicInteger subscribers = new AtomicInteger();
  private final Counter lagged;
  private final Counter events;
  private final FeedSubscription.Listener listener;

  private FeedHub(ActorSystem<?> system, FeedSettings settings, FeedCatalog catalog) {
    this.system = system;
    this.settings = settings;
    this.catalog = catalog;
    this.journal = PersistenceQuery.get(system).getReadJournalFor(JdbcReadJournal.class, JdbcReadJournal.Identifier());
    var registry = WardenMetrics.get(system).registry();
    Gauge.builder("warden_feed_subscribers", subscribers, AtomicInteger::get)
        .description("Live feed WebSockets open").register(registry);
    Gauge.builder("warden_feed_offset", lastOffset, AtomicLong::get)
        .description("Offset of the newest event the feed's journal reader has read").register(registry);
    this.lagged = Counter.builder("warden_feed_lagged_total")
        .description("Feed subscribers cut off with 'lagged' because they fell behind").register(registry);
    this.events = Counter.builder("warden_feed_events_total")
        .description("Events the feed's journal reader has read and fanned out").register(registry);
    this.listener = new FeedSubscription.Listener() {
      @Override
      public void started() {
        subscribers.incrementAndGet();
      }

      @Override
      public void lagged() {
        lagged.increment();
      }

      @Override
      public void stopped() {
        subscribers.decrementAndGet();
      }
    };

    RestartSettings restart = RestartSettings.create(settings.restartMinBackoff(), settings.restartMaxBackoff(), 0.2);
    Source<FeedItem, NotUsed> reader = RestartSource.withBackoff(restart, () ->
        Source.completionStage(startOffset(system))
            .flatMapConcat(from -> {
              log.info("feed: reading the journal after offset {}", from);
              return journal.eventsByTag(FeedTags.ALL, Offset.sequence(from));
            })
            .filter(envelope -> offsetOf(envelope) > lastOffset.get())
            .map(envelope -> {
              long offset = offsetOf(envelope);
              long previous = lastOffset.getAndSet(offset);
              events.increment();
              return item(envelope, previous);
            }));
    @SuppressWarnings("unchecked")
    Class<List<FeedItem>> batches = (Class<List<FeedItem>>) (Class<?>) List.class;
    this.live = reader
        .via(new Bursts<>(MAX_BATCH))
        .toMat(BroadcastHub.of(batches, settings.hubBuffer()), Keep.right())
        .run(system);
    // nobody listening must not stop the reader (a waiting hub would hand stale items to the next subscriber)
    live.runWith(Sink.ignore(), system);
  }

  /** Starts the reader and the hub. */
  public static FeedHub start(ActorSystem<?> system, FeedSettings settings, FeedCatalog catalog) {
    return new FeedHub(system, settings, catalog);
  }

  /** From the journal's newest offset at the first start; after a failure, from the last offset emitted. */
  private CompletionStage<Long> startOffset(ActorSystem<?> system) {
    long last = lastOffset.get();
    if (last >= 0) {
      return java.util.concurrent.CompletableFuture.completedFuture(last);
    }
    return JournalDatabase.get(system).maxOrdering().thenApply(max -> {
      lastOffset.compareAndSet(-1, max);
      return lastOffset.get();
    });
  }

  public FeedCatalog catalog() {
    return catalog;
  }

  public FeedSettings settings() {
    return settings;
  }

  /**
   * The JSON texts one subscriber is sent: a replay when {@code query} has {@code since}, then live
   * events, filtered; {@code lagged} and the end when it falls behind; a {@code ping} after
   * {@code keep-alive} without anything to send.
   */
  public Source<String, NotUsed> subscribe(FeedQuery query) {
    return live
        .via(new FeedSubscription(query, this::replay, settings.replayBatch(), settings.subscriberBuffer(),
            this::laggedMessage, listener))
        .keepAlive(settings.keepAlive(), this::pingMessage);
  }

  /** Up to {@code limit} events after {@code after}, straight from the journal. */
  CompletionStage<List<FeedItem>> replay(long after, int limit) {
    return journal.currentEventsByTag(FeedTags.ALL, Offset.sequence(after))
        .take(limit)
        .map(envelope -> item(envelope, -1))
        .runWith(Sink.seq(), system);
  }

  private FeedItem item(EventEnvelope envelope, long previous) {
    long offset = offsetOf(envelope);
    FeedCatalog.Shown shown = catalog.show(envelope.persistenceId(), envelope.event());
    String json = catalog.render(offset, Instant.ofEpochMilli(envelope.timestamp()), shown);
    return new FeedItem(offset, previous, shown.feature(), shown.type(), json);
  }

  private static long offsetOf(EventEnvelope envelope) {
    return ((Sequence) envelope.offset()).value();
  }

  String laggedMessage(long resumeFrom) {
    return catalog.write(catalog.mapper().createObjectNode().put("type", "lagged").put("resumeFrom", resumeFrom));
  }

  private String pingMessage() {
    return catalog.write(catalog.mapper().createObjectNode().put("type", "ping").put("ts", Instant.now().toString()));
  }
}
