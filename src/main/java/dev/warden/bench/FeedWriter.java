package dev.warden.bench;

import akka.actor.typed.Behavior;
import akka.persistence.typed.PersistenceId;
import akka.persistence.typed.javadsl.CommandHandler;
import akka.persistence.typed.javadsl.EventHandler;
import akka.persistence.typed.javadsl.EventSourcedBehavior;
import dev.warden.CborSerializable;
import dev.warden.FeedTags;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** An event-sourced writer tagged for the feed like every Warden entity; {@code perWrite} events per tick, one write. */
final class FeedWriter extends EventSourcedBehavior<FeedWriter.Tick, FeedWriter.BenchTicked, Long> {

  /** The bench's event; the feed shows it as {@code bench.ticked} through the catalog's generic rule. */
  public record BenchTicked(String featureId, long n, long createdNanos) implements CborSerializable {}

  enum Tick { INSTANCE }

  private final FeedBench.Window window;
  private final int perWrite;

  private FeedWriter(int index, FeedBench.Window window, int perWrite) {
    super(PersistenceId.of("FeedBench", FeedBench.FEATURE + "-" + index));
    this.window = window;
    this.perWrite = perWrite;
  }

  static Behavior<Tick> create(int index, FeedBench.Window window, int perWrite) {
    return new FeedWriter(index, window, perWrite);
  }

  @Override
  public Long emptyState() {
    return 0L;
  }

  @Override
  public CommandHandler<Tick, BenchTicked, Long> commandHandler() {
    return newCommandHandlerBuilder().forAnyState().onCommand(Tick.class, (n, tick) -> {
      long now = System.nanoTime();
      if (window.contains(now)) {
        window.events.addAndGet(perWrite);
      }
      List<BenchTicked> events = new ArrayList<>();
      for (int i = 1; i <= perWrite; i++) {
        events.add(new BenchTicked(FeedBench.FEATURE, n + i, now));
      }
      return Effect().persist(events).thenRun(state -> {
        if (window.contains(now)) {
          window.written(System.nanoTime() - now);
        }
      });
    }).build();
  }

  @Override
  public EventHandler<Long, BenchTicked> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onEvent(BenchTicked.class, (n, event) -> event.n()).build();
  }

  @Override
  public Set<String> tagsFor(BenchTicked event) {
    return Set.of(FeedTags.ALL);
  }
}
