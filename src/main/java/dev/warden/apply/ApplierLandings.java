package dev.warden.apply;

import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.TimerScheduler;
import akka.persistence.typed.javadsl.EffectFactories;
import akka.persistence.typed.javadsl.ReplyEffect;
import dev.warden.apply.Applier.Accepted;
import dev.warden.apply.Applier.ApplyDeferred;
import dev.warden.apply.Applier.ApplyFinished;
import dev.warden.apply.Applier.Command;
import dev.warden.apply.Applier.Event;
import dev.warden.apply.Applier.LandNow;
import dev.warden.apply.Applier.ProposalFailed;
import dev.warden.apply.Applier.ProposalReverted;
import dev.warden.apply.Applier.RevertFinished;
import dev.warden.apply.Applier.Rollback;
import dev.warden.apply.Applier.StartApply;
import dev.warden.apply.Applier.WatchWorktree;
import dev.warden.apply.Applier.WorktreeSeen;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link Applier}'s landings and rollbacks: starting the landing of an approved proposal (and
 * again when an approver asks, {@code LandNow}, or the user's working tree that blocked it changed),
 * recording how it went, and an admin's revert. Owns what is in flight in this incarnation (not
 * persisted: a restart starts what the state says is due) and the timers that retry a deferred
 * landing and watch a blocking working tree. The entity's command handlers delegate here; it runs on
 * the actor's thread only, and work off it ends in a message to the actor ({@code pipeToSelf}).
 */
final class ApplierLandings extends ApplierPart {

  private static final Logger log = LoggerFactory.getLogger(Applier.class);

  /** How often a working tree that blocks a landing is looked at (a few stat calls). */
  static final Duration WATCH_INTERVAL = Duration.ofSeconds(1);

  /** A user's working tree a waiting landing watches: {@code last} fingerprint seen. */
  private record Watch(String worktree, List<String> paths, Optional<String> last) {}

  private final Set<String> applying = new HashSet<>();
  private final Map<String, Watch> watches = new HashMap<>();
  private boolean reverting;

  ApplierLandings(String featureId, ActorContext<Command> context, TimerScheduler<Command> timers, ApplierPeers peers,
      ApplySettings settings, EffectFactories<Event, ApplierState> effect, Consumer<ApplierState> reconcile) {
    super(featureId, context, timers, peers, settings, effect, reconcile);
  }

  /** Proposal {@code id} is being landed right now. */
  boolean applying(String id) {
    return applying.contains(id);
  }

  /** A landing or a revert is running. */
  boolean busy() {
    return reverting || !applying.isEmpty();
  }

  // ---- applying ----

  ReplyEffect<Event, ApplierState> onStartApply(ApplierState state, StartApply command) {
    Optional<Proposal> found = state.get(command.proposalId());
    if (found.isEmpty() || found.get().status() != ProposalStatus.APPROVED || applying.contains(command.proposalId())) {
      return effect.noReply();
    }
    Proposal p = found.get();
    if (p.note().isPresent() && Instant.now().isAfter(p.draft().expiresAt())) {
      peers.tellAgent("proposal " + p.id() + " failed: not applied before it expired: " + p.note().get());
      return effect.persist(new ProposalFailed(featureId, p.id(), "not applied before it expired: " + p.note().get(),
          List.of(), List.of(), Instant.now())).thenRun(reconcile::accept).thenNoReply();
    }
    applying.add(p.id());
    watches.remove(p.id());
    timers.cancel("watch-" + p.id());
    log.info("[{}] applying proposal {} (checkpoint {}) to {}", featureId, p.id(), p.draft().checkpointSeq(), p.draft().target());
    context.pipeToSelf(peers.land(p.draft()), (outcome, failure) -> new ApplyFinished(p.id(), Optional.ofNullable(outcome),
        Optional.ofNullable(failure).map(dev.warden.Failures::describe)));
    return effect.noReply();
  }

  ReplyEffect<Event, ApplierState> onApplyFinished(ApplierState state, ApplyFinished finished) {
    applying.remove(finished.proposalId());
    Optional<Proposal> found = state.get(finished.proposalId());
    if (found.isEmpty() || found.get().status() != ProposalStatus.APPROVED) {
      return effect.noReply();
    }
    Proposal p = found.get();
    Instant now = Instant.now();
    if (finished.failure().isPresent()) {
      peers.tellAgent("proposal " + p.id() + " failed: the apply failed: " + finished.failure().get());
      return effect.persist(new ProposalFailed(featureId, p.id(), "the apply failed: " + finished.failure().get(), List.of(), List.of(), now))
          .thenRun(reconcile::accept).thenNoReply();
    }
    Landing.Outcome outcome = finished.outcome().orElseThrow();
    Event event = LandingOutcomes.outcomeEvent(featureId, p, outcome, settings.deferredRetry(), now);
    if (event instanceof ApplyDeferred) {
      timers.startSingleTimer("apply-" + p.id(), new StartApply(p.id()), settings.deferredRetry());
      if (outcome.result() instanceof MergeEngine.Result.WorktreeBlocked blocked) {
        watches.put(p.id(), new Watch(blocked.worktree(), blocked.paths(), Optional.empty()));
        context.getSelf().tell(new WatchWorktree(p.id()));
      }
      if (p.note().filter(((ApplyDeferred) event).reason()::equals).isPresent()) {
        return effect.noReply(); // same reason as last time: nothing new to record
      }
    }
    if (event instanceof ProposalFailed failed) {
      peers.tellAgent("proposal " + p.id() + " failed: " + failed.reason());
    }
    return effect.persist(event).thenRun(reconcile::accept).thenNoReply();
  }

  // ---- a landing waiting for a user's working tree ----

  ReplyEffect<Event, ApplierState> onLandNow(ApplierState state, LandNow command) {
    Optional<Proposal> found = state.get(command.proposalId());
    if (found.isEmpty()) {
      return effect.reply(command.replyTo(), Applier.notFound(command.proposalId()));
    }
    Proposal p = found.get();
    if (p.status() != ProposalStatus.APPROVED) {
      return effect.reply(command.replyTo(), Applier.conflict("cannot land proposal " + p.id() + ": it is " + p.status().label()
          + (p.status() == ProposalStatus.APPLIED ? " already" : p.status() == ProposalStatus.PROPOSED ? " (not approved yet)" : "")));
    }
    if (!applying.contains(p.id())) {
      log.info("[{}] {} asked to land proposal {} now", featureId, command.by(), p.id());
      timers.cancel("apply-" + p.id());
      context.getSelf().tell(new StartApply(p.id()));
    }
    return effect.reply(command.replyTo(), new Accepted(p));
  }

  ReplyEffect<Event, ApplierState> onWatchWorktree(ApplierState state, WatchWorktree command) {
    Watch watch = watches.get(command.proposalId());
    if (watch == null || applying.contains(command.proposalId())
        || state.get(command.proposalId()).filter(p -> p.status() == ProposalStatus.APPROVED).isEmpty()) {
      watches.remove(command.proposalId());
      return effect.noReply();
    }
    context.pipeToSelf(peers.worktreeFingerprint(watch.worktree(), watch.paths()), (fingerprint, failure) ->
        new WorktreeSeen(command.proposalId(), fingerprint == null ? "unreadable" : fingerprint));
    return effect.noReply();
  }

  ReplyEffect<Event, ApplierState> onWorktreeSeen(ApplierState state, WorktreeSeen seen) {
    Watch watch = watches.get(seen.proposalId());
    if (watch == null) {
      return effect.noReply();
    }
    if (watch.last().isPresent() && !watch.last().get().equals(seen.fingerprint())) {
      log.info("[{}] {} changed: trying proposal {} again", featureId, watch.worktree(), seen.proposalId());
      watches.remove(seen.proposalId());
      timers.cancel("apply-" + seen.proposalId());
      context.getSelf().tell(new StartApply(seen.proposalId()));
      return effect.noReply();
    }
    watches.put(seen.proposalId(), new Watch(watch.worktree(), watch.paths(), Optional.of(seen.fingerprint())));
    timers.startSingleTimer("watch-" + seen.proposalId(), new WatchWorktree(seen.proposalId()), WATCH_INTERVAL);
    return effect.noReply();
  }

  // ---- rolling back ----

  ReplyEffect<Event, ApplierState> onRollback(ApplierState state, Rollback command) {
    Optional<Proposal> found = state.get(command.proposalId());
    if (found.isEmpty()) {
      return effect.reply(command.replyTo(), Applier.notFound(command.proposalId()));
    }
    Proposal p = found.get();
    if (p.status() != ProposalStatus.APPLIED) {
      return effect.reply(command.replyTo(), Applier.conflict("cannot roll back proposal " + p.id() + ": it is " + p.status().label()
          + (p.status() == ProposalStatus.REVERTED ? " already" : " (only an applied proposal can be rolled back)")));
    }
    if (reverting) {
      return effect.reply(command.replyTo(), Applier.conflict("proposal " + p.id() + " is already being rolled back"));
    }
    reverting = true;
    String applied = p.apply().flatMap(Proposal.ApplyRecord::commit).orElseThrow();
    context.pipeToSelf(peers.revert(p.draft(), applied, command.by(), command.reason()), (outcome, failure) ->
        new RevertFinished(command, p, Optional.ofNullable(outcome), Optional.ofNullable(failure).map(dev.warden.Failures::describe)));
    return effect.noReply();
  }

  ReplyEffect<Event, ApplierState> onRevertFinished(ApplierState state, RevertFinished finished) {
    reverting = false;
    Rollback request = finished.request();
    Proposal p = state.get(finished.proposal().id()).orElse(finished.proposal()); // a done one the state may no longer hold
    if (finished.failure().isPresent()) {
      return effect.reply(request.replyTo(), Applier.conflict("the rollback of " + p.id() + " failed: " + finished.failure().get()));
    }
    MergeEngine.Result result = finished.outcome().orElseThrow().result();
    if (result instanceof MergeEngine.Result.Applied reverted) {
      ProposalReverted event = new ProposalReverted(featureId, p.id(), reverted.commit(), request.by(), request.reason(),
          LandingOutcomes.outcomes(reverted.tests()), Instant.now());
      return effect.persist(event)
          .thenReply(request.replyTo(), updated -> new Accepted(updated.get(p.id()).orElseGet(() -> ProposalEvents.apply(p, event))));
    }
    return effect.reply(request.replyTo(), Applier.conflict("the rollback of " + p.id() + " did not land; the target is unchanged: "
        + LandingOutcomes.revertFailure(result)));
  }
}
