package dev.warden.apply;

import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.TimerScheduler;
import akka.persistence.typed.javadsl.EffectFactories;
import dev.warden.apply.Applier.Command;
import dev.warden.apply.Applier.Event;
import java.util.function.Consumer;

/**
 * What a part of the {@link Applier} the entity delegates commands to ({@link ApplierLandings},
 * {@link VerdictPolls}) works with: the entity's own context, timers, ports, settings, effects and
 * its reconcile. A part runs on the actor's thread only.
 */
abstract class ApplierPart {

  protected final String featureId;
  protected final ActorContext<Command> context;
  protected final TimerScheduler<Command> timers;
  protected final ApplierPeers peers;
  protected final ApplySettings settings;
  protected final EffectFactories<Event, ApplierState> effect;
  /** The entity's reconcile: run after every change a part persists. */
  protected final Consumer<ApplierState> reconcile;

  ApplierPart(String featureId, ActorContext<Command> context, TimerScheduler<Command> timers, ApplierPeers peers,
      ApplySettings settings, EffectFactories<Event, ApplierState> effect, Consumer<ApplierState> reconcile) {
    this.featureId = featureId;
    this.context = context;
    this.timers = timers;
    this.peers = peers;
    this.settings = settings;
    this.effect = effect;
    this.reconcile = reconcile;
  }
}
