package dev.warden.apply;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.TimerScheduler;
import akka.cluster.sharding.typed.ClusterShardingSettings;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.sharding.typed.javadsl.ClusterSharding.Passivate;
import akka.cluster.sharding.typed.javadsl.ClusterSharding.ShardCommand;
import akka.cluster.sharding.typed.javadsl.Entity;
import akka.cluster.sharding.typed.javadsl.EntityTypeKey;
import akka.persistence.typed.PersistenceId;
import akka.persistence.typed.RecoveryCompleted;
import akka.persistence.typed.javadsl.CommandHandlerWithReply;
import akka.persistence.typed.javadsl.EventHandler;
import akka.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import akka.persistence.typed.javadsl.ReplyEffect;
import akka.persistence.typed.javadsl.SignalHandler;
import dev.warden.CborSerializable;
import dev.warden.Rejection;
import dev.warden.auth.Role;
import dev.warden.FeedTags;
import dev.warden.plan.Tier;
import dev.warden.validate.CheckResult;
import dev.warden.validate.Validator;
import dev.warden.validate.Validator.CheckOutcome;
import dev.warden.validate.Violation;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A feature's proposals and their state machine (design brief §1–2): {@code proposed → approved |
 * rejected | expired → applied | failed}, {@code stale} when a newer checkpoint arrives before the
 * apply, {@code withdrawn} when the feature was abandoned (or refused it) before it landed,
 * {@code reverted} after a rollback. An event-sourced entity per feature under Cluster
 * Sharding (persistence id {@code Applier|<feature>}), remembered, so an approved proposal is applied
 * and a review window or expiry fires after a restart without anyone asking.
 *
 * <p>Decisions: low is approved by policy once its checkpoint is valid; medium when one approver
 * approves or its review window ends unless someone rejected it; high when its required number of
 * distinct approvers approved; an admin may bypass with a reason. Every decision is an event with
 * who, when and why. Apply runs through {@link ApplierPeers#land} (exactly once: see {@link Landing});
 * its outcome is an event; only then is the feature told (applied or rejected end it; failed,
 * expired, stale and withdrawn send it back to work, which changes nothing for one that ended), and that is recorded too, so a restart in between
 * finishes the job.
 *
 * <p>This class decides on proposals, tells the feature and keeps the timers of open ones; the landing,
 * land-now and rollback handlers with what they have in flight are {@link ApplierLandings}, the wait
 * for a pending verdict is {@link VerdictPolls}. Both run on the actor's thread, as its own handlers do.
 */
public final class Applier
    extends EventSourcedBehaviorWithEnforcedReplies<Applier.Command, Applier.Event, ApplierState> {

  private static final Logger log = LoggerFactory.getLogger(Applier.class);

  public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "Applier");
  public static final String TAG = "apply";
  private static final Set<String> TAGS = FeedTags.of(TAG);
  /** Who decides when no person does. */
  public static final String POLICY = "policy";

  // ---- protocol ----

  public sealed interface Command extends CborSerializable {}

  /**
   * Make a proposal of {@code draft} (id and number are assigned here); {@code validation} is
   * {@link Proposal#VALID} or {@link Proposal#PENDING}.
   */
  public record Propose(Proposal.Draft draft, String validation, ActorRef<Reply> replyTo) implements Command {}

  public record Approve(String proposalId, String by, Role role, Optional<String> reason, boolean bypass, ActorRef<Reply> replyTo)
      implements Command {}

  public record Reject(String proposalId, String by, String reason, ActorRef<Reply> replyTo) implements Command {}

  /** Revert an applied proposal (admin): replies once the revert commit landed, or why it did not. */
  public record Rollback(String proposalId, String by, String reason, ActorRef<Reply> replyTo) implements Command {}

  /**
   * Take note that the feature's chain has checkpoint {@code seq}: an open proposal of an older one is
   * stale. (Named apart from the chain's event {@code Checkpoints.CheckpointTaken}: a command never
   * shares an event's name.)
   */
  public record NoticeCheckpoint(long seq) implements Command {}

  /**
   * The feature was abandoned (or refused to record the proposal): an open proposal that is not
   * being applied is withdrawn, so abandoned work never lands. Replies with the proposal, if any.
   */
  public record Withdraw(String by, String reason, ActorRef<Reply> replyTo) implements Command {}

  public record Get(String proposalId, ActorRef<Reply> replyTo) implements Command {}

  /** Try to land an approved proposal that is waiting, now (an approver asked): replies with it as it stands. */
  public record LandNow(String proposalId, String by, ActorRef<Reply> replyTo) implements Command {}

  public sealed interface Reply extends CborSerializable {}

  public record Accepted(Proposal proposal) implements Reply {}

  public record Refused(Rejection.Kind kind, String message) implements Reply {
    public Rejection toRejection() {
      return Rejection.of(kind, message);
    }
  }

  record PollVerdict(String proposalId) implements Command {}

  record VerdictPolled(String proposalId, Optional<Validator.VerdictRecord> verdict) implements Command {}

  private record ReviewWindowEnded(String proposalId) implements Command {}

  private record ExpiryReached(String proposalId) implements Command {}

  record StartApply(String proposalId) implements Command {}

  record ApplyFinished(String proposalId, Optional<Landing.Outcome> outcome, Optional<String> failure) implements Command {}

  record RevertFinished(Rollback request, Proposal proposal, Optional<Landing.Outcome> outcome, Optional<String> failure)
      implements Command {}

  /** A done proposal the state no longer holds, read back from the journal for {@code original}. */
  private record Recalled(Command original, Optional<Proposal> proposal, Optional<String> failure) implements Command {}

  private record FeatureSettledDone(String proposalId, Optional<String> failure) implements Command {}

  private record IdleCheck() implements Command {}

  /** Time to look at the working tree that blocks a landing. */
  record WatchWorktree(String proposalId) implements Command {}

  record WorktreeSeen(String proposalId, String fingerprint) implements Command {}

  // ---- events (stored contracts: never rename; add fields as Optional) ----

  public sealed interface Event extends CborSerializable {
    String featureId();

    String proposalId();
  }

  public record ProposalCreated(String featureId, Proposal.Draft draft, String validation, Instant at) implements Event {
    @Override
    public String proposalId() {
      return draft.id();
    }
  }

  /** The checkpoint's verdict arrived for a proposal made while it was pending. */
  public record ProposalValidated(String featureId, String proposalId, String verdict, List<Violation> violations, Instant at)
      implements Event {}

  /** One approver said yes ({@code bypass}: an admin overriding the tier's rule, with a reason). */
  public record ApprovalGiven(String featureId, String proposalId, String by, String role, Optional<String> reason, boolean bypass,
      Instant at) implements Event {}

  /** The tier's rule is met: {@code by} is the last approver, or {@value #POLICY}. */
  public record ProposalApproved(String featureId, String proposalId, String by, String reason, Instant at) implements Event {}

  public record ProposalRejected(String featureId, String proposalId, String by, String reason, Instant at) implements Event {}

  public record ProposalExpired(String featureId, String proposalId, Instant at) implements Event {}

  /** Taken back before it landed: its feature was abandoned, or refused to record it. */
  public record ProposalWithdrawn(String featureId, String proposalId, String by, String reason, Instant at) implements Event {}

  public record ProposalWentStale(String featureId, String proposalId, long newerCheckpoint, Instant at) implements Event {}

  /** An approved proposal could not land yet (its target is checked out somewhere); tried again later. */
  public record ApplyDeferred(String featureId, String proposalId, String reason, Instant at) implements Event {}

  public record ProposalApplied(String featureId, String proposalId, String targetBefore, String commit, int attempts,
      List<CheckOutcome> tests, boolean foundAfterRestart, Instant at) implements Event {}

  public record ProposalFailed(String featureId, String proposalId, String reason, List<String> conflicts, List<CheckOutcome> tests,
      Instant at) implements Event {}

  public record ProposalReverted(String featureId, String proposalId, String revertCommit, String by, String reason,
      List<CheckOutcome> tests, Instant at) implements Event {}

  /** The feature was told how its proposal ended (and, for applied or rejected, its workspace removed). */
  public record FeatureSettled(String featureId, String proposalId, Instant at) implements Event {}

  // ---- behavior ----

  private final String featureId;
  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final ApplierPeers peers;
  private final ApplySettings settings;
  private final ProposalHistory history;
  private final Optional<ActorRef<ShardCommand>> shard;
  /** Not persisted: work in flight in this incarnation. A restart starts what the state says is due. */
  private final Set<String> settling = new HashSet<>();
  /** Landings, land-now, the watch of a blocking working tree, rollbacks: their handlers and what is in flight. */
  private final ApplierLandings landings;
  /** Proposals made while their checkpoint's validation ran: asking for the verdict. */
  private final VerdictPolls verdictPolls;
  /** The newest checkpoint this incarnation was told about: a proposal of an older one is already stale. */
  private long latestCheckpoint;

  public static void init(ActorSystem<?> system, Function<String, ApplierPeers> peers, ApplySettings settings) {
    ClusterSharding.get(system).init(Entity.of(ENTITY_KEY, ctx -> create(ctx.getEntityId(), peers.apply(ctx.getEntityId()), settings,
            Optional.of(ctx.getShard())))
        .withSettings(ClusterShardingSettings.create(system).withRememberEntities(true)));
  }

  /** An applier whose done proposals are read back from the JDBC journal (the daemon's). */
  public static Behavior<Command> create(String featureId, ApplierPeers peers, ApplySettings settings,
      Optional<ActorRef<ShardCommand>> shard) {
    return create(featureId, peers, settings, shard, akka.persistence.jdbc.query.javadsl.JdbcReadJournal.Identifier());
  }

  /** @param readJournalId the read journal of the journal the applier is written to (tests: the testkit's). */
  static Behavior<Command> create(String featureId, ApplierPeers peers, ApplySettings settings,
      Optional<ActorRef<ShardCommand>> shard, String readJournalId) {
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> new Applier(featureId, context, timers, peers, settings, shard,
        new ProposalHistory(context.getSystem(), readJournalId))));
  }

  private Applier(String featureId, ActorContext<Command> context, TimerScheduler<Command> timers, ApplierPeers peers,
      ApplySettings settings, Optional<ActorRef<ShardCommand>> shard, ProposalHistory history) {
    super(PersistenceId.of(ENTITY_KEY.name(), featureId));
    this.featureId = featureId;
    this.context = context;
    this.timers = timers;
    this.peers = peers;
    this.settings = settings;
    this.shard = shard;
    this.history = history;
    this.landings = new ApplierLandings(featureId, context, timers, peers, settings, Effect(), this::reconcile);
    this.verdictPolls = new VerdictPolls(featureId, context, timers, peers, settings, Effect(), this::reconcile);
  }

  @Override
  public ApplierState emptyState() {
    return ApplierState.empty();
  }

  @Override
  public Set<String> tagsFor(Event event) {
    return TAGS;
  }

  @Override
  public SignalHandler<ApplierState> signalHandler() {
    return newSignalHandlerBuilder().onSignal(RecoveryCompleted.instance(), this::reconcile).build();
  }

  @Override
  public CommandHandlerWithReply<Command, Event, ApplierState> commandHandler() {
    return newCommandHandlerWithReplyBuilder()
        .forAnyState()
        .onCommand(Propose.class, this::onPropose)
        .onCommand(Approve.class, (state, c) -> recalling(state, c.proposalId(), c.replyTo(), c, this::onApprove))
        .onCommand(Reject.class, (state, c) -> recalling(state, c.proposalId(), c.replyTo(), c, this::onReject))
        .onCommand(Rollback.class, (state, c) -> recalling(state, c.proposalId(), c.replyTo(), c, landings::onRollback))
        .onCommand(NoticeCheckpoint.class, this::onNoticeCheckpoint)
        .onCommand(Withdraw.class, this::onWithdraw)
        .onCommand(Get.class, (state, get) -> recalling(state, get.proposalId(), get.replyTo(), get, this::onGet))
        .onCommand(Recalled.class, this::onRecalled)
        .onCommand(PollVerdict.class, verdictPolls::onPollVerdict)
        .onCommand(VerdictPolled.class, verdictPolls::onVerdictPolled)
        .onCommand(ReviewWindowEnded.class, this::onReviewWindowEnded)
        .onCommand(ExpiryReached.class, this::onExpiryReached)
        .onCommand(StartApply.class, landings::onStartApply)
        .onCommand(ApplyFinished.class, landings::onApplyFinished)
        .onCommand(RevertFinished.class, landings::onRevertFinished)
        .onCommand(FeatureSettledDone.class, this::onFeatureSettledDone)
        .onCommand(IdleCheck.class, this::onIdleCheck)
        .onCommand(LandNow.class, (state, c) -> recalling(state, c.proposalId(), c.replyTo(), c, landings::onLandNow))
        .onCommand(WatchWorktree.class, landings::onWatchWorktree)
        .onCommand(WorktreeSeen.class, landings::onWorktreeSeen)
        .build();
  }

  // ---- a done proposal the state no longer holds: read back from the journal first ----

  /** Whether {@code id} names one of this feature's proposals that the state let go of (a done one). */
  private boolean letGo(ApplierState state, String id) {
    String prefix = featureId + ".";
    if (state.proposals().containsKey(id) || !id.startsWith(prefix)) {
      return false;
    }
    try {
      long number = Long.parseLong(id.substring(prefix.length()));
      return number >= 1 && number <= state.made();
    } catch (NumberFormatException e) {
      return false;
    }
  }

  private <C extends Command> ReplyEffect<Event, ApplierState> recalling(ApplierState state, String id, ActorRef<Reply> replyTo, C command,
      java.util.function.BiFunction<ApplierState, C, ReplyEffect<Event, ApplierState>> handler) {
    if (!letGo(state, id)) {
      return handler.apply(state, command);
    }
    context.pipeToSelf(history.read(persistenceId().id(), id), (proposal, failure) -> new Recalled(command,
        proposal == null ? Optional.empty() : proposal, Optional.ofNullable(failure).map(dev.warden.Failures::describe)));
    return Effect().noReply();
  }

  /** Handles the command that asked, with the proposal back in the state for this decision only (nothing is persisted for it). */
  private ReplyEffect<Event, ApplierState> onRecalled(ApplierState state, Recalled recalled) {
    Command original = recalled.original();
    if (recalled.failure().isPresent()) {
      Reply refused = conflict("cannot read the proposal from the journal: " + recalled.failure().get());
      ActorRef<Reply> replyTo = original instanceof Get c ? c.replyTo() : original instanceof Approve c ? c.replyTo()
          : original instanceof Reject c ? c.replyTo() : original instanceof Rollback c ? c.replyTo() : ((LandNow) original).replyTo();
      return Effect().reply(replyTo, refused);
    }
    ApplierState with = recalled.proposal().map(state::with).orElse(state);
    if (original instanceof Get c) {
      return onGet(with, c);
    } else if (original instanceof Approve c) {
      return onApprove(with, c);
    } else if (original instanceof Reject c) {
      return onReject(with, c);
    } else if (original instanceof Rollback c) {
      return landings.onRollback(with, c);
    }
    return landings.onLandNow(with, (LandNow) original);
  }

  private ReplyEffect<Event, ApplierState> onGet(ApplierState state, Get get) {
    return Effect().reply(get.replyTo(), state.get(get.proposalId()).<Reply>map(Accepted::new).orElseGet(() -> notFound(get.proposalId())));
  }

  // ---- proposing and deciding ----

  private ReplyEffect<Event, ApplierState> onPropose(ApplierState state, Propose command) {
    Optional<Proposal> open = state.open();
    Proposal.Draft given = command.draft();
    if (open.isPresent() && open.get().draft().checkpointSeq() == given.checkpointSeq()) {
      // the same checkpoint proposed again (a reconnecting agent, a repeated request): the same proposal
      return Effect().reply(command.replyTo(), new Accepted(open.get()));
    }
    if (open.isPresent() && landings.applying(open.get().id())) {
      return Effect().reply(command.replyTo(), new Refused(Rejection.Kind.CONFLICT,
          "proposal " + open.get().id() + " of feature '" + featureId + "' is being applied; propose again once it is done"));
    }
    if (given.checkpointSeq() < latestCheckpoint) {
      return Effect().reply(command.replyTo(), conflict("checkpoint " + latestCheckpoint + " was taken while checkpoint "
          + given.checkpointSeq() + " was being proposed; propose again"));
    }
    Instant now = Instant.now();
    int number = state.made() + 1;
    Proposal.Draft draft = numbered(given, number);
    List<Event> events = new ArrayList<>();
    open.ifPresent(older -> events.add(new ProposalWentStale(featureId, older.id(), given.checkpointSeq(), now)));
    events.add(new ProposalCreated(featureId, draft, command.validation(), now));
    if (command.validation().equals(Proposal.VALID)) {
      ApprovalRule.ruleMet(featureId, Proposal.created(draft, Proposal.VALID, now), now).ifPresent(events::add);
    }
    return Effect().persist(events)
        .thenRun(this::reconcile)
        .thenReply(command.replyTo(), updated -> new Accepted(updated.get(draft.id()).orElseThrow()));
  }

  private Proposal.Draft numbered(Proposal.Draft d, int number) {
    return new Proposal.Draft(featureId + "." + number, featureId, number, d.description(), d.checkpointSeq(), d.checkpointCommit(),
        d.tree(), d.gitDir(), d.target(), d.base(), d.changes(), d.tier(), d.requiredApprovals(), d.reviewEndsAt(), d.expiresAt(),
        d.test(), d.proposedBy(), d.proposedAt(), d.sandbox());
  }

  private ReplyEffect<Event, ApplierState> onApprove(ApplierState state, Approve command) {
    Optional<Proposal> found = state.get(command.proposalId());
    if (found.isEmpty()) {
      return Effect().reply(command.replyTo(), notFound(command.proposalId()));
    }
    Proposal p = found.get();
    if (p.status() != ProposalStatus.PROPOSED) {
      return Effect().reply(command.replyTo(), conflict("cannot approve proposal " + p.id() + ": it is " + p.status().label()
          + (p.status() == ProposalStatus.STALE ? " (a newer checkpoint replaced it; propose again)" : "")));
    }
    if (settings.separates(p.draft().tier()) && p.draft().proposedBy().equals(command.by())) {
      // separation of duties: not even an admin's bypass lets a proposer approve its own work
      return Effect().reply(command.replyTo(), new Refused(Rejection.Kind.FORBIDDEN, command.by() + " proposed " + p.id()
          + " and may not approve it: a " + p.draft().tier().label() + "-tier proposal needs an approver other than its proposer"
          + " (warden.apply.separation-of-duties)"));
    }
    if (command.bypass() && !command.role().includes(Role.ADMIN)) {
      return Effect().reply(command.replyTo(), new Refused(Rejection.Kind.CONFLICT, "only an admin may bypass the tier's rule"));
    }
    if (command.bypass() && command.reason().filter(r -> !r.isBlank()).isEmpty()) {
      return Effect().reply(command.replyTo(), new Refused(Rejection.Kind.INVALID, "a bypass needs a reason"));
    }
    if (!command.bypass() && p.approvers().contains(command.by())) {
      return Effect().reply(command.replyTo(), conflict("proposal " + p.id() + " is already approved by " + command.by()
          + "; it needs " + p.draft().requiredApprovals() + " distinct approver(s)"));
    }
    Instant now = Instant.now();
    ApprovalGiven given = new ApprovalGiven(featureId, p.id(), command.by(), command.role().label(), command.reason(), command.bypass(), now);
    List<Event> events = new ArrayList<>(List.of(given));
    ApprovalRule.ruleMet(featureId, ProposalEvents.apply(p, given), now).ifPresent(events::add);
    return Effect().persist(events)
        .thenRun(this::reconcile)
        .thenReply(command.replyTo(), updated -> new Accepted(updated.get(p.id()).orElseThrow()));
  }

  private ReplyEffect<Event, ApplierState> onReject(ApplierState state, Reject command) {
    Optional<Proposal> found = state.get(command.proposalId());
    if (found.isEmpty()) {
      return Effect().reply(command.replyTo(), notFound(command.proposalId()));
    }
    Proposal p = found.get();
    if (!p.status().isOpen()) {
      return Effect().reply(command.replyTo(), conflict("cannot reject proposal " + p.id() + ": it is " + p.status().label()));
    }
    if (landings.applying(p.id())) {
      return Effect().reply(command.replyTo(), conflict("cannot reject proposal " + p.id() + ": it is being applied"));
    }
    return Effect().persist(new ProposalRejected(featureId, p.id(), command.by(), command.reason(), Instant.now()))
        .thenRun(this::reconcile)
        .thenReply(command.replyTo(), updated -> new Accepted(updated.get(p.id()).orElseThrow()));
  }

  private ReplyEffect<Event, ApplierState> onWithdraw(ApplierState state, Withdraw command) {
    Optional<Proposal> open = state.open();
    if (open.isEmpty()) {
      return Effect().reply(command.replyTo(), new Refused(Rejection.Kind.NOT_FOUND, "feature '" + featureId + "' has no open proposal"));
    }
    if (landings.applying(open.get().id())) {
      return Effect().reply(command.replyTo(), conflict("proposal " + open.get().id() + " is being applied"));
    }
    String id = open.get().id();
    return Effect().persist(new ProposalWithdrawn(featureId, id, command.by(), command.reason(), Instant.now()))
        .thenRun(this::reconcile)
        .thenReply(command.replyTo(), updated -> new Accepted(updated.get(id).orElseThrow()));
  }

  private ReplyEffect<Event, ApplierState> onNoticeCheckpoint(ApplierState state, NoticeCheckpoint command) {
    latestCheckpoint = Math.max(latestCheckpoint, command.seq());
    Optional<Proposal> open = state.open();
    if (open.isEmpty() || open.get().draft().checkpointSeq() >= command.seq() || landings.applying(open.get().id())) {
      return Effect().noReply();
    }
    Proposal p = open.get();
    peers.tellAgent("proposal " + p.id() + " is stale: checkpoint " + command.seq() + " is newer than its checkpoint "
        + p.draft().checkpointSeq() + "; propose again when the work is ready");
    return Effect().persist(new ProposalWentStale(featureId, p.id(), command.seq(), Instant.now()))
        .thenRun(this::reconcile)
        .thenNoReply();
  }

  // ---- timers ----

  private ReplyEffect<Event, ApplierState> onReviewWindowEnded(ApplierState state, ReviewWindowEnded command) {
    Optional<Proposal> p = state.get(command.proposalId());
    if (p.isEmpty() || p.get().status() != ProposalStatus.PROPOSED || !p.get().validation().equals(Proposal.VALID)) {
      return Effect().noReply(); // decided meanwhile, or still validating (decided when the verdict comes)
    }
    if (p.get().draft().reviewEndsAt().filter(Instant.now()::isBefore).isPresent()) {
      armTimers(p.get()); // a timer cannot reach that far: it fires early and is set again
      return Effect().noReply();
    }
    Duration window = Duration.between(p.get().draft().proposedAt(), p.get().draft().reviewEndsAt().orElse(Instant.now()));
    return Effect().persist(new ProposalApproved(featureId, p.get().id(), POLICY,
            "medium tier: nobody rejected it within its review window of " + LandingOutcomes.human(window), Instant.now()))
        .thenRun(this::reconcile)
        .thenNoReply();
  }

  private ReplyEffect<Event, ApplierState> onExpiryReached(ApplierState state, ExpiryReached command) {
    Optional<Proposal> p = state.get(command.proposalId());
    if (p.isEmpty() || p.get().status() != ProposalStatus.PROPOSED) {
      return Effect().noReply();
    }
    if (Instant.now().isBefore(p.get().draft().expiresAt())) {
      armTimers(p.get()); // a timer cannot reach that far: it fires early and is set again
      return Effect().noReply();
    }
    peers.tellAgent("proposal " + p.get().id() + " expired without a decision; propose again if the work is still wanted");
    return Effect().persist(new ProposalExpired(featureId, p.get().id(), Instant.now())).thenRun(this::reconcile).thenNoReply();
  }

  // ---- telling the feature ----

  private ReplyEffect<Event, ApplierState> onFeatureSettledDone(ApplierState state, FeatureSettledDone done) {
    settling.remove(done.proposalId());
    if (done.failure().isPresent()) {
      log.warn("[{}] cannot settle the feature after proposal {}: {}; trying again", featureId, done.proposalId(), done.failure().get());
      timers.startSingleTimer("settle-" + done.proposalId(), new IdleCheck(), settings.deferredRetry());
      return Effect().noReply();
    }
    Optional<Proposal> p = state.get(done.proposalId());
    if (p.isEmpty() || p.get().featureSettled()) {
      return Effect().noReply();
    }
    return Effect().persist(new FeatureSettled(featureId, done.proposalId(), Instant.now())).thenRun(this::reconcile).thenNoReply();
  }

  private ReplyEffect<Event, ApplierState> onIdleCheck(ApplierState state, IdleCheck check) {
    if (!busy(state) && shard.isPresent()) {
      // idle for a whole idle-stop: stop, and leave the remembered set (started again when asked)
      shard.get().tell(new Passivate<>(context.getSelf()));
    } else {
      reconcile(state);
    }
    return Effect().noReply();
  }

  /** Something is open, running or not yet told to the feature. */
  private boolean busy(ApplierState state) {
    return landings.busy() || !settling.isEmpty()
        || state.proposals().values().stream().anyMatch(p -> p.status().isOpen() || needsSettling(p));
  }

  static boolean needsSettling(Proposal p) {
    return !p.status().isOpen() && !p.featureSettled() && p.status() != ProposalStatus.REVERTED;
  }

  /**
   * Starts whatever the state says is due and nothing is doing yet: timers of open proposals, the
   * apply of an approved one, telling the feature about a finished one. Runs after recovery and after
   * every change; stops the entity when nothing is left to do.
   */
  private void reconcile(ApplierState state) {
    for (Proposal p : state.proposals().values()) {
      if (p.status() == ProposalStatus.PROPOSED) {
        armTimers(p);
      } else if (p.status() == ProposalStatus.APPROVED) {
        if (!landings.applying(p.id()) && !timers.isTimerActive("apply-" + p.id())) {
          context.getSelf().tell(new StartApply(p.id()));
        }
      } else if (needsSettling(p) && settling.add(p.id())) {
        context.pipeToSelf(peers.settleFeature(p), (done, failure) -> new FeatureSettledDone(p.id(),
            Optional.ofNullable(failure).map(dev.warden.Failures::describe)));
      }
    }
    if (busy(state)) {
      timers.cancel("idle");
    } else {
      timers.startSingleTimer("idle", new IdleCheck(), settings.idleStop());
    }
  }

  private void armTimers(Proposal p) {
    Instant now = Instant.now();
    if (!timers.isTimerActive("expire-" + p.id())) {
      timers.startSingleTimer("expire-" + p.id(), new ExpiryReached(p.id()), until(now, p.draft().expiresAt()));
    }
    if (p.draft().tier() == Tier.MEDIUM && p.draft().reviewEndsAt().isPresent() && !timers.isTimerActive("review-" + p.id())) {
      timers.startSingleTimer("review-" + p.id(), new ReviewWindowEnded(p.id()), until(now, p.draft().reviewEndsAt().get()));
    }
    verdictPolls.start(p);
  }

  /** The delay to {@code at}; the scheduler's reach is bounded, so far ones are re-armed when they fire. */
  private static Duration until(Instant now, Instant at) {
    Duration d = Duration.between(now, at);
    Duration max = Duration.ofDays(200);
    return d.isNegative() ? Duration.ZERO : d.compareTo(max) > 0 ? max : d;
  }

  // ---- events ----

  @Override
  public EventHandler<ApplierState, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(ApplierState::next);
  }

  // ---- helpers ----

  static Reply notFound(String proposalId) {
    return new Refused(Rejection.Kind.NOT_FOUND, "no proposal '" + proposalId + "'");
  }

  static Reply conflict(String message) {
    return new Refused(Rejection.Kind.CONFLICT, message);
  }

}
