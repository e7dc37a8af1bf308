package dev.warden.checkpoint;

import akka.actor.typed.ActorRef;
import dev.warden.Rejection;
import dev.warden.checkpoint.Checkpoints.Failed;
import dev.warden.checkpoint.Checkpoints.Outcome;
import dev.warden.checkpoint.Checkpoints.Promote;
import dev.warden.checkpoint.Checkpoints.Request;
import dev.warden.checkpoint.Checkpoints.Rollback;
import dev.warden.plan.Trigger;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A chain's captures, one at a time: the one in flight, and what waits for it — checkpoint requests
 * coalescing into the next capture, queued rollbacks (their target commit resolved when asked) and
 * promotions. Rollbacks go first, then promotions, then the coalesced requests. Not persisted;
 * touched only by the {@link Checkpoints} command handlers, on the actor's thread.
 */
final class CaptureQueue {

  /** One capture's worth of coalesced requests, or one rollback, or one promotion: fixed once it starts. */
  record Cycle(Trigger trigger, List<String> paths, boolean fullScan, List<ActorRef<Outcome>> waiters,
      Optional<Rollback> rollback, Optional<Promote> promote, Optional<String> restoreTo) {

    /** {@code target}: the commit of the checkpoint it goes back to, resolved when it was asked. */
    static Cycle of(Rollback rollback, String target) {
      return new Cycle(Trigger.ROLLBACK, List.of(), false, List.of(rollback.replyTo()), Optional.of(rollback), Optional.empty(),
          Optional.of(target));
    }

    static Cycle of(Promote promote) {
      return new Cycle(Trigger.PATCH, List.of(), false, List.of(promote.replyTo()), Optional.empty(), Optional.of(promote),
          Optional.of(promote.commit()));
    }

    String reason() {
      return rollback.map(r -> "rollback to checkpoint " + r.to()).orElse("checkpoint");
    }
  }

  /** Checkpoint requests coalescing while a capture runs; becomes the next {@link Cycle}. */
  private static final class Coalescing {
    private Trigger trigger;
    private final Set<String> paths = new LinkedHashSet<>();
    private boolean fullScan;
    private final List<ActorRef<Outcome>> waiters = new ArrayList<>();

    Coalescing(Request first) {
      trigger = first.trigger();
      merge(first);
    }

    void merge(Request request) {
      trigger = trigger.strongest(request.trigger());
      paths.addAll(request.paths());
      fullScan |= request.fullScan();
      waiters.add(request.replyTo());
    }

    Cycle cycle() {
      return new Cycle(trigger, List.copyOf(paths), fullScan, List.copyOf(waiters), Optional.empty(), Optional.empty(), Optional.empty());
    }
  }

  private Cycle current;
  private Coalescing pending;
  private final List<Cycle> pendingRollbacks = new ArrayList<>();
  private final List<Promote> pendingPromotions = new ArrayList<>();

  /** Whether a capture is in flight. */
  boolean busy() {
    return current != null;
  }

  /** Joins the requests coalescing into the next capture. */
  void request(Request request) {
    if (pending == null) {
      pending = new Coalescing(request);
    } else {
      pending.merge(request);
    }
  }

  /** {@code target}: the commit of the checkpoint it goes back to, fixed now. */
  void rollback(Rollback rollback, String target) {
    pendingRollbacks.add(Cycle.of(rollback, target));
  }

  void promote(Promote promote) {
    pendingPromotions.add(promote);
  }

  /** When no capture is in flight, the next one (now in flight), if anything waits. */
  Optional<Cycle> startNext() {
    if (current != null) {
      return Optional.empty();
    }
    if (!pendingRollbacks.isEmpty()) {
      current = pendingRollbacks.remove(0);
    } else if (!pendingPromotions.isEmpty()) {
      current = Cycle.of(pendingPromotions.remove(0));
    } else if (pending != null) {
      current = pending.cycle();
      pending = null;
    } else {
      return Optional.empty();
    }
    return Optional.of(current);
  }

  /** The capture in flight is over. */
  void finished() {
    current = null;
  }

  /** Refuses everything that waits (not the capture in flight) with {@code why}. */
  void refuseWaiting(String why) {
    if (pending != null) {
      pending.cycle().waiters().forEach(w -> w.tell(new Failed(Rejection.Kind.CONFLICT, why)));
      pending = null;
    }
    pendingRollbacks.forEach(c -> c.waiters().forEach(w -> w.tell(new Failed(Rejection.Kind.CONFLICT, why))));
    pendingRollbacks.clear();
    pendingPromotions.forEach(r -> r.replyTo().tell(new Failed(Rejection.Kind.CONFLICT, why)));
    pendingPromotions.clear();
  }
}
