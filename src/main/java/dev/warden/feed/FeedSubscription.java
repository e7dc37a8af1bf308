package dev.warden.feed;

import akka.stream.Attributes;
import akka.stream.FlowShape;
import akka.stream.Inlet;
import akka.stream.Outlet;
import akka.stream.stage.AbstractInHandler;
import akka.stream.stage.AbstractOutHandler;
import akka.stream.stage.AsyncCallback;
import akka.stream.stage.GraphStage;
import akka.stream.stage.GraphStageLogic;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.function.LongFunction;

/**
 * One subscriber's view of the feed: from the live hub's items to the JSON texts it is sent.
 *
 * <p>The hub hands it the events of one journal poll at a time. It never backpressures the hub: every
 * live item is taken at once into a buffer of
 * {@code bufferSize}; a subscriber whose buffer overflows is sent {@code lagged} (with the offset to
 * resume from) and the stage completes, so one slow client never holds the reader or the others back.
 *
 * <p>With {@code since}, it replays the journal after that offset in pages ({@link Replay}), paced by the
 * client, while live items keep arriving into the buffer (the oldest are dropped during a replay, as the
 * journal still has them). Then it switches to the buffered live items: those at or below the last
 * offset it handled are duplicates and dropped; an item whose {@link FeedItem#previous} is above that
 * offset proves something was missed in between, and another replay page fills the gap first. The
 * same check guards every live item, so the switch has no gap and no duplicate whatever the timing of
 * the hub registration, the journal polls and the replay.
 *
 * <p>A subscriber that asked for batches ({@link FeedQuery#batch()}) is sent, whenever it can take a
 * message, everything it has ready as one message of JSON lines: one message per journal poll while it
 * keeps up, fewer and bigger ones when it (or the machine) falls behind. That is what lets one daemon
 * serve many subscribers at a high event rate, since the cost of the feed is per message, not per event.
 *
 * <p>Offsets that the filters reject still advance the position, so {@code resumeFrom} never sends a
 * filtered subscriber back over events it has no interest in.
 */
final class FeedSubscription extends GraphStage<FlowShape<List<FeedItem>, String>> {

  /** The most events one batched message carries. */
  static final int MAX_PER_MESSAGE = 500;

  /** Reads the journal: up to {@code limit} items with offsets above {@code after}, in offset order. */
  interface Replay {
    CompletionStage<List<FeedItem>> after(long after, int limit);
  }

  /** What the daemon counts about subscribers. */
  interface Listener {
    void started();

    void lagged();

    void stopped();

    Listener NONE = new Listener() {
      @Override
      public void started() {}

      @Override
      public void lagged() {}

      @Override
      public void stopped() {}
    };
  }

  private final Inlet<List<FeedItem>> in = Inlet.create("FeedSubscription.live");
  private final Outlet<String> out = Outlet.create("FeedSubscription.out");
  private final FlowShape<List<FeedItem>, String> shape = FlowShape.of(in, out);

  private final FeedQuery query;
  private final Replay replay;
  private final int replayBatch;
  private final int bufferSize;
  private final LongFunction<String> laggedMessage;
  private final Listener listener;

  FeedSubscription(FeedQuery query, Replay replay, int replayBatch, int bufferSize, LongFunction<String> laggedMessage,
      Listener listener) {
    this.query = query;
    this.replay = replay;
    this.replayBatch = replayBatch;
    this.bufferSize = bufferSize;
    this.laggedMessage = laggedMessage;
    this.listener = listener;
  }

  @Override
  public FlowShape<List<FeedItem>, String> shape() {
    return shape;
  }

  @Override
  public GraphStageLogic createLogic(Attributes attributes) {
    return new GraphStageLogic(shape) {
      /** The offset of the last event sent or filtered out; -1 until a live-only subscriber has had one. */
      private long position = query.since().orElse(-1);
      private final ArrayDeque<FeedItem> live = new ArrayDeque<>();
      private final ArrayDeque<FeedItem> replayed = new ArrayDeque<>();
      private boolean replaying;
      private boolean fetching;
      private boolean replayReachedEnd;
      private String lagged;
      private AsyncCallback<Page> pageArrived;

      {
        setHandler(in, new AbstractInHandler() {
          @Override
          public void onPush() {
            onLive(grab(in));
          }

          @Override
          public void onUpstreamFinish() {
            // the hub ends only when the daemon stops
            completeStage();
          }
        });
        setHandler(out, new AbstractOutHandler() {
          @Override
          public void onPull() {
            drain();
          }
        });
      }

      @Override
      public void preStart() {
        listener.started();
        pageArrived = createAsyncCallback(this::onPage);
        pull(in);
        if (query.since().isPresent()) {
          startReplay();
        }
      }

      @Override
      public void postStop() {
        listener.stopped();
      }

      private void onLive(List<FeedItem> items) {
        live.addAll(items);
        pull(in);
        if (!replaying) {
          drain();
        }
        if (live.size() > bufferSize) {
          if (replaying) {
            // the journal still has what is dropped here; the check at the switch reads it again
            while (live.size() > bufferSize) {
              live.removeFirst();
            }
          } else {
            lag();
          }
        }
      }

      private void lag() {
        long resumeFrom = position >= 0 ? position : live.peekFirst().previous();
        live.clear();
        replayed.clear();
        lagged = laggedMessage.apply(resumeFrom);
        cancel(in);
        listener.lagged();
        drain();
      }

      private void startReplay() {
        replaying = true;
        replayReachedEnd = false;
        fetch();
      }

      private void fetch() {
        fetching = true;
        long after = position;
        replay.after(after, replayBatch).whenComplete((items, failure) -> pageArrived.invoke(new Page(items, failure)));
      }

      private void onPage(Page page) {
        fetching = false;
        if (page.failure() != null) {
          failStage(page.failure());
          return;
        }
        replayed.addAll(page.items());
        replayReachedEnd = page.items().size() < replayBatch;
        drain();
      }

      private void drain() {
        if (lagged != null) {
          if (isAvailable(out)) {
            push(out, lagged);
            completeStage();
          }
          return;
        }
        if (replaying) {
          if (!emitFrom(replayed, false) || fetching) {
            return;
          }
          if (!replayReachedEnd) {
            fetch();
            return;
          }
          replaying = false;
        }
        emitFrom(live, true);
      }

      /**
       * Sends (or skips, when filtered out or already seen) items from the head of {@code queue} while
       * the client wants them. Returns true when the queue was emptied. For live items a gap before the
       * head starts a replay instead. A batching client gets everything that is ready in one message,
       * one JSON object per line (at most {@link #MAX_PER_MESSAGE}).
       */
      private boolean emitFrom(ArrayDeque<FeedItem> queue, boolean isLive) {
        StringBuilder batch = null;
        int batched = 0;
        boolean emptied = true;
        while (!queue.isEmpty()) {
          FeedItem item = queue.peekFirst();
          if (position >= 0 && item.offset() <= position) {
            queue.removeFirst();
            continue;
          }
          if (isLive && position >= 0 && item.previous() > position) {
            startReplay();
            emptied = false;
            break;
          }
          if (query.matches(item)) {
            if (!isAvailable(out) || batched == MAX_PER_MESSAGE) {
              emptied = false;
              break;
            }
            if (!query.batch()) {
              push(out, item.json());
            } else if (batch == null) {
              batch = new StringBuilder(item.json());
              batched = 1;
            } else {
              batch.append('\n').append(item.json());
              batched++;
            }
          }
          queue.removeFirst();
          position = item.offset();
        }
        if (batch != null) {
          push(out, batch.toString());
        }
        return emptied;
      }
    };
  }

  private record Page(List<FeedItem> items, Throwable failure) {}
}
