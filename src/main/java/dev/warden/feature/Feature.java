package dev.warden.feature;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.sharding.typed.javadsl.Entity;
import akka.cluster.sharding.typed.javadsl.EntityTypeKey;
import akka.persistence.typed.PersistenceId;
import akka.persistence.typed.javadsl.CommandHandlerWithReply;
import akka.persistence.typed.javadsl.CommandHandlerWithReplyBuilder;
import akka.persistence.typed.javadsl.EventHandler;
import akka.persistence.typed.javadsl.EventHandlerBuilder;
import akka.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import akka.persistence.typed.javadsl.ReplyEffect;
import dev.warden.CborSerializable;
import dev.warden.Rejection;
import java.time.Instant;
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

  // ---- protocol ----

  public sealed interface Command extends CborSerializable {}

  /** Record a feature whose branch and worktree {@link FeatureWorkspaces} has just prepared. */
  public record Register(Registration registration, String by, ActorRef<Reply> replyTo) implements Command {}

  public record Pause(String reason, String by, ActorRef<Reply> replyTo) implements Command {}

  public record Resume(String by, ActorRef<Reply> replyTo) implements Command {}

  public record Abandon(String reason, String by, ActorRef<Reply> replyTo) implements Command {}

  public record Get(ActorRef<Reply> replyTo) implements Command {}

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
      Optional<String> statusReason)
      implements CborSerializable {

    FeatureSummary withStatus(FeatureStatus newStatus, Optional<String> reason, Instant at) {
      return new FeatureSummary(id, newStatus, repo, target, branch, worktree, baseCommit, plan, createdBy, createdAt, at, reason);
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

  // ---- state ----

  public sealed interface State extends CborSerializable {}

  /** No feature with this id was ever registered. */
  public record Empty() implements State {}

  public record Existing(FeatureSummary feature) implements State {}

  // ---- behavior ----

  private final String featureId;

  public static void init(ActorSystem<?> system) {
    ClusterSharding.get(system).init(Entity.of(ENTITY_KEY, context -> create(context.getEntityId())));
  }

  public static Behavior<Command> create(String featureId) {
    return new Feature(featureId);
  }

  private Feature(String featureId) {
    super(PersistenceId.of(ENTITY_KEY.name(), featureId));
    this.featureId = featureId;
  }

  @Override
  public State emptyState() {
    return new Empty();
  }

  @Override
  public Set<String> tagsFor(Event event) {
    return Set.of(TAG);
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
        .onCommand(Get.class, command -> notFound(command.replyTo()));
    builder
        .forStateType(Existing.class)
        .onCommand(Register.class, (state, command) -> reject(command.replyTo(), Rejection.Kind.CONFLICT, "feature '" + featureId + "' already exists"))
        .onCommand(Pause.class, this::onPause)
        .onCommand(Resume.class, this::onResume)
        .onCommand(Abandon.class, this::onAbandon)
        .onCommand(Get.class, (state, command) -> Effect().reply(command.replyTo(), new Accepted(state.feature())));
    return builder.build();
  }

  private ReplyEffect<Event, State> onRegister(Register command) {
    Instant now = Instant.now();
    return Effect()
        .persist(List.of(
            new FeatureRegistered(featureId, command.registration(), command.by(), now),
            new FeatureActivated(featureId, now)))
        .thenReply(command.replyTo(), state -> accepted(state));
  }

  private ReplyEffect<Event, State> onPause(Existing state, Pause command) {
    FeatureStatus status = state.feature().status();
    if (status == FeatureStatus.PAUSED) {
      return Effect().reply(command.replyTo(), new Accepted(state.feature()));
    }
    if (status != FeatureStatus.ACTIVE) {
      return illegal(command.replyTo(), "pause", status);
    }
    return Effect()
        .persist(new FeaturePaused(featureId, Optional.ofNullable(command.reason()), command.by(), Instant.now()))
        .thenReply(command.replyTo(), Feature::accepted);
  }

  private ReplyEffect<Event, State> onResume(Existing state, Resume command) {
    FeatureStatus status = state.feature().status();
    if (status == FeatureStatus.ACTIVE) {
      return Effect().reply(command.replyTo(), new Accepted(state.feature()));
    }
    if (status != FeatureStatus.PAUSED) {
      return illegal(command.replyTo(), "resume", status);
    }
    return Effect()
        .persist(new FeatureResumed(featureId, command.by(), Instant.now()))
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
        .onEvent(FeaturePaused.class, (state, event) -> transition(state, FeatureStatus.PAUSED, event.reason(), event.at()))
        .onEvent(FeatureResumed.class, (state, event) -> transition(state, FeatureStatus.ACTIVE, Optional.empty(), event.at()))
        .onEvent(FeatureAbandoned.class, (state, event) -> transition(state, FeatureStatus.ABANDONED, event.reason(), event.at()));
    return builder.build();
  }

  private static FeatureSummary registered(FeatureRegistered event) {
    Registration r = event.registration();
    return new FeatureSummary(
        event.featureId(), FeatureStatus.REGISTERED, r.repo(), r.target(), r.branch(), r.worktree(), r.baseCommit(),
        r.plan(), event.registeredBy(), event.at(), event.at(), Optional.empty());
  }

  private static State transition(Existing state, FeatureStatus status, Optional<String> reason, Instant at) {
    return new Existing(state.feature().withStatus(status, reason, at));
  }
}
