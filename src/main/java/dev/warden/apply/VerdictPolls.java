package dev.warden.apply;

import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.TimerScheduler;
import akka.persistence.typed.javadsl.EffectFactories;
import akka.persistence.typed.javadsl.ReplyEffect;
import dev.warden.apply.Applier.Command;
import dev.warden.apply.Applier.Event;
import dev.warden.apply.Applier.PollVerdict;
import dev.warden.apply.Applier.ProposalFailed;
import dev.warden.apply.Applier.ProposalValidated;
import dev.warden.apply.Applier.VerdictPolled;
import dev.warden.validate.Validator;
import dev.warden.validate.VerdictStatus;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The {@link Applier}'s wait for a verdict: a proposal made while its checkpoint's validation was
 * still running asks the validator every {@code warden.apply.verdict-poll} until the verdict is
 * final, then records it ({@code ProposalValidated}) with what it decides (approved by the tier's
 * rule, or failed). Owns the polls in flight in this incarnation (not persisted: recovery starts them
 * again); runs on the actor's thread only, the validator's answer comes back as a message.
 */
final class VerdictPolls extends ApplierPart {

  private final Set<String> polling = new HashSet<>();

  VerdictPolls(String featureId, ActorContext<Command> context, TimerScheduler<Command> timers, ApplierPeers peers,
      ApplySettings settings, EffectFactories<Event, ApplierState> effect, Consumer<ApplierState> reconcile) {
    super(featureId, context, timers, peers, settings, effect, reconcile);
  }

  /** Starts polling for {@code p}'s verdict if it is pending and no poll is running yet. */
  void start(Proposal p) {
    if (p.validation().equals(Proposal.PENDING) && polling.add(p.id())) {
      context.getSelf().tell(new PollVerdict(p.id()));
    }
  }

  ReplyEffect<Event, ApplierState> onPollVerdict(ApplierState state, PollVerdict command) {
    Optional<Proposal> p = state.get(command.proposalId());
    if (p.isEmpty() || p.get().status() != ProposalStatus.PROPOSED || !p.get().validation().equals(Proposal.PENDING)) {
      polling.remove(command.proposalId());
      return effect.noReply();
    }
    context.pipeToSelf(peers.verdict(p.get().draft().checkpointSeq()), (lookup, failure) -> new VerdictPolled(command.proposalId(),
        lookup instanceof Validator.Found found ? Optional.of(found.verdict()) : Optional.empty()));
    return effect.noReply();
  }

  ReplyEffect<Event, ApplierState> onVerdictPolled(ApplierState state, VerdictPolled command) {
    Optional<Proposal> found = state.get(command.proposalId());
    String status = command.verdict().map(v -> v.status().label()).orElse("");
    boolean settled = command.verdict().filter(v -> v.status().isFinal()).isPresent();
    if (found.isEmpty() || found.get().status() != ProposalStatus.PROPOSED || !settled) {
      if (found.isPresent() && found.get().status() == ProposalStatus.PROPOSED) {
        timers.startSingleTimer("poll-" + command.proposalId(), new PollVerdict(command.proposalId()), settings.verdictPoll());
      } else {
        polling.remove(command.proposalId());
      }
      return effect.noReply();
    }
    polling.remove(command.proposalId());
    Proposal p = found.get();
    Validator.VerdictRecord verdict = command.verdict().orElseThrow();
    Instant now = Instant.now();
    ProposalValidated validated = new ProposalValidated(featureId, p.id(), status, verdict.violations(), now);
    List<Event> events = new ArrayList<>(List.of(validated));
    if (verdict.status() == VerdictStatus.VALID) {
      ApprovalRule.ruleMet(featureId, ProposalEvents.apply(p, validated), now).ifPresent(events::add);
    } else {
      String reason = "checkpoint " + p.draft().checkpointSeq() + " is " + status
          + verdict.failure().map(f -> ": " + f).orElse(verdict.violations().isEmpty() ? "" : ": " + verdict.violations().size() + " violation(s)");
      events.add(new ProposalFailed(featureId, p.id(), reason, List.of(), List.of(), now));
      peers.tellAgent("proposal " + p.id() + " failed: " + reason);
    }
    return effect.persist(events).thenRun(reconcile::accept).thenNoReply();
  }
}
