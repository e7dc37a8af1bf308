package dev.warden.http;

import akka.http.javadsl.model.HttpRequest;
import akka.stream.Attributes;
import akka.stream.FlowShape;
import akka.stream.Inlet;
import akka.stream.Outlet;
import akka.stream.stage.AbstractInHandler;
import akka.stream.stage.AbstractOutHandler;
import akka.stream.stage.GraphStage;
import akka.stream.stage.GraphStageLogic;
import akka.stream.stage.TimerGraphStageLogic;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Sits in front of the routes on every HTTP connection (one per connection) and bounds the
 * connections that have not sent a request yet: such a connection is closed after
 * {@code firstRequestTimeout}, and beyond {@code max} of them a new one is closed at once. Akka HTTP's
 * {@code idle-timeout} is one value for every connection and must outlast Warden's longest requests,
 * so it cannot be short; this is. Once a connection has sent a request it is left to the idle
 * timeout (and a request without a valid token ends its connection: see {@link ApiErrors}).
 */
public final class NewConnections extends GraphStage<FlowShape<HttpRequest, HttpRequest>> {

  private final Inlet<HttpRequest> in = Inlet.create("NewConnections.in");
  private final Outlet<HttpRequest> out = Outlet.create("NewConnections.out");
  private final FlowShape<HttpRequest, HttpRequest> shape = FlowShape.of(in, out);
  private final AtomicInteger waiting;
  private final int max;
  private final Duration firstRequestTimeout;

  /** {@code waiting} is shared by every connection of the server: how many have not sent a request yet. */
  public NewConnections(AtomicInteger waiting, int max, Duration firstRequestTimeout) {
    this.waiting = waiting;
    this.max = max;
    this.firstRequestTimeout = firstRequestTimeout;
  }

  @Override
  public FlowShape<HttpRequest, HttpRequest> shape() {
    return shape;
  }

  @Override
  public GraphStageLogic createLogic(Attributes attributes) {
    return new TimerGraphStageLogic(shape) {
      private boolean counted;

      {
        setHandler(in, new AbstractInHandler() {
          @Override
          public void onPush() {
            settled();
            push(out, grab(in));
          }
        });
        setHandler(out, new AbstractOutHandler() {
          @Override
          public void onPull() {
            pull(in);
          }
        });
      }

      @Override
      public void preStart() {
        if (waiting.incrementAndGet() > max) {
          waiting.decrementAndGet();
          completeStage();
          return;
        }
        counted = true;
        scheduleOnce("first-request", firstRequestTimeout);
      }

      @Override
      public void onTimer(Object key) {
        completeStage();
      }

      private void settled() {
        if (counted) {
          counted = false;
          waiting.decrementAndGet();
          cancelTimer("first-request");
        }
      }

      @Override
      public void postStop() {
        settled();
      }
    };
  }
}
