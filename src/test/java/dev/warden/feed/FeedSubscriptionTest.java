package dev.warden.feed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.stream.testkit.TestPublisher;
import akka.stream.testkit.TestSubscriber;
import akka.stream.testkit.javadsl.TestSink;
import akka.stream.testkit.javadsl.TestSource;
import akka.japi.Pair;
import com.typesafe.config.ConfigFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * One subscriber's stream on its own: the live hub played by a test publisher, the journal by a list.
 * What a client sees: every event once, in offset order, across the switch from replay to live; a
 * client that stops reading gets {@code lagged} with the offset to resume from, while the hub is
 * never held back.
 */
class FeedSubscriptionTest {

  private static final ActorTestKit testKit = ActorTestKit.create(ConfigFactory.parseString("akka.actor.provider = local"));

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  /** The journal: tagged events in offset order, possibly with holes in the offsets. */
  private static final class Journal implements FeedSubscription.Replay {
    final List<FeedItem> items = new CopyOnWriteArrayList<>();
    final java.util.concurrent.atomic.AtomicInteger queries = new java.util.concurrent.atomic.AtomicInteger();

    void append(long offset, String feature) {
      items.add(new FeedItem(offset, -1, feature, "test.event", "e" + offset));
    }

    @Override
    public CompletionStage<List<FeedItem>> after(long after, int limit) {
      queries.incrementAndGet();
      return CompletableFuture.supplyAsync(() -> items.stream().filter(i -> i.offset() > after).limit(limit).toList());
    }
  }

  /** One event from the hub (a poll that brought one). */
  private static List<FeedItem> live(long offset, long previous, String feature) {
    return List.of(new FeedItem(offset, previous, feature, "test.event", "e" + offset));
  }

  private record Probes(TestPublisher.Probe<List<FeedItem>> hub, TestSubscriber.Probe<String> client) {}

  private static Probes run(FeedQuery query, Journal journal, int replayBatch, int bufferSize) {
    Pair<TestPublisher.Probe<List<FeedItem>>, TestSubscriber.Probe<String>> pair = TestSource.<List<FeedItem>>probe(testKit.system().classicSystem())
        .via(new FeedSubscription(query, journal, replayBatch, bufferSize, resumeFrom -> "lagged:" + resumeFrom,
            FeedSubscription.Listener.NONE))
        .toMat(TestSink.probe(testKit.system().classicSystem()), Keep.both())
        .run(testKit.system());
    return new Probes(pair.first(), pair.second());
  }

  private static FeedQuery since(long offset) {
    return new FeedQuery(OptionalLong.of(offset), Optional.empty(), Set.of(), false);
  }

  private static List<String> expected(long from, long to) {
    return IntStream.rangeClosed((int) from, (int) to).mapToObj(i -> "e" + i).toList();
  }

  private static List<String> next(TestSubscriber.Probe<String> client, int n) {
    client.request(n);
    List<String> got = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      got.add(client.expectNext());
    }
    return got;
  }

  @Test
  void aReplayThatOverlapsTheLiveEventsDeliversEachOnce() {
    Journal journal = new Journal();
    IntStream.rangeClosed(1, 10).forEach(i -> journal.append(i, "f1"));
    Probes p = run(since(0), journal, 4, 100);
    // the hub already had 9 and 10 when the subscriber joined, and then 11
    p.hub().sendNext(live(9, 8, "f1")).sendNext(live(10, 9, "f1")).sendNext(live(11, 10, "f1"));
    journal.append(11, "f1");
    assertEquals(expected(1, 11), next(p.client(), 11));
    p.client().request(1);
    p.hub().sendNext(live(12, 11, "f1"));
    assertEquals("e12", p.client().expectNext());
  }

  @Test
  void anEventNeitherTheReplayNorTheHubDeliveredIsReadFromTheJournalBeforeGoingOn() {
    Journal journal = new Journal();
    IntStream.rangeClosed(1, 10).forEach(i -> journal.append(i, "f1"));
    Probes p = run(since(4), journal, 100, 100);
    assertEquals(expected(5, 10), next(p.client(), 6));
    // 11 was written after the replay read the journal, and the hub handed this subscriber 12 first
    journal.append(11, "f1");
    journal.append(12, "f1");
    p.hub().sendNext(live(12, 11, "f1"));
    assertEquals(List.of("e11", "e12"), next(p.client(), 2));
  }

  @Test
  void offsetsAreGlobalSoHolesBetweenTaggedEventsAreNoGap() {
    Journal journal = new Journal();
    journal.append(3, "f1");
    journal.append(7, "f1");
    Probes p = run(since(0), journal, 100, 100);
    assertEquals(List.of("e3", "e7"), next(p.client(), 2));
    p.hub().sendNext(live(20, 7, "f1"));
    assertEquals("e20", next(p.client(), 1).get(0));
    int queries = journal.queries.get();
    p.client().request(1);
    p.hub().sendNext(live(31, 20, "f1"));
    assertEquals("e31", p.client().expectNext());
    assertEquals(queries, journal.queries.get(), "live events that follow each other need no journal query");
  }

  @Test
  void aClientThatStopsReadingIsToldWhereToResumeAndTheHubIsNeverHeldBack() {
    Probes p = run(FeedQuery.live(), new Journal(), 100, 3);
    p.hub().sendNext(live(1, 0, "f1")).sendNext(live(2, 1, "f1"));
    assertEquals(List.of("e1", "e2"), next(p.client(), 2));
    // the client reads nothing more; the hub goes on, and the subscriber keeps asking it for more
    for (long offset = 3; offset <= 6; offset++) {
      p.hub().sendNext(live(offset, offset - 1, "f1")); // fails unless the subscriber asked for it
    }
    p.hub().expectCancellation();
    p.client().request(10);
    assertEquals("lagged:2", p.client().expectNext());
    p.client().expectComplete();
  }

  @Test
  void aLiveOnlyClientThatLagsBeforeItsFirstEventResumesBeforeIt() {
    Probes p = run(FeedQuery.live(), new Journal(), 100, 2);
    p.hub().sendNext(live(40, 33, "f1")).sendNext(live(41, 40, "f1")).sendNext(live(42, 41, "f1"));
    p.client().request(5);
    assertEquals("lagged:33", p.client().expectNext());
    p.client().expectComplete();
  }

  @Test
  void filteredOutEventsMoveTheResumePointOn() {
    FeedQuery onlyF2 = new FeedQuery(OptionalLong.empty(), Optional.of("f2"), Set.of(), false);
    Probes p = run(onlyF2, new Journal(), 100, 2);
    p.client().request(1);
    p.hub().sendNext(live(1, 0, "f1")).sendNext(live(2, 1, "f2"));
    assertEquals("e2", p.client().expectNext());
    // many events of another feature need no reading by this client
    for (long offset = 3; offset <= 50; offset++) {
      p.hub().sendNext(live(offset, offset - 1, "f1"));
    }
    p.hub().sendNext(live(51, 50, "f2")).sendNext(live(52, 51, "f2")).sendNext(live(53, 52, "f2"));
    p.client().request(5);
    assertEquals("lagged:50", p.client().expectNext());
    p.client().expectComplete();
  }

  @Test
  void aLongReplayIsPacedByTheClientAndNeverLags() {
    Journal journal = new Journal();
    IntStream.rangeClosed(1, 100).forEach(i -> journal.append(i, "f1"));
    Probes p = run(since(0), journal, 10, 2);
    List<String> got = new ArrayList<>(next(p.client(), 30));
    // while the client replays slowly, far more live events arrive than its buffer holds
    for (long offset = 101; offset <= 120; offset++) {
      journal.append(offset, "f1");
      p.hub().sendNext(live(offset, offset - 1, "f1"));
    }
    got.addAll(next(p.client(), 90));
    assertEquals(expected(1, 120), got);
    p.client().request(1);
    p.hub().sendNext(live(121, 120, "f1"));
    assertEquals("e121", p.client().expectNext());
  }

  @Test
  void aPollsEventsArriveTogetherAndAreSentOneByOne() {
    Journal journal = new Journal();
    IntStream.rangeClosed(1, 3).forEach(i -> journal.append(i, "f1"));
    Probes p = run(since(0), journal, 100, 100);
    p.hub().sendNext(List.of(new FeedItem(3, 2, "f1", "t.e", "e3"), new FeedItem(4, 3, "f1", "t.e", "e4"),
        new FeedItem(5, 4, "f1", "t.e", "e5")));
    assertEquals(expected(1, 5), next(p.client(), 5));
  }

  @Test
  void aBatchingClientGetsEverythingReadyAsOneMessageOfLinesWithNoGapAndNoDuplicate() {
    Journal journal = new Journal();
    IntStream.rangeClosed(1, 6).forEach(i -> journal.append(i, "f1"));
    Probes p = run(since(0).batched(true), journal, 4, 100);
    // the hub already had 5 and 6 when the subscriber joined; the replay's pages are sent as they come
    p.hub().sendNext(live(5, 4, "f1")).sendNext(live(6, 5, "f1"));
    assertEquals(List.of("e1\ne2\ne3\ne4", "e5\ne6"), next(p.client(), 2));
    // two polls while the client is busy: one message when it asks again, in offset order
    p.hub().sendNext(List.of(new FeedItem(7, 6, "f1", "t.e", "e7"), new FeedItem(8, 7, "f2", "t.e", "e8")));
    p.hub().sendNext(live(9, 8, "f1"));
    p.client().request(1);
    assertEquals("e7\ne8\ne9", p.client().expectNext());
    p.client().request(1);
    p.hub().sendNext(live(10, 9, "f1"));
    assertEquals("e10", p.client().expectNext());
  }

  @Test
  void aBatchedMessageCarriesAtMostFiveHundredEventsAndFiltersStillApply() {
    FeedQuery onlyF1 = new FeedQuery(OptionalLong.empty(), Optional.of("f1"), Set.of(), true);
    Probes p = run(onlyF1, new Journal(), 100, 5000);
    p.hub().sendNext(IntStream.rangeClosed(1, 2400)
        .mapToObj(i -> new FeedItem(i, i - 1, i % 2 == 0 ? "f2" : "f1", "t.e", "e" + i)).toList());
    List<String> messages = next(p.client(), 3);
    assertEquals(List.of(500, 500, 200), messages.stream().map(m -> m.split("\n").length).toList());
    List<String> lines = messages.stream().flatMap(m -> java.util.Arrays.stream(m.split("\n"))).toList();
    assertEquals(IntStream.rangeClosed(1, 2400).filter(i -> i % 2 == 1).mapToObj(i -> "e" + i).toList(), lines);
  }

  @Test
  void aPollBiggerThanTheBufferOfAClientThatIsNotReadingLagsIt() {
    Probes p = run(FeedQuery.live(), new Journal(), 100, 3);
    p.hub().sendNext(IntStream.rangeClosed(11, 15).mapToObj(i -> new FeedItem(i, i - 1, "f1", "t.e", "e" + i)).toList());
    p.hub().expectCancellation();
    p.client().request(5);
    assertEquals("lagged:10", p.client().expectNext());
    p.client().expectComplete();
  }

  @Test
  void burstsGroupWhatArrivesTogetherWithoutLosingOrReordering() throws Exception {
    List<Integer> numbers = IntStream.rangeClosed(1, 1000).boxed().toList();
    List<List<Integer>> batches = Source.from(numbers).via(new Bursts<Integer>(64))
        .runWith(Sink.seq(), testKit.system()).toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS);
    assertEquals(numbers, batches.stream().flatMap(List::stream).toList());
    assertTrue(batches.stream().allMatch(b -> !b.isEmpty() && b.size() <= 64), "1 to 64 per batch");
    assertTrue(batches.size() < numbers.size() / 4, "grouped: " + batches.size() + " batches");
  }

  @Test
  void theClientEndsWhenTheHubEnds() {
    Probes p = run(FeedQuery.live(), new Journal(), 100, 10);
    p.client().request(1);
    p.hub().sendComplete();
    p.client().expectComplete();
  }

  @Test
  void aSinceBeyondTheJournalWaitsForLiveEventsAfterIt() {
    Journal journal = new Journal();
    IntStream.rangeClosed(1, 5).forEach(i -> journal.append(i, "f1"));
    Probes p = run(since(5), journal, 100, 10);
    p.hub().sendNext(live(5, 4, "f1")).sendNext(live(6, 5, "f1")).sendNext(live(7, 6, "f1"));
    assertEquals(List.of("e6", "e7"), next(p.client(), 2));
  }
}
