package dev.warden.feature;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.sharding.typed.javadsl.Entity;
import akka.cluster.sharding.typed.javadsl.EntityTypeKey;
import akka.cluster.sharding.typed.javadsl.ClusterSharding.Passivate;
import akka.cluster.sharding.typed.javadsl.ClusterSharding.ShardCommand;
import akka.persistence.typed.PersistenceId;
import akka.persistence.typed.RecoveryCompleted;
import akka.persistence.typed.javadsl.SignalHandler;
import akka.persistence.typed.javadsl.CommandHandlerWithReply;
import akka.persistence.typed.javadsl.CommandHandlerWithReplyBuilder;
import akka.persistence.typed.javadsl.EventHandler;
import akka.persistence.typed.javadsl.EventHandlerBuilder;
import akka.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import akka.persistence.typed.javadsl.ReplyEffect;
import dev.warden.CborSerializable;
import dev.warden.Rejection;
import dev.warden.plan.Plan;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * One feature: a unit of agent work on its own branch and worktree. An event-sourced entity hosted
 * by Cluster Sharding (persistence id {@code Feature|<id>}); it owns the feature's lifecycle and
 * enforces its transitions. The git work (branch, worktree) is done by {@link FeatureWorkspaces}
 * before registration and after abandonment, so the entity itself only decides and records.
 */
public final class Feature
    extends EventSourcedBehaviorWithEnforcedReplies<Feature.Command, Feature.Event, Feature.State> {

  public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "Feature");
  /** Every feature event carries this tag; the activity feed reads it. */
  public static final String TAG = "feature";
  private static final Set<String> TAGS = dev.warden.FeedTags.of(TAG);

  // ---- protocol ----

  public sealed interface Command extends CborSerializable {}

  /** Record a feature whose branch and worktree {@link FeatureWorkspaces} has just prepared. */
  public record Register(Registration registration, String by, ActorRef<Reply> replyTo) implements Command {}

  public record Pause(String reason, String by, ActorRef<Reply> replyTo) implements Command {}

  public record Resume(String by, ActorRef<Reply> replyTo) implements Command {}

  public record Abandon(String reason, String by, ActorRef<Reply> replyTo) implements Command {}

  public record Get(ActorRef<Reply> replyTo) implements Command {}

  /** Replace the plan; the feature numbers the new version. */
  public record ChangePlan(Plan plan, String by, ActorRef<Reply> replyTo) implements Command {}

  /** Something went wrong that a person should look at (unquiesced checkpoint, silent agent). */
  public record Escalate(String reason, boolean holdAgent, ActorRef<Reply> replyTo) implements Command {}

  /**
   * The agent asked a question; the feature waits for a person's answer. Refused (409) when the
   * feature already has {@code maxOpen} open questions.
   */
  public record AskQuestion(String questionId, String text, int maxOpen, ActorRef<Reply> replyTo) implements Command {
    public AskQuestion(String questionId, String text, ActorRef<Reply> replyTo) {
      this(questionId, text, Integer.MAX_VALUE, replyTo);
    }
  }

  public record AnswerQuestion(String questionId, String answer, String by, ActorRef<Reply> replyTo) implements Command {}

  /** The applier made proposal {@code proposalId} of checkpoint {@code checkpoint}: the feature is proposed. */
  public record RecordProposal(String description, Optional<Long> checkpoint, String by, Optional<String> proposalId,
      ActorRef<Reply> replyTo) implements Command {}

  /** How a proposal ended, as far as the feature is concerned. */
  public enum ProposalEnd {
    /** Landed on the target: the feature is done. */
    APPLIED,
    /** Refused by a person: the feature is done. */
    REJECTED,
    /** Failed, expired, went stale or was withdrawn: the feature goes back to work and may propose again. */
    RETURNED
  }

  /**
   * The applier's word that proposal {@code proposalId} ended as {@code end}. Repeating it is
   * harmless; a proposal the feature no longer waits for (a newer one was made) changes nothing.
   */
  public record SettleProposal(String proposalId, ProposalEnd end, String reason, String by, ActorRef<Reply> replyTo)
      implements Command {}

  /**
   * The wrapper said in its {@code hello} how it runs the agent: {@code sandboxed} under bubblewrap, or
   * not, for {@code reason} (no bubblewrap here, {@code --no-sandbox}). Recorded only when it differs
   * from the last run's, so a reconnect's hello adds nothing.
   */
  public record RecordRun(boolean sandboxed, Optional<String> reason, String agent, String by, ActorRef<Reply> replyTo)
      implements Command {}

  /**
   * The wrapper said the agent's command exited with {@code code}: an active feature says so in its
   * reason ({@code agent exited with 4}); the status does not change (a person decides what next).
   */
  public record RecordExit(int code, String agent, ActorRef<Reply> replyTo) implements Command {}

  /**
   * The feature's agent connected (said {@code hello}: {@code connected} true, its {@code agent} name and
   * {@code version}) or its connection ended after a hello ({@code connected} false, {@code reason}).
   * Recorded for the feed only: the connection's live state is the AgentLink's; nothing for an ended feature.
   */
  public record RecordConnection(boolean connected, String agent, Optional<String> version, Optional<String> reason,
      ActorRef<Reply> replyTo) implements Command {}

  /**
   * A person ({@code by}) wrote {@code bytes} UTF-8 bytes to the feature's connected agent. Recorded for the feed
   * only, without the text (viewers read the feed); nothing for an ended feature.
   */
  public record RecordMessage(String by, long bytes, ActorRef<Reply> replyTo) implements Command {}

  /** What a prepared workspace looks like: where the feature lives and what it starts from. */
  public record Registration(
      String repo, String target, String branch, String worktree, String baseCommit, Plan plan)
      implements CborSerializable {}

  public sealed interface Reply extends CborSerializable {}

  public record Accepted(FeatureSummary feature) implements Reply {}

  public record Rejected(Rejection.Kind kind, String message) implements Reply {
    public Rejection toRejection() {
      return Rejection.of(kind, message);
    }
  }

  /** A feature as the rest of Warden sees it. */
  public record FeatureSummary(
      String id,
      FeatureStatus status,
      String repo,
      String target,
      String branch,
      String worktree,
      String baseCommit,
      Plan plan,
      String createdBy,
      Instant createdAt,
      Instant updatedAt,
      Optional<String> statusReason,
      List<OpenQuestion> openQuestions,
      FeatureStatus statusAfterQuestions,
      Optional<Proposal> proposal,
      boolean agentHeld,
      Optional<AgentRun> lastRun)
      implements CborSerializable {

    public FeatureSummary {
      openQuestions = List.copyOf(openQuestions);
      lastRun = lastRun == null ? Optional.empty() : lastRun;
    }

    /** Whether the agent's current (latest) run is not sandboxed. */
    public boolean unsandboxed() {
      return lastRun.map(run -> !run.sandboxed()).orElse(false);
    }

    FeatureSummary withLastRun(AgentRun run) {
      return new FeatureSummary(id, status, repo, target, branch, worktree, baseCommit, plan, createdBy, createdAt, updatedAt,
          statusReason, openQuestions, statusAfterQuestions, proposal, agentHeld, Optional.of(run));
    }

    FeatureSummary withStatus(FeatureStatus newStatus, Optional<String> reason, Instant at) {
      return new FeatureSummary(id, newStatus, repo, target, branch, worktree, baseCommit, plan, createdBy, createdAt, at,
          reason, openQuestions, statusAfterQuestions, proposal, agentHeld, lastRun);
    }

    FeatureSummary withHold(boolean held) {
      return new FeatureSummary(id, status, repo, target, branch, worktree, baseCommit, plan, createdBy, createdAt, updatedAt,
          statusReason, openQuestions, statusAfterQuestions, proposal, held, lastRun);
    }

    FeatureSummary withQuestions(List<OpenQuestion> questions, FeatureStatus after) {
      return new FeatureSummary(id, status, repo, target, branch, worktree, baseCommit, plan, createdBy, createdAt, updatedAt,
          statusReason, questions, after, proposal, agentHeld, lastRun);
    }

    FeatureSummary withPlan(Plan newPlan, Instant at) {
      return new FeatureSummary(id, status, repo, target, branch, worktree, baseCommit, newPlan, createdBy, createdAt, at,
          statusReason, openQuestions, statusAfterQuestions, proposal, agentHeld, lastRun);
    }

    FeatureSummary withProposal(Proposal newProposal) {
      return new FeatureSummary(id, status, repo, target, branch, worktree, baseCommit, plan, createdBy, createdAt, updatedAt,
          statusReason, openQuestions, statusAfterQuestions, Optional.of(newProposal), agentHeld, lastRun);
    }

    /** Live features have a worktree and an agent; terminal ones are history. */
    public boolean isLive() {
      return !status.isTerminal();
    }
  }

  /** How the agent's latest run was started, as its wrapper said: under a sandbox or not, and why not. */
  public record AgentRun(boolean sandboxed, Optional<String> reason, String agent, Instant at) implements CborSerializable {}

  public record OpenQuestion(String id, String text, Instant askedAt) implements CborSerializable {}

  public record Proposal(String description, Optional<Long> checkpoint, String proposedBy, Instant at, Optional<String> id)
      implements CborSerializable {
    public Proposal {
      id = id == null ? Optional.empty() : id;
    }
  }

  // ---- events (stored contracts: never rename; add fields as Optional) ----

  public sealed interface Event extends CborSerializable {
    String featureId();
  }

  public record FeatureRegistered(String featureId, Registration registration, String registeredBy, Instant at)
      implements Event {}

  /** Admitted to work. Until admission control exists every registered feature is admitted at once. */
  public record FeatureActivated(String featureId, Instant at) implements Event {}

  public record FeaturePaused(String featureId, Optional<String> reason, String pausedBy, Instant at) implements Event {}

  public record FeatureResumed(String featureId, String resumedBy, Instant at) implements Event {}

  public record FeatureAbandoned(String featureId, Optional<String> reason, String abandonedBy, Instant at)
      implements Event {}

  /** {@code agentHeld}: the agent was paused too (a critical violation); absent in events before it existed. */
  public record FeatureEscalated(String featureId, String reason, Instant at, Optional<Boolean> agentHeld) implements Event {}

  /** The plan was replaced; {@code plan.version()} is the new version. */
  public record PlanChanged(String featureId, Plan plan, String changedBy, Instant at) implements Event {}

  public record QuestionAsked(String featureId, String questionId, String text, Instant at) implements Event {}

  public record QuestionAnswered(String featureId, String questionId, String answer, String answeredBy, Instant at)
      implements Event {}

  /** {@code proposalId}: the applier's proposal; absent in events written before the applier existed. */
  public record FeatureProposed(String featureId, String description, Optional<Long> checkpoint, String proposedBy, Instant at,
      Optional<String> proposalId) implements Event {
    public FeatureProposed {
      proposalId = proposalId == null ? Optional.empty() : proposalId;
    }
  }

  /** Its proposal landed on the target branch: the feature is done. */
  public record FeatureApplied(String featureId, String proposalId, String reason, Instant at) implements Event {}

  /** A person rejected its proposal: the feature is done. */
  public record FeatureRejected(String featureId, String proposalId, String reason, String rejectedBy, Instant at) implements Event {}

  /** Its proposal failed, expired or went stale: back to work. */
  public record FeatureReturnedToWork(String featureId, String proposalId, String reason, Instant at) implements Event {}

  /**
   * The agent runs without a sandbox ({@code bin/warden agent --no-sandbox}, or no usable bubblewrap):
   * it could write anywhere its user can and read Warden's tokens. {@code agent}: its program's name.
   */
  public record AgentRanUnsandboxed(String featureId, String reason, String agent, String by, Instant at) implements Event {}

  /** The agent runs under the sandbox again after an unsandboxed run (or for the first time): the mark is cleared. */
  public record AgentRanSandboxed(String featureId, String agent, String by, Instant at) implements Event {}

  /**
   * The agent's command exited with {@code code} ({@code bin/warden agent} said so): nothing runs on the
   * feature now. An active feature's reason becomes {@code agent exited with <code>}.
   */
  public record AgentExited(String featureId, int code, String agent, Instant at) implements Event {
    public String reason() {
      return "agent exited with " + code;
    }
  }

  /** Its agent said hello on a new connection (a feed fact; the feature's state does not change). */
  public record AgentConnected(String featureId, String agent, Optional<String> version, Instant at) implements Event {}

  /** The connection of an agent that had said hello ended: it closed, or Warden closed it ({@code reason}). */
  public record AgentDisconnected(String featureId, String agent, String reason, Instant at) implements Event {}

  /** A person ({@code by}) wrote to the connected agent; {@code bytes}: the note's UTF-8 length (its text is not kept). */
  public record AgentMessaged(String featureId, String by, long bytes, Instant at) implements Event {}

  // ---- state ----

  public sealed interface State extends CborSerializable {}

  /** No feature with this id was ever registered. */
  public record Empty() implements State {}

  public record Existing(FeatureSummary feature) implements State {}

  // ---- behavior ----

  private final String featureId;
  private final FeatureRuntime runtime;
  private final Optional<ActorRef<ShardCommand>> shard;
  private final ActorRef<Command> self;

  /**
   * Remembered entities: a live feature is started again after a restart (its watchdog must run
   * without anyone asking), and never passivated for being idle; an ended one passivates itself.
   */
  public static void init(ActorSystem<?> system, FeatureRuntime runtime) {
    ClusterSharding.get(system).init(Entity.of(ENTITY_KEY,
            context -> akka.actor.typed.javadsl.Behaviors.<Command>setup(actor ->
                new Feature(context.getEntityId(), runtime, Optional.of(context.getShard()), actor.getSelf())))
        .withSettings(akka.cluster.sharding.typed.ClusterShardingSettings.create(system).withRememberEntities(true)));
  }

  /** @param self how the entity is addressed (its sharding ref), for passivation; tests pass any ref. */
  public static Behavior<Command> create(String featureId, FeatureRuntime runtime, Optional<ActorRef<ShardCommand>> shard,
      ActorRef<Command> self) {
    return new Feature(featureId, runtime, shard, self);
  }

  /** An entity with no runtime and no shard: for tests of the lifecycle alone. */
  public static Behavior<Command> create(String featureId) {
    return akka.actor.typed.javadsl.Behaviors.setup(context -> new Feature(featureId, FeatureRuntime.NONE, Optional.empty(), context.getSelf()));
  }

  private Feature(String featureId, FeatureRuntime runtime, Optional<ActorRef<ShardCommand>> shard, ActorRef<Command> self) {
    super(PersistenceId.of(ENTITY_KEY.name(), featureId));
    this.featureId = featureId;
    this.runtime = runtime;
    this.shard = shard;
    this.self = self;
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), state -> {
          if (state instanceof Existing existing && existing.feature().isLive()) {
            runtime.start(existing.feature());
            if (existing.feature().agentHeld()) {
              runtime.hold(featureId, true);
            }
          } else {
            // ended, or never registered (someone asked about an unknown id): nothing to keep running or
            // to remember across restarts
            passivate();
          }
        })
        .build();
  }

  private void passivate() {
    shard.ifPresent(s -> s.tell(new Passivate<>(self)));
  }

  @Override
  public State emptyState() {
    return new Empty();
  }

  @Override
  public Set<String> tagsFor(Event event) {
    return TAGS;
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    CommandHandlerWithReplyBuilder<Command, Event, State> builder = newCommandHandlerWithReplyBuilder();
    builder
        .forStateType(Empty.class)
        .onCommand(Register.class, this::onRegister)
        .onCommand(Pause.class, command -> notFound(command.replyTo()))
        .onCommand(Resume.class, command -> notFound(command.replyTo()))
        .onCommand(Abandon.class, command -> notFound(command.replyTo()))
        .onCommand(Get.class, command -> notFound(command.replyTo()))
        .onCommand(Escalate.class, command -> notFound(command.replyTo()))
        .onCommand(AskQuestion.class, command -> notFound(command.replyTo()))
        .onCommand(AnswerQuestion.class, command -> notFound(command.replyTo()))
        .onCommand(RecordProposal.class, command -> notFound(command.replyTo()))
        .onCommand(SettleProposal.class, command -> notFound(command.replyTo()))
        .onCommand(ChangePlan.class, command -> notFound(command.replyTo()))
        .onCommand(RecordRun.class, command -> notFound(command.replyTo()))
        .onCommand(RecordExit.class, command -> notFound(command.replyTo()))
        .onCommand(RecordConnection.class, command -> notFound(command.replyTo()))
        .onCommand(RecordMessage.class, command -> notFound(command.replyTo()));
    builder
        .forStateType(Existing.class)
        .onCommand(Register.class, (state, command) -> reject(command.replyTo(), Rejection.Kind.CONFLICT, "feature '" + featureId + "' already exists"))
        .onCommand(Pause.class, this::onPause)
        .onCommand(Resume.class, this::onResume)
        .onCommand(Abandon.class, this::onAbandon)
        .onCommand(Get.class, (state, command) -> Effect().reply(command.replyTo(), new Accepted(state.feature())))
        .onCommand(Escalate.class, this::onEscalate)
        .onCommand(AskQuestion.class, this::onAskQuestion)
        .onCommand(AnswerQuestion.class, this::onAnswerQuestion)
        .onCommand(RecordProposal.class, this::onRecordProposal)
        .onCommand(SettleProposal.class, this::onSettleProposal)
        .onCommand(ChangePlan.class, this::onChangePlan)
        .onCommand(RecordRun.class, this::onRecordRun)
        .onCommand(RecordExit.class, this::onRecordExit)
        .onCommand(RecordConnection.class, this::onRecordConnection)
        .onCommand(RecordMessage.class, this::onRecordMessage);
    return builder.build();
  }

  private ReplyEffect<Event, State> onRegister(Register command) {
    Instant now = Instant.now();
    return Effect()
        .persist(List.of(
            new FeatureRegistered(featureId, command.registration(), command.by(), now),
            new FeatureActivated(featureId, now)))
        .thenRun(state -> runtime.start(((Existing) state).feature()))
        .thenReply(command.replyTo(), state -> accepted(state));
  }

  private ReplyEffect<Event, State> onPause(Existing state, Pause command) {
    FeatureStatus status = state.feature().status();
    if (status == FeatureStatus.PAUSED) {
      return Effect().reply(command.replyTo(), new Accepted(state.feature()));
    }
    if (status != FeatureStatus.ACTIVE && status != FeatureStatus.NEEDS_ATTENTION && status != FeatureStatus.AWAITING_INPUT) {
      return illegal(command.replyTo(), "pause", status);
    }
    return Effect()
        .persist(new FeaturePaused(featureId, Optional.ofNullable(command.reason()), command.by(), Instant.now()))
        .thenRun(updated -> runtime.hold(featureId, true))
        .thenReply(command.replyTo(), Feature::accepted);
  }

  private ReplyEffect<Event, State> onResume(Existing state, Resume command) {
    FeatureStatus status = state.feature().status();
    if (status == FeatureStatus.ACTIVE) {
      return Effect().reply(command.replyTo(), new Accepted(state.feature()));
    }
    if (status == FeatureStatus.AWAITING_INPUT) {
      return reject(command.replyTo(), Rejection.Kind.CONFLICT,
          "cannot resume feature '" + featureId + "': it is awaiting an answer to its open question");
    }
    if (status != FeatureStatus.PAUSED && status != FeatureStatus.NEEDS_ATTENTION) {
      return illegal(command.replyTo(), "resume", status);
    }
    return Effect()
        .persist(new FeatureResumed(featureId, command.by(), Instant.now()))
        .thenRun(updated -> runtime.hold(featureId, false))
        .thenReply(command.replyTo(), Feature::accepted);
  }

  private ReplyEffect<Event, State> onAbandon(Existing state, Abandon command) {
    FeatureStatus status = state.feature().status();
    if (status == FeatureStatus.ABANDONED) {
      return Effect().reply(command.replyTo(), new Accepted(state.feature()));
    }
    if (status.isTerminal()) {
      return illegal(command.replyTo(), "abandon", status);
    }
    return Effect()
        .persist(new FeatureAbandoned(featureId, Optional.ofNullable(command.reason()), command.by(), Instant.now()))
        .thenReply(command.replyTo(), Feature::accepted);
  }

  private ReplyEffect<Event, State> onEscalate(Existing state, Escalate command) {
    FeatureSummary feature = state.feature();
    FeatureStatus status = feature.status();
    // a proposed feature is escalated only for a critical finding: its agent must stop too
    boolean live = status == FeatureStatus.ACTIVE || status == FeatureStatus.PAUSED || status == FeatureStatus.AWAITING_INPUT
        || status == FeatureStatus.NEEDS_ATTENTION || (status == FeatureStatus.PROPOSED && command.holdAgent());
    boolean newHold = command.holdAgent() && !feature.agentHeld();
    if (live && (status != FeatureStatus.NEEDS_ATTENTION || newHold)) {
      return Effect()
          .persist(new FeatureEscalated(featureId, command.reason(), Instant.now(), Optional.of(command.holdAgent() || feature.agentHeld())))
          .thenRun(updated -> {
            if (newHold) {
              runtime.hold(featureId, true);
            }
          })
          .thenReply(command.replyTo(), Feature::accepted);
    }
    // already needs attention (and held if asked), not started, proposed or ended: nothing more to say
    return Effect().reply(command.replyTo(), new Accepted(feature));
  }

  private ReplyEffect<Event, State> onAskQuestion(Existing state, AskQuestion command) {
    FeatureSummary feature = state.feature();
    if (feature.openQuestions().stream().anyMatch(q -> q.id().equals(command.questionId()))) {
      return Effect().reply(command.replyTo(), new Accepted(feature));
    }
    FeatureStatus status = feature.status();
    if (status != FeatureStatus.ACTIVE && status != FeatureStatus.PAUSED && status != FeatureStatus.NEEDS_ATTENTION
        && status != FeatureStatus.AWAITING_INPUT) {
      return illegal(command.replyTo(), "ask a question on", status);
    }
    if (feature.openQuestions().size() >= command.maxOpen()) {
      return reject(command.replyTo(), Rejection.Kind.CONFLICT, "feature '" + featureId + "' already has " + command.maxOpen()
          + " open questions (warden.agent.max-open-questions): wait for answers before asking more");
    }
    return Effect()
        .persist(new QuestionAsked(featureId, command.questionId(), command.text(), Instant.now()))
        .thenReply(command.replyTo(), Feature::accepted);
  }

  private ReplyEffect<Event, State> onAnswerQuestion(Existing state, AnswerQuestion command) {
    if (state.feature().status().isTerminal()) {
      return illegal(command.replyTo(), "answer a question of", state.feature().status());
    }
    if (state.feature().openQuestions().stream().noneMatch(q -> q.id().equals(command.questionId()))) {
      return reject(command.replyTo(), Rejection.Kind.NOT_FOUND,
          "feature '" + featureId + "' has no open question '" + command.questionId() + "'");
    }
    return Effect()
        .persist(new QuestionAnswered(featureId, command.questionId(), command.answer(), command.by(), Instant.now()))
        .thenReply(command.replyTo(), Feature::accepted);
  }

  private ReplyEffect<Event, State> onChangePlan(Existing state, ChangePlan command) {
    FeatureSummary feature = state.feature();
    if (feature.status().isTerminal()) {
      return illegal(command.replyTo(), "change the plan of", feature.status());
    }
    if (command.plan().withVersion(feature.plan().version()).equals(feature.plan())) {
      // the same plan sent again: nothing changes, no new version
      return Effect().reply(command.replyTo(), new Accepted(feature));
    }
    Plan next = command.plan().withVersion(feature.plan().version() + 1);
    return Effect()
        .persist(new PlanChanged(featureId, next, command.by(), Instant.now()))
        // the watchdog takes the new disk quota at once (the validator reads the plan per checkpoint)
        .thenRun(updated -> runtime.start(((Existing) updated).feature()))
        .thenReply(command.replyTo(), Feature::accepted);
  }

  private ReplyEffect<Event, State> onRecordRun(Existing state, RecordRun command) {
    FeatureSummary feature = state.feature();
    Optional<String> reason = command.sandboxed() ? Optional.empty()
        : Optional.of(command.reason().filter(r -> !r.isBlank()).orElse("no reason given"));
    boolean same = feature.lastRun().map(run -> run.sandboxed() == command.sandboxed() && run.reason().equals(reason)).orElse(false);
    if (feature.status().isTerminal() || same) {
      return Effect().reply(command.replyTo(), new Accepted(feature));
    }
    Instant now = Instant.now();
    Event event = command.sandboxed()
        ? new AgentRanSandboxed(featureId, command.agent(), command.by(), now)
        : new AgentRanUnsandboxed(featureId, reason.get(), command.agent(), command.by(), now);
    return Effect().persist(event).thenReply(command.replyTo(), Feature::accepted);
  }

  private ReplyEffect<Event, State> onRecordExit(Existing state, RecordExit command) {
    if (state.feature().status().isTerminal()) {
      return Effect().reply(command.replyTo(), new Accepted(state.feature()));
    }
    return Effect().persist(new AgentExited(featureId, command.code(), command.agent(), Instant.now()))
        .thenReply(command.replyTo(), Feature::accepted);
  }

  private ReplyEffect<Event, State> onRecordConnection(Existing state, RecordConnection command) {
    if (state.feature().status().isTerminal()) {
      return Effect().reply(command.replyTo(), new Accepted(state.feature()));
    }
    Instant now = Instant.now();
    Event event = command.connected()
        ? new AgentConnected(featureId, command.agent(), command.version(), now)
        : new AgentDisconnected(featureId, command.agent(), command.reason().orElse("the connection ended"), now);
    return Effect().persist(event).thenReply(command.replyTo(), Feature::accepted);
  }

  private ReplyEffect<Event, State> onRecordMessage(Existing state, RecordMessage command) {
    if (state.feature().status().isTerminal()) {
      return Effect().reply(command.replyTo(), new Accepted(state.feature()));
    }
    return Effect().persist(new AgentMessaged(featureId, command.by(), command.bytes(), Instant.now()))
        .thenReply(command.replyTo(), Feature::accepted);
  }

  private ReplyEffect<Event, State> onRecordProposal(Existing state, RecordProposal command) {
    FeatureStatus status = state.feature().status();
    if (status == FeatureStatus.AWAITING_INPUT) {
      return reject(command.replyTo(), Rejection.Kind.CONFLICT,
          "cannot propose feature '" + featureId + "': it is awaiting an answer to its open question");
    }
    if (status != FeatureStatus.ACTIVE && status != FeatureStatus.PAUSED && status != FeatureStatus.NEEDS_ATTENTION
        && status != FeatureStatus.PROPOSED) {
      return illegal(command.replyTo(), "propose", status);
    }
    Optional<Proposal> current = state.feature().proposal();
    if (status == FeatureStatus.PROPOSED && command.proposalId().isPresent() && current.isPresent()
        && current.get().id().equals(command.proposalId())) {
      return Effect().reply(command.replyTo(), new Accepted(state.feature())); // told again after a restart
    }
    return Effect()
        .persist(new FeatureProposed(featureId, command.description(), command.checkpoint(), command.by(), Instant.now(),
            command.proposalId()))
        .thenReply(command.replyTo(), Feature::accepted);
  }

  private ReplyEffect<Event, State> onSettleProposal(Existing state, SettleProposal command) {
    FeatureSummary feature = state.feature();
    FeatureStatus done = command.end() == ProposalEnd.APPLIED ? FeatureStatus.APPLIED
        : command.end() == ProposalEnd.REJECTED ? FeatureStatus.REJECTED : null;
    boolean waitingForIt = feature.status() == FeatureStatus.PROPOSED
        && feature.proposal().flatMap(Proposal::id).filter(command.proposalId()::equals).isPresent();
    if (done != null && feature.status() == done) {
      return Effect().reply(command.replyTo(), new Accepted(feature)); // told again after a restart
    }
    if (feature.status().isTerminal() || (command.end() == ProposalEnd.RETURNED && !waitingForIt)) {
      // ended otherwise meanwhile, or a newer proposal is what the feature waits for
      return Effect().reply(command.replyTo(), new Accepted(feature));
    }
    Instant now = Instant.now();
    Event event = switch (command.end()) {
      case APPLIED -> new FeatureApplied(featureId, command.proposalId(), command.reason(), now);
      case REJECTED -> new FeatureRejected(featureId, command.proposalId(), command.reason(), command.by(), now);
      case RETURNED -> new FeatureReturnedToWork(featureId, command.proposalId(), command.reason(), now);
    };
    return Effect().persist(event).thenReply(command.replyTo(), Feature::accepted);
  }

  private ReplyEffect<Event, State> illegal(ActorRef<Reply> replyTo, String action, FeatureStatus status) {
    return reject(replyTo, Rejection.Kind.CONFLICT, "cannot " + action + " feature '" + featureId + "': it is " + status.label());
  }

  private ReplyEffect<Event, State> notFound(ActorRef<Reply> replyTo) {
    return reject(replyTo, Rejection.Kind.NOT_FOUND, "no feature '" + featureId + "'");
  }

  private ReplyEffect<Event, State> reject(ActorRef<Reply> replyTo, Rejection.Kind kind, String message) {
    return Effect().reply(replyTo, new Rejected(kind, message));
  }

  private static Reply accepted(State state) {
    if (state instanceof Existing existing) {
      return new Accepted(existing.feature());
    }
    throw new IllegalStateException("a persisted feature event left the feature empty");
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    EventHandlerBuilder<State, Event> builder = newEventHandlerBuilder();
    builder
        .forStateType(Empty.class)
        .onEvent(FeatureRegistered.class, (state, event) -> new Existing(registered(event)));
    builder
        .forStateType(Existing.class)
        .onEvent(FeatureActivated.class, (state, event) -> transition(state, FeatureStatus.ACTIVE, Optional.empty(), event.at()))
        .onEvent(FeaturePaused.class, (state, event) -> new Existing(state.feature()
            .withStatus(FeatureStatus.PAUSED, event.reason(), event.at()).withHold(true)))
        .onEvent(FeatureResumed.class, (state, event) -> new Existing(state.feature()
            .withStatus(FeatureStatus.ACTIVE, Optional.empty(), event.at()).withHold(false)))
        .onEvent(FeatureAbandoned.class, (state, event) -> transition(state, FeatureStatus.ABANDONED, event.reason(), event.at()))
        .onEvent(FeatureEscalated.class, (state, event) -> new Existing(state.feature()
            .withStatus(FeatureStatus.NEEDS_ATTENTION, Optional.of(event.reason()), event.at())
            .withHold(state.feature().agentHeld() || event.agentHeld().orElse(false))))
        .onEvent(PlanChanged.class, (state, event) -> new Existing(state.feature().withPlan(event.plan(), event.at())))
        .onEvent(AgentRanUnsandboxed.class, (state, event) -> new Existing(state.feature().withLastRun(
            new AgentRun(false, Optional.of(event.reason()), event.agent(), event.at()))))
        .onEvent(AgentRanSandboxed.class, (state, event) -> new Existing(state.feature().withLastRun(
            new AgentRun(true, Optional.empty(), event.agent(), event.at()))))
        // the reason of an active feature says the agent is gone; any other status keeps its own reason
        .onEvent(AgentExited.class, (state, event) -> state.feature().status() != FeatureStatus.ACTIVE ? state
            : transition(state, FeatureStatus.ACTIVE, Optional.of(event.reason()), event.at()))
        .onEvent(AgentConnected.class, (state, event) -> state)
        .onEvent(AgentDisconnected.class, (state, event) -> state)
        .onEvent(AgentMessaged.class, (state, event) -> state)
        .onEvent(QuestionAsked.class, Feature::questionAsked)
        .onEvent(QuestionAnswered.class, Feature::questionAnswered)
        .onEvent(FeatureProposed.class, (state, event) -> new Existing(state.feature()
            .withProposal(new Proposal(event.description(), event.checkpoint(), event.proposedBy(), event.at(), event.proposalId()))
            .withStatus(FeatureStatus.PROPOSED, Optional.of(event.description()), event.at())))
        .onEvent(FeatureApplied.class, (state, event) ->
            transition(state, FeatureStatus.APPLIED, Optional.of(event.reason()), event.at()))
        .onEvent(FeatureRejected.class, (state, event) ->
            transition(state, FeatureStatus.REJECTED, Optional.of(event.reason()), event.at()))
        // an agent held meanwhile (paused, or a critical finding) stays held: the feature says paused until resumed
        .onEvent(FeatureReturnedToWork.class, (state, event) -> transition(state,
            state.feature().agentHeld() ? FeatureStatus.PAUSED : FeatureStatus.ACTIVE, Optional.of(event.reason()), event.at()));
    return builder.build();
  }

  private static FeatureSummary registered(FeatureRegistered event) {
    Registration r = event.registration();
    return new FeatureSummary(
        event.featureId(), FeatureStatus.REGISTERED, r.repo(), r.target(), r.branch(), r.worktree(), r.baseCommit(),
        r.plan(), event.registeredBy(), event.at(), event.at(), Optional.empty(), List.of(), FeatureStatus.ACTIVE,
        Optional.empty(), false, Optional.empty());
  }

  private static State questionAsked(Existing state, QuestionAsked event) {
    FeatureSummary feature = state.feature();
    List<OpenQuestion> questions = new ArrayList<>(feature.openQuestions());
    questions.add(new OpenQuestion(event.questionId(), event.text(), event.at()));
    // the status to return to once every question is answered: what it was before the first one
    FeatureStatus after = feature.status() == FeatureStatus.AWAITING_INPUT ? feature.statusAfterQuestions() : feature.status();
    return new Existing(feature.withQuestions(questions, after)
        .withStatus(FeatureStatus.AWAITING_INPUT, Optional.of(event.text()), event.at()));
  }

  private static State questionAnswered(Existing state, QuestionAnswered event) {
    FeatureSummary feature = state.feature();
    List<OpenQuestion> questions = feature.openQuestions().stream().filter(q -> !q.id().equals(event.questionId())).toList();
    FeatureSummary updated = feature.withQuestions(questions, feature.statusAfterQuestions());
    if (questions.isEmpty() && feature.status() == FeatureStatus.AWAITING_INPUT) {
      updated = updated.withStatus(feature.statusAfterQuestions(), Optional.empty(), event.at());
    }
    return new Existing(updated);
  }

  private static State transition(Existing state, FeatureStatus status, Optional<String> reason, Instant at) {
    return new Existing(state.feature().withStatus(status, reason, at));
  }
}
