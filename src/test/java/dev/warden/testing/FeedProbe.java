package dev.warden.testing;

import akka.Done;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AskPattern;
import akka.persistence.typed.PersistenceId;
import akka.persistence.typed.javadsl.CommandHandler;
import akka.persistence.typed.javadsl.EventHandler;
import akka.persistence.typed.javadsl.EventSourcedBehavior;
import dev.warden.CborSerializable;
import dev.warden.FeedTags;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A test-only event-sourced entity inside a running daemon, tagged for the feed like every Warden
 * entity, to put many events into the real journal quickly. Its events show on the feed as
 * {@code probe.noted} (the catalog's generic rule), with {@code writer}, {@code n} and {@code note}.
 */
public final class FeedProbe extends EventSourcedBehavior<FeedProbe.Write, FeedProbe.ProbeNoted, Integer> {

  /** Persist {@code count} events in one write, numbered on from the last. */
  public record Write(int count, ActorRef<Done> replyTo) implements CborSerializable {}

  public record ProbeNoted(String featureId, int writer, int n, String note) implements CborSerializable {}

  private final String featureId;
  private final int writer;
  private final String note;

  private FeedProbe(String featureId, int writer, String note) {
    super(PersistenceId.of("FeedProbe", featureId + "-" + writer));
    this.featureId = featureId;
    this.writer = writer;
    this.note = note;
  }

  /** Starts writer {@code writer} of feature {@code featureId} in the daemon's actor system. */
  public static ActorRef<Write> start(ActorSystem<?> system, String featureId, int writer, String note) {
    Behavior<Write> behavior = new FeedProbe(featureId, writer, note);
    // the daemon's guardian spawns nothing on request: a system actor it is
    return system.systemActorOf(behavior, "feed-probe-" + featureId + "-" + writer, akka.actor.typed.Props.empty());
  }

  /** Writes {@code count} events and waits until they are in the journal. */
  public static void write(ActorSystem<?> system, ActorRef<Write> probe, int count) {
    AskPattern.<Write, Done>ask(probe, replyTo -> new Write(count, replyTo), Duration.ofSeconds(30), system.scheduler())
        .toCompletableFuture().join();
  }

  @Override
  public Integer emptyState() {
    return 0;
  }

  @Override
  public CommandHandler<Write, ProbeNoted, Integer> commandHandler() {
    return newCommandHandlerBuilder().forAnyState().onCommand(Write.class, (state, write) -> {
      List<ProbeNoted> events = new ArrayList<>();
      for (int i = 1; i <= write.count(); i++) {
        events.add(new ProbeNoted(featureId, writer, state + i, note));
      }
      return Effect().persist(events).thenRun(s -> write.replyTo().tell(Done.getInstance()));
    }).build();
  }

  @Override
  public EventHandler<Integer, ProbeNoted> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onEvent(ProbeNoted.class, (state, event) -> event.n()).build();
  }

  @Override
  public Set<String> tagsFor(ProbeNoted event) {
    return Set.of(FeedTags.ALL);
  }
}
