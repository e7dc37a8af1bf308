package dev.warden.agent;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import dev.warden.CborSerializable;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;

/**
 * The feature's end of the agent connection (sharded by feature id beside the Feature entity, not persistent). At
 * most one agent is connected at a time. It pauses the agent for checkpoints and for operators
 * (pause → ack within a deadline, retried with backoff), relays notes, violations and answers to
 * the agent, and reports questions, proposals and silence to the feature. It keeps the agent's
 * last log lines: at most {@code log-lines-kept} of them and {@code log-bytes-kept} bytes in all,
 * each cut at {@code log-line-max-bytes}.
 */
public final class AgentLink extends AbstractBehavior<AgentLink.Command> {

  /** Sharded by feature id, not persistent: a restart simply waits for the agent to reconnect. */
  public static final akka.cluster.sharding.typed.javadsl.EntityTypeKey<Command> ENTITY_KEY =
      akka.cluster.sharding.typed.javadsl.EntityTypeKey.create(Command.class, "AgentLink");

  public sealed interface Command extends CborSerializable {}

  /** Asks for the right to connect; answered before the WebSocket upgrade so a refusal is a plain 409. */
  public record Reserve(String connectionId, ActorRef<Reservation> replyTo) implements Command {}

  public sealed interface Reservation extends CborSerializable {}

  public record Reserved(ActorRef<Command> link) implements Reservation {}

  /** Connecting is refused: {@code kind} CONFLICT when another agent holds the feature. */
  public record Refused(dev.warden.Rejection.Kind kind, String reason) implements Reservation {}

  /** The WebSocket stream is up: {@code out} takes what Warden sends. */
  public record Connected(String connectionId, ActorRef<Outgoing> out) implements Command {}

  /** One text message of the agent; {@code replyTo} hears when it is handled, so a flood waits on the socket, not here. */
  public record FromAgent(String connectionId, String text, ActorRef<akka.Done> replyTo) implements Command {}

  /** The agent sent a message over {@code limit} bytes: it is told so and disconnected. */
  public record TooLarge(String connectionId, long limit) implements Command {}

  public record Disconnected(String connectionId) implements Command {}

  /** Pause the agent so a checkpoint is consistent; answered once it acked, or why it did not. */
  public record PauseForCheckpoint(String reason, ActorRef<PauseOutcome> replyTo) implements Command {}

  public record ResumeAfterCheckpoint() implements Command {}

  /** An operator paused (hold=true) or resumed (hold=false) the feature. */
  public record HoldPaused(boolean hold) implements Command {}

  /** Send a ready-made protocol message (violation, rollback, answer, note) if an agent is connected. */
  public record Notify(String json) implements Command {}

  public record GetStatus(ActorRef<AgentStatus> replyTo) implements Command {}

  /** A person's note ({@code json}, a ready-made {@code message}): sent only if an agent is connected, and says whether it was. */
  public record Deliver(String json, ActorRef<Delivery> replyTo) implements Command {}

  public record Delivery(boolean delivered) implements CborSerializable {}

  /** The feature ended: say so to a connected agent, close, and stop. */
  public record Disconnect(String reason) implements Command {}

  public sealed interface PauseOutcome extends CborSerializable {}

  public record Paused() implements PauseOutcome {}

  /**
   * Not paused; {@code escalate} is false when there was nothing to pause — no agent connected, or
   * its command exited — or the agent said it cannot pause (unquiesced by design). Only a connected
   * agent that did not acknowledge is escalated.
   */
  public record NotPaused(String reason, boolean escalate) implements PauseOutcome {}

  /** What the API shows about the agent. */
  public record AgentStatus(
      boolean connected, Optional<String> agent, Optional<String> version, List<String> capabilities,
      Optional<Instant> lastSeen, boolean paused, List<String> recentLog) implements CborSerializable {}

  /** What the socket writes: text frames, then close. */
  public sealed interface Outgoing extends CborSerializable {}

  public record Frame(String json) implements Outgoing {}

  public record Close() implements Outgoing {}

  /** Where the link reports what the agent did; implemented by the feature entity's adapter. */
  public interface FeatureSink {
    void questionAsked(String questionId, String text);

    void proposed(String description);

    void unresponsive(String reason);

    /** Patch mode: judge the diff in a shadow worktree; the agent hears the outcome as a message. */
    void patch(String diff);

    /** The agent's hello said whether it runs sandboxed ({@code reason}: why not). */
    default void ran(boolean sandboxed, Optional<String> reason, String agent) {}

    /** The wrapper said its command exited with {@code code} (128+N for signal N). */
    default void exited(int code, String agent) {}
    /** An agent said hello ({@code connected}), or the connection of one that had ended ({@code reason}): for the feed. */
    default void connection(boolean connected, String agent, Optional<String> version, Optional<String> reason) {}
  }

  private record AckTimeout(String pauseId, int attempt) implements Command {}

  private record CheckHeartbeat() implements Command {}

  private record HelloOverdue() implements Command {}

  private record ReservationExpired(String connectionId) implements Command {}

  public static Behavior<Command> create(String featureId, AgentSettings settings, FeatureSink feature) {
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> new AgentLink(context, timers, featureId, settings, feature)));
  }

  private final TimerScheduler<Command> timers;
  private final String featureId;
  private final AgentSettings settings;
  private final FeatureSink feature;
  private final Deque<String> recentLog = new ArrayDeque<>();
  private long recentLogBytes;

  private String connectionId;
  private ActorRef<Outgoing> out;
  private AgentMessage.Hello hello;
  private Instant lastSeen;
  private long nextId = 1;
  /** The exit code the connection's wrapper reported ({@code exit}); kept after it disconnects, until the next agent connects. */
  private Integer exitedWith;

  // pausing
  private boolean agentPaused;
  private boolean operatorHold;
  private boolean checkpointHold;
  private String pendingPauseId;
  private final List<ActorRef<PauseOutcome>> pauseWaiters = new ArrayList<>();
  private final List<PauseForCheckpoint> awaitingHello = new ArrayList<>();

  private AgentLink(ActorContext<Command> context, TimerScheduler<Command> timers, String featureId, AgentSettings settings, FeatureSink feature) {
    super(context);
    this.timers = timers;
    this.featureId = featureId;
    this.settings = settings;
    this.feature = feature;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Reserve.class, this::onReserve)
        .onMessage(ReservationExpired.class, this::onReservationExpired)
        .onMessage(Connected.class, this::onConnected)
        .onMessage(FromAgent.class, message -> {
          Behavior<Command> next = onFromAgent(message);
          message.replyTo().tell(akka.Done.getInstance());
          return next;
        })
        .onMessage(TooLarge.class, this::onTooLarge)
        .onMessage(Disconnected.class, this::onDisconnected)
        .onMessage(PauseForCheckpoint.class, this::onPauseForCheckpoint)
        .onMessage(ResumeAfterCheckpoint.class, m -> { checkpointHold = false; maybeResume(); return this; })
        .onMessage(HoldPaused.class, this::onHoldPaused)
        .onMessage(AckTimeout.class, this::onAckTimeout)
        .onMessage(CheckHeartbeat.class, this::onCheckHeartbeat)
        .onMessage(HelloOverdue.class, overdue -> {
          awaitingHello.forEach(r -> r.replyTo().tell(new NotPaused("the agent connected but did not say hello", true)));
          awaitingHello.clear();
          return this;
        })
        .onMessage(Notify.class, m -> { send(m.json()); return this; })
        .onMessage(GetStatus.class, this::onGetStatus)
        .onMessage(Deliver.class, m -> {
          boolean connected = out != null;
          send(m.json());
          m.replyTo().tell(new Delivery(connected));
          return this;
        })
        .onMessage(Disconnect.class, this::onDisconnect)
        .build();
  }

  private Behavior<Command> onReserve(Reserve reserve) {
    if (connectionId != null) {
      reserve.replyTo().tell(new Refused(dev.warden.Rejection.Kind.CONFLICT, "another agent is connected to feature '" + featureId + "'"));
      return this;
    }
    connectionId = reserve.connectionId();
    out = null;
    hello = null;
    exitedWith = null;
    lastSeen = Instant.now();
    timers.startSingleTimer(new ReservationExpired(connectionId), settings.reservationTimeout());
    reserve.replyTo().tell(new Reserved(getContext().getSelf()));
    return this;
  }

  private Behavior<Command> onReservationExpired(ReservationExpired expired) {
    if (expired.connectionId().equals(connectionId) && out == null) {
      getContext().getLog().info("[{}] agent connection {} never opened; released", featureId, connectionId);
      clearConnection("it never opened");
    }
    return this;
  }

  private Behavior<Command> onConnected(Connected connected) {
    if (!connected.connectionId().equals(connectionId)) {
      connected.out().tell(new Frame(AgentMessage.error("connection was not reserved or has expired", null)));
      connected.out().tell(new Close());
      return this;
    }
    out = connected.out();
    lastSeen = Instant.now();
    timers.startTimerWithFixedDelay("heartbeat", new CheckHeartbeat(), settings.heartbeatInterval());
    return this;
  }

  private Behavior<Command> onFromAgent(FromAgent message) {
    if (!message.connectionId().equals(connectionId) || out == null) {
      return this;
    }
    lastSeen = Instant.now();
    AgentMessage parsed = AgentMessage.parse(message.text(), settings.maxTextBytes(), settings.logLineMaxBytes());
    if (parsed instanceof AgentMessage.Malformed malformed) {
      send(AgentMessage.error(malformed.problem(), malformed.ref()));
      return this;
    }
    if (hello == null && !(parsed instanceof AgentMessage.Hello)) {
      send(AgentMessage.error("the first message must be hello", typeOf(parsed)));
      return this;
    }
    if (parsed instanceof AgentMessage.Hello h) {
      onHello(h);
    } else if (parsed instanceof AgentMessage.Ack ack) {
      onAck(ack);
    } else if (parsed instanceof AgentMessage.Log log) {
      remember(log.stream() + ": " + log.line());
    } else if (parsed instanceof AgentMessage.Question question) {
      feature.questionAsked(question.id(), question.text());
    } else if (parsed instanceof AgentMessage.Propose propose) {
      feature.proposed(propose.description());
    } else if (parsed instanceof AgentMessage.Patch patch) {
      feature.patch(patch.diff());
    } else if (parsed instanceof AgentMessage.Exit exit) {
      onExit(exit);
    }
    // heartbeat: lastSeen is already updated
    return this;
  }

  private Behavior<Command> onTooLarge(TooLarge tooLarge) {
    if (tooLarge.connectionId().equals(connectionId) && out != null) {
      String reason = "a message was larger than the limit of " + tooLarge.limit() + " bytes (warden.agent.max-message-bytes)";
      getContext().getLog().warn("[{}] {}: closing the agent's connection", featureId, reason);
      out.tell(new Frame(AgentMessage.error(reason + "; closing", null)));
      out.tell(new Close());
      failPauseWaiters("the agent was disconnected: " + reason);
      clearConnection("Warden closed it: " + reason);
    }
    return this;
  }

  private void onHello(AgentMessage.Hello h) {
    boolean fresh = hello == null; // a second hello on the same connection is not a new connection
    hello = h;
    getContext().getLog().info("[{}] agent {} {} connected (capabilities {})", featureId, h.agent(), h.version(), h.capabilities());
    send(AgentMessage.welcome(featureId, settings.heartbeatInterval().toMillis()));
    timers.cancel("hello-overdue");
    if (fresh) {
      feature.connection(true, h.agent(), Optional.ofNullable(h.version()), Optional.empty());
    }
    h.sandboxed().ifPresent(sandboxed -> {
      if (!sandboxed) {
        getContext().getLog().warn("[{}] agent {} runs WITHOUT a sandbox: {}", featureId, h.agent(), h.sandboxReason().orElse("no reason given"));
      }
      feature.ran(sandboxed, h.sandboxReason(), h.agent());
    });
    if (operatorHold && h.canPause()) {
      requestPause("paused by an operator");
    }
    List<PauseForCheckpoint> waiting = List.copyOf(awaitingHello);
    awaitingHello.clear();
    waiting.forEach(this::onPauseForCheckpoint);
  }

  private void onAck(AgentMessage.Ack ack) {
    if ("paused".equals(ack.state()) && !ack.id().equals(pendingPauseId)) {
      // a late ack of a pause we gave up on: the agent is stopped now, and nobody else will resume it
      agentPaused = true;
      maybeResume();
      return;
    }
    if ("paused".equals(ack.state()) && ack.id().equals(pendingPauseId)) {
      pendingPauseId = null;
      agentPaused = true;
      pauseWaiters.forEach(waiter -> waiter.tell(new Paused()));
      pauseWaiters.clear();
      if (!operatorHold && !checkpointHold) {
        maybeResume();
      }
    }
    // acks of resume need no action: the agent is running again
  }

  /**
   * The command is gone: there is nothing left to pause. A pause under way is answered unquiesced by
   * design ({@value #AGENT_EXITED}), as is every later one until another agent connects.
   */
  private void onExit(AgentMessage.Exit exit) {
    if (exitedWith != null) {
      return;
    }
    exitedWith = exit.code();
    getContext().getLog().info("[{}] agent {} exited with {}", featureId, hello.agent(), exit.code());
    pendingPauseId = null;
    agentPaused = false;
    pauseWaiters.forEach(waiter -> waiter.tell(new NotPaused(AGENT_EXITED, false)));
    pauseWaiters.clear();
    checkpointHold = false;
    feature.exited(exit.code(), hello.agent());
  }

  /** The quiesce note of a checkpoint taken after the agent's command exited. */
  public static final String AGENT_EXITED = "agent exited";

  /** The quiesce note of a checkpoint taken while no agent is connected (a person's edit, say). */
  public static final String NO_AGENT_CONNECTED = "no agent connected";

  private Behavior<Command> onDisconnected(Disconnected disconnected) {
    if (disconnected.connectionId().equals(connectionId)) {
      getContext().getLog().info("[{}] agent disconnected", featureId);
      failPauseWaiters("the agent disconnected");
      clearConnection("the connection closed");
    }
    return this;
  }

  /** Forgets the connection; one whose agent had said hello ends on the feed with {@code reason}. */
  private void clearConnection(String reason) {
    if (hello != null) {
      feature.connection(false, hello.agent(), Optional.ofNullable(hello.version()), Optional.of(reason));
    }
    connectionId = null;
    out = null;
    hello = null;
    agentPaused = false;
    pendingPauseId = null;
    timers.cancel("heartbeat");
  }

  private Behavior<Command> onPauseForCheckpoint(PauseForCheckpoint request) {
    if (exitedWith != null) {
      request.replyTo().tell(new NotPaused(AGENT_EXITED, false));
      return this;
    }
    if (out == null && connectionId == null) {
      request.replyTo().tell(new NotPaused(NO_AGENT_CONNECTED, false));
      return this;
    }
    if (hello == null) {
      // connecting, not introduced yet: whether it can pause is unknown until its hello
      awaitingHello.add(request);
      timers.startSingleTimer("hello-overdue", new HelloOverdue(), settings.ackDeadline());
      return this;
    }
    if (!hello.canPause()) {
      request.replyTo().tell(new NotPaused("the agent cannot pause", false));
      return this;
    }
    checkpointHold = true;
    if (agentPaused) {
      request.replyTo().tell(new Paused());
      return this;
    }
    pauseWaiters.add(request.replyTo());
    if (pendingPauseId == null) {
      requestPause(request.reason());
    }
    return this;
  }

  private Behavior<Command> onHoldPaused(HoldPaused hold) {
    operatorHold = hold.hold();
    if (operatorHold) {
      if (out != null && hello != null && hello.canPause() && !agentPaused && pendingPauseId == null) {
        requestPause("paused by an operator");
      }
    } else {
      maybeResume();
    }
    return this;
  }

  private void requestPause(String reason) {
    pendingPauseId = "p-" + nextId++;
    sendPause(pendingPauseId, reason, 1);
  }

  private void sendPause(String pauseId, String reason, int attempt) {
    Duration deadline = settings.ackDeadline().multipliedBy(1L << (attempt - 1));
    send(AgentMessage.pause(pauseId, reason, deadline.toMillis()));
    timers.startSingleTimer(new AckTimeout(pauseId, attempt), deadline);
  }

  private Behavior<Command> onAckTimeout(AckTimeout timeout) {
    if (!timeout.pauseId().equals(pendingPauseId)) {
      return this;
    }
    if (timeout.attempt() < settings.ackTries()) {
      getContext().getLog().info("[{}] no ack for pause {} (try {}), asking again", featureId, timeout.pauseId(), timeout.attempt());
      sendPause(timeout.pauseId(), "checkpoint", timeout.attempt() + 1);
    } else {
      pendingPauseId = null;
      failPauseWaiters("the agent did not acknowledge the pause after " + settings.ackTries() + " tries");
    }
    return this;
  }

  private void failPauseWaiters(String reason) {
    pauseWaiters.forEach(waiter -> waiter.tell(new NotPaused(reason, true)));
    pauseWaiters.clear();
    awaitingHello.forEach(r -> r.replyTo().tell(new NotPaused(reason, true)));
    awaitingHello.clear();
    checkpointHold = false;
  }

  private void maybeResume() {
    if (agentPaused && !operatorHold && !checkpointHold && out != null) {
      agentPaused = false;
      send(AgentMessage.resume("r-" + nextId++));
    }
  }

  private Behavior<Command> onCheckHeartbeat(CheckHeartbeat check) {
    if (out != null && lastSeen.plus(settings.heartbeatTimeout()).isBefore(Instant.now())) {
      String reason = "the agent sent nothing for " + settings.heartbeatTimeout().toSeconds() + " s";
      getContext().getLog().warn("[{}] {}: closing its connection", featureId, reason);
      out.tell(new Frame(AgentMessage.error(reason + "; closing", null)));
      out.tell(new Close());
      failPauseWaiters(reason);
      clearConnection("Warden closed it: " + reason);
      feature.unresponsive(reason);
    }
    return this;
  }

  private Behavior<Command> onGetStatus(GetStatus get) {
    get.replyTo().tell(new AgentStatus(
        out != null,
        Optional.ofNullable(hello).map(AgentMessage.Hello::agent),
        Optional.ofNullable(hello).map(AgentMessage.Hello::version),
        hello == null ? List.of() : hello.capabilities(),
        Optional.ofNullable(lastSeen),
        agentPaused,
        List.copyOf(recentLog)));
    return this;
  }

  private Behavior<Command> onDisconnect(Disconnect disconnect) {
    if (out != null) {
      out.tell(new Frame(AgentMessage.text(disconnect.reason())));
      out.tell(new Close());
    }
    failPauseWaiters(disconnect.reason());
    return Behaviors.stopped();
  }

  /** Keeps {@code line} (already cut to log-line-max-bytes) and forgets the oldest past either bound. */
  private void remember(String line) {
    recentLog.addLast(line);
    recentLogBytes += dev.warden.http.TextLimits.utf8Length(line);
    while (recentLog.size() > settings.logLinesKept() || (recentLogBytes > settings.logBytesKept() && recentLog.size() > 1)) {
      recentLogBytes -= dev.warden.http.TextLimits.utf8Length(recentLog.removeFirst());
    }
  }

  private void send(String json) {
    if (out != null) {
      out.tell(new Frame(json));
    }
  }

  private static String typeOf(AgentMessage message) {
    return message.getClass().getSimpleName().toLowerCase();
  }
}
