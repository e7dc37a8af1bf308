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
import java.util.ArrayList;
import java.util.List;

/**
 * Groups the elements that arrive together — a journal poll's results, emitted one after another in
 * one run of the stream — into one list, emitted right after that run: no timer, no added delay. The
 * feed's hub then wakes each subscriber once per poll instead of once per event, which is what lets
 * one daemon serve many subscribers (a {@code BroadcastHub} step costs in proportion to them).
 * At most {@code max} per list; while downstream is busy, more are collected up to that.
 */
final class Bursts<T> extends GraphStage<FlowShape<T, List<T>>> {

  private final Inlet<T> in = Inlet.create("Bursts.in");
  private final Outlet<List<T>> out = Outlet.create("Bursts.out");
  private final FlowShape<T, List<T>> shape = FlowShape.of(in, out);
  private final int max;

  Bursts(int max) {
    this.max = max;
  }

  @Override
  public FlowShape<T, List<T>> shape() {
    return shape;
  }

  @Override
  public GraphStageLogic createLogic(Attributes attributes) {
    return new GraphStageLogic(shape) {
      private List<T> pending = new ArrayList<>();
      private boolean flushQueued;
      private AsyncCallback<Boolean> flush;

      {
        setHandler(in, new AbstractInHandler() {
          @Override
          public void onPush() {
            pending.add(grab(in));
            if (!flushQueued) {
              // runs after whatever else arrives in this same run
              flushQueued = true;
              flush.invoke(Boolean.TRUE);
            }
            if (pending.size() < max) {
              pull(in);
            }
          }

          @Override
          public void onUpstreamFinish() {
            if (pending.isEmpty()) {
              completeStage();
            } else {
              emit(out, take(), () -> completeStage());
            }
          }
        });
        setHandler(out, new AbstractOutHandler() {
          @Override
          public void onPull() {
            if (!flushQueued && !pending.isEmpty()) {
              push(out, take());
            }
          }
        });
      }

      @Override
      public void preStart() {
        flush = createAsyncCallback(ignored -> {
          flushQueued = false;
          if (isAvailable(out) && !pending.isEmpty()) {
            push(out, take());
          }
        });
        pull(in);
      }

      private List<T> take() {
        List<T> batch = pending;
        pending = new ArrayList<>();
        if (!hasBeenPulled(in) && !isClosed(in)) {
          pull(in);
        }
        return batch;
      }
    };
  }
}
