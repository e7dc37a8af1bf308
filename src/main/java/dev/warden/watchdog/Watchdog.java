package dev.warden.watchdog;

import akka.Done;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.PostStop;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.TimerScheduler;
import akka.cluster.sharding.typed.javadsl.EntityTypeKey;
import akka.persistence.typed.PersistenceId;
import akka.persistence.typed.javadsl.CommandHandlerWithReply;
import akka.persistence.typed.javadsl.CommandHandlerWithReplyBuilder;
import akka.persistence.typed.javadsl.EventHandler;
import akka.persistence.typed.javadsl.EventHandlerBuilder;
import akka.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import akka.persistence.typed.javadsl.ReplyEffect;
import akka.persistence.typed.javadsl.RetentionCriteria;
import akka.persistence.typed.javadsl.SignalHandler;
import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.warden.CborSerializable;
import dev.warden.agent.AgentMessage;
import dev.warden.plan.Trigger;
import dev.warden.validate.Severity;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Function;

/**
 * Watches one feature's worktree and git admin dirs through the daemon's one {@link WatchHub}
 * (sharded by feature id, persistence id {@code Watchdog|<id>}). Flags violations the moment they
 * happen, debounces changes (quiet window, max delay), persists each batch — the continuous
 * file-change log — and asks the checkpoint chain to capture exactly those paths. Lost events
 * (overflow, watch limit) turn into full scans and are recorded, never a silent gap.
 */
public final class Watchdog
    extends EventSourcedBehaviorWithEnforcedReplies<Watchdog.Command, Watchdog.Event, Watchdog.State> {

  public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "Watchdog");
  public static final String TAG = "watchdog";
  private static final Set<String> TAGS = dev.warden.FeedTags.of(TAG);
  private static final int MAX_RECORDED_PATHS = 5_000;

  public sealed interface Command extends CborSerializable {}

  public record Start(WatchSetup setup, ActorRef<Done> replyTo) implements Command {}

  public record WatchSetup(String featureId, String worktree, String adminDir, String commonDir, long diskQuotaBytes)
      implements CborSerializable {}

  public record Stop(ActorRef<Done> replyTo) implements Command {}

  public record GetStatus(ActorRef<WatchStatus> replyTo) implements Command {}

  public record WatchStatus(boolean watching, boolean degraded, long diskUsageBytes, int pendingPaths) implements CborSerializable {}

  private record ChangesSeen(List<WatchHub.PathChange> changes) implements Command {}

  private record Overflowed(String reason) implements Command {}

  private record Flush() implements Command {}

  private record PeriodicScan() implements Command {}

  private record Ready(ChangeClassifier classifier, WatchHub.Registration registration) implements Command {}

  private record StartFailed(String reason) implements Command {}

  // ---- events ----

  public sealed interface Event extends CborSerializable {}

  public record WatchStarted(WatchSetup setup, Instant at) implements Event {}

  /** One debounced batch of the continuous file-change log. */
  public record ChangesRecorded(String featureId, List<RecordedChange> changes, boolean truncated, boolean fullScan, Instant at)
      implements Event {}

  public record RecordedChange(String path, String kind, Instant firstAt, Instant lastAt, int count) implements CborSerializable {}

  public record ViolationsDetected(String featureId, List<ViolationRecord> violations, Instant at) implements Event {}

  public record ViolationRecord(String rule, String path, String severity, String message) implements CborSerializable {}

  /** Changes may have been missed (queue overflow, watch limit): the next checkpoint is a full scan. */
  public record WatchDegraded(String featureId, String reason, Instant at) implements Event {}

  // ---- state (a fixed size: a setup and two counters, whatever the history) ----

  /**
   * What the journal says about this watchdog. The watch itself (registration, classifier, changes in
   * their quiet window) is not persisted: it lives in the running actor and is set up again on Start.
   */
  public sealed interface State extends CborSerializable {
    long batches();

    long violations();

    /**
     * Reads a snapshot written before the state had phases (a class {@code Watchdog$State} with the
     * fields {@code setup}, {@code batches}, {@code violations}): it is the same state, recovered.
     */
    @JsonCreator
    static State fromUnphasedSnapshot(@JsonProperty("setup") WatchSetup setup, @JsonProperty("batches") long batches,
        @JsonProperty("violations") long violations) {
      return setup == null ? new Unconfigured() : new Configured(setup, batches, violations);
    }
  }

  /** Never started: no setup recorded. */
  public record Unconfigured() implements State {
    @Override
    public long batches() {
      return 0;
    }

    @Override
    public long violations() {
      return 0;
    }
  }

  /**
   * Started at least once with {@code setup} (the last one); {@code batches} change-log batches and
   * {@code violations} violations recorded since the first start.
   */
  public record Configured(WatchSetup setup, long batches, long violations) implements State {
    Configured withSetup(WatchSetup newSetup) {
      return new Configured(newSetup, batches, violations);
    }

    Configured withBatch() {
      return new Configured(setup, batches + 1, violations);
    }

    Configured withViolations(int more) {
      return new Configured(setup, batches, violations + more);
    }
  }

  // ---- behavior ----

  private final String featureId;
  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final WatchHub hub;
  private final Function<String, WatchdogPeers> peersFactory;
  private final WatchdogSettings settings;
  private final Executor blocking;

  // The running watch: confined to the actor (no future reads or writes these).
  private WatchdogPeers peers;
  private ChangeClassifier classifier;
  private WatchHub.Registration registration;
  /** The set-up under way, if any: the one thing the set-up work and the actor share. */
  private WatchHandover settingUp;
  /** A Start with another setup that came while the previous one was still being set up. */
  private WatchSetup startNext;
  private final List<WatchHub.PathChange> beforeReady = new ArrayList<>();
  /** Changes in their quiet window, one entry per path, at most {@link #MAX_RECORDED_PATHS}. */
  private final Map<Path, Pending> pending = new LinkedHashMap<>();
  /** More paths changed in the window than {@link #pending} keeps: the batch is truncated. */
  private boolean pendingOverflowed;
  private boolean fullScanNeeded;
  private Instant lastDegradedRecord = Instant.EPOCH;

  private static final class Pending {
    WatchHub.PathChange last;
    Instant first;
    WatchHub.Kind firstKind;
    int count;
  }

  public static Behavior<Command> create(String featureId, WatchHub hub, Function<String, WatchdogPeers> peers,
      WatchdogSettings settings, Executor blocking) {
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> new Watchdog(featureId, context, timers, hub, peers, settings, blocking)));
  }

  private Watchdog(String featureId, ActorContext<Command> context, TimerScheduler<Command> timers, WatchHub hub,
      Function<String, WatchdogPeers> peers, WatchdogSettings settings, Executor blocking) {
    super(PersistenceId.of(ENTITY_KEY.name(), featureId));
    this.featureId = featureId;
    this.context = context;
    this.timers = timers;
    this.hub = hub;
    this.peersFactory = peers;
    this.settings = settings;
    this.blocking = blocking;
  }

  @Override
  public State emptyState() {
    return new Unconfigured();
  }

  @Override
  public Set<String> tagsFor(Event event) {
    return TAGS;
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(500, 2);
  }

  private WatchdogPeers peers() {
    if (peers == null) {
      peers = peersFactory.apply(featureId);
    }
    return peers;
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder().onSignal(PostStop.instance(), state -> {
      closeRegistration();
      if (settingUp != null) {
        settingUp.abandon();
        settingUp = null;
      }
    }).build();
  }

  private void closeRegistration() {
    if (registration != null) {
      registration.close();
      registration = null;
    }
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    CommandHandlerWithReplyBuilder<Command, Event, State> builder = newCommandHandlerWithReplyBuilder();
    // never started: nothing is watched, nothing can be seen yet
    builder.forStateType(Unconfigured.class)
        .onCommand(Start.class, this::onFirstStart)
        .onCommand(GetStatus.class, (state, get) -> Effect().reply(get.replyTo(), status()))
        .onCommand(Stop.class, (state, stop) -> Effect().stop().thenReply(stop.replyTo(), s -> Done.getInstance()))
        .onCommand(Ready.class, (state, ready) -> unexpected(ready))
        .onCommand(StartFailed.class, (state, failed) -> unexpected(failed))
        .onCommand(ChangesSeen.class, (state, seen) -> unexpected(seen))
        .onCommand(Overflowed.class, (state, overflow) -> unexpected(overflow))
        .onCommand(Flush.class, (state, flush) -> Effect().noReply())
        .onCommand(PeriodicScan.class, (state, scan) -> Effect().noReply());
    builder.forStateType(Configured.class)
        .onCommand(Start.class, this::onStart)
        .onCommand(Ready.class, this::onReady)
        .onCommand(StartFailed.class, this::onStartFailed)
        .onCommand(ChangesSeen.class, this::onChanges)
        .onCommand(Overflowed.class, this::onOverflow)
        .onCommand(Flush.class, this::onFlush)
        .onCommand(PeriodicScan.class, (state, scan) -> {
          peers().requestCheckpoint(Trigger.INTERVAL, List.of(), true);
          return Effect().noReply();
        })
        .onCommand(GetStatus.class, (state, get) -> Effect().reply(get.replyTo(), status()))
        .onCommand(Stop.class, this::onStop);
    return builder.build();
  }

  private ReplyEffect<Event, State> unexpected(Command command) {
    context.getLog().warn("[{}] {} before any Start: ignored", featureId, command.getClass().getSimpleName());
    return Effect().noReply();
  }

  private WatchStatus status() {
    return new WatchStatus(registration != null, registration != null && registration.degraded(),
        classifier == null ? 0 : classifier.diskUsageBytes(), pending.size());
  }

  private ReplyEffect<Event, State> onFirstStart(Unconfigured state, Start start) {
    return Effect().persist(new WatchStarted(start.setup(), Instant.now()))
        .thenRun(s -> activate(start.setup()))
        .thenReply(start.replyTo(), s -> Done.getInstance());
  }

  private ReplyEffect<Event, State> onStart(Configured state, Start start) {
    if (start.setup().equals(state.setup())) {
      activate(start.setup());
      return Effect().reply(start.replyTo(), Done.getInstance());
    }
    boolean watchingAnother = registration != null || settingUp != null;
    return Effect().persist(new WatchStarted(start.setup(), Instant.now()))
        .thenRun(s -> {
          if (watchingAnother) {
            // a new plan (its disk quota) or a moved worktree: watch afresh, then catch up with a full scan
            context.getLog().info("[{}] the watch setup changed; watching again", featureId);
            if (settingUp != null) {
              startNext = start.setup();
              return;
            }
            closeRegistration();
            classifier = null;
            clearPending();
            timers.cancel("periodic-scan");
          }
          activate(start.setup());
        })
        .thenReply(start.replyTo(), s -> Done.getInstance());
  }

  private ReplyEffect<Event, State> onStop(Configured state, Stop stop) {
    closeRegistration();
    timers.cancel("quiet");
    timers.cancel("max-delay");
    if (pending.isEmpty()) { // (changes are only pending once a setup is watched)
      return Effect().stop().thenReply(stop.replyTo(), s -> Done.getInstance());
    }
    // changes still in their quiet window go into the change log before the watchdog stops
    return Effect().persist(takePending(state)).thenStop().thenReply(stop.replyTo(), s -> Done.getInstance());
  }

  /**
   * Registers the watches first (so nothing is missed), then learns the worktree, then catches up with
   * a full scan. The work runs on the blocking executor and only reports back ({@code pipeToSelf}).
   */
  private void activate(WatchSetup setup) {
    if (registration != null || settingUp != null) {
      return;
    }
    WatchHandover attempt = new WatchHandover();
    settingUp = attempt;
    ActorRef<Command> self = context.getSelf();
    String id = featureId;
    WatchHub watchHub = hub;
    context.pipeToSelf(CompletableFuture.supplyAsync(() -> setUp(id, watchHub, setup, self, attempt), blocking),
        (ready, failure) -> ready != null ? ready : new StartFailed(String.valueOf(failure)));
  }

  /** The set-up work: touches nothing of the actor's, only what it is given. */
  private static Ready setUp(String featureId, WatchHub hub, WatchSetup setup, ActorRef<Command> self, WatchHandover attempt) {
    if (attempt.abandoned()) {
      throw new IllegalStateException("the watchdog stopped before its watch was set up");
    }
    Path worktree = Path.of(setup.worktree());
    Path admin = Path.of(setup.adminDir());
    Path common = Path.of(setup.commonDir());
    WatchHub.Registration watching = hub.watch(featureId, worktree, ChangeClassifier.gitDirsToWatch(admin, common),
        new WatchHub.Listener() {
          @Override
          public void onChanges(List<WatchHub.PathChange> changes) {
            self.tell(new ChangesSeen(changes));
          }

          @Override
          public void onOverflow(String reason) {
            self.tell(new Overflowed(reason));
          }
        });
    if (!attempt.offer(watching)) {
      throw new IllegalStateException("the watchdog stopped while its watch was set up");
    }
    try {
      ChangeClassifier learned = new ChangeClassifier(worktree, admin, common, setup.diskQuotaBytes());
      learned.initialScan();
      return new Ready(learned, watching);
    } catch (RuntimeException e) {
      attempt.abandon();
      throw e;
    }
  }

  private ReplyEffect<Event, State> onStartFailed(Configured state, StartFailed failed) {
    settingUp = null;
    if (startNext != null) {
      WatchSetup next = startNext;
      startNext = null;
      activate(next);
      return Effect().noReply();
    }
    context.getLog().error("[{}] cannot watch the worktree: {}", featureId, failed.reason());
    return Effect().persist(new WatchDegraded(featureId, "cannot watch: " + failed.reason(), Instant.now())).thenNoReply();
  }

  private ReplyEffect<Event, State> onReady(Configured state, Ready ready) {
    if (settingUp != null) {
      settingUp.taken();
      settingUp = null;
    }
    if (startNext != null) {
      // set up for a setup that has been replaced meanwhile: drop it and watch the new one
      ready.registration().close();
      WatchSetup next = startNext;
      startNext = null;
      beforeReady.clear();
      activate(next);
      return Effect().noReply();
    }
    classifier = ready.classifier();
    registration = ready.registration();
    context.getLog().info("[{}] watching {} directories", featureId, registration.watchedDirectories());
    if (registration.degraded()) {
      timers.startTimerWithFixedDelay("periodic-scan", new PeriodicScan(), settings.degradedScanInterval());
    }
    // catch up with whatever happened while nobody watched (first start, restart after a crash)
    peers().requestCheckpoint(Trigger.DEBOUNCE, List.of(), true);
    List<WatchHub.PathChange> early = List.copyOf(beforeReady);
    beforeReady.clear();
    return early.isEmpty() ? Effect().noReply() : onChanges(state, new ChangesSeen(early));
  }

  private ReplyEffect<Event, State> onChanges(Configured state, ChangesSeen seen) {
    if (classifier == null) {
      beforeReady.addAll(seen.changes());
      return Effect().noReply();
    }
    boolean recorded = false;
    for (WatchHub.PathChange change : seen.changes()) {
      if (!classifier.isOwnChange(change.path())) {
        continue;
      }
      recorded = true;
      Pending p = pending.get(change.path());
      if (p == null) {
        if (pending.size() >= MAX_RECORDED_PATHS) {
          pendingOverflowed = true; // the change log keeps the first paths; the checkpoint scans everything
          continue;
        }
        p = new Pending();
        pending.put(change.path(), p);
      }
      if (p.first == null) {
        p.first = change.at();
        p.firstKind = change.kind();
      }
      p.last = change;
      p.count++;
    }
    if (recorded) {
      timers.startSingleTimer("quiet", new Flush(), settings.quietWindow());
      if (!timers.isTimerActive("max-delay")) {
        timers.startSingleTimer("max-delay", new Flush(), settings.maxDelay());
      }
    }
    // every change is still judged: the repository's config and hooks are everyone's business
    List<ChangeClassifier.Violation> found = classifier.classify(seen.changes());
    if (found.isEmpty()) {
      return Effect().noReply();
    }
    List<ViolationRecord> records = found.stream()
        .map(v -> new ViolationRecord(v.rule(), v.path(), v.severity().label(), v.message())).toList();
    Severity severity = found.stream().map(ChangeClassifier.Violation::severity).max(Comparator.naturalOrder()).orElseThrow();
    return Effect().persist(new ViolationsDetected(featureId, records, Instant.now())).thenRun(s -> {
      dev.warden.metrics.WardenMetrics.get(context.getSystem()).violationsReported(records.size());
      context.getLog().warn("[{}] {} violation(s): {}", featureId, records.size(), records.get(0).message());
      boolean critical = severity == Severity.CRITICAL;
      // the agent hears why first, then is paused
      peers().notifyAgent(AgentMessage.violation(Optional.empty(), severity.label(),
          records.stream().map(r -> new AgentMessage.ViolationNote(r.rule(), r.path(), r.severity(), r.message())).toList(),
          critical ? "paused" : "none"));
      if (critical) {
        ViolationRecord first = records.stream().filter(r -> r.severity().equals(Severity.CRITICAL.label())).findFirst().orElseThrow();
        peers().critical("critical violation: " + first.rule() + " at " + first.path() + ": " + first.message());
      }
    }).thenNoReply();
  }


  private ReplyEffect<Event, State> onOverflow(Configured state, Overflowed overflow) {
    fullScanNeeded = true;
    timers.startSingleTimer("quiet", new Flush(), settings.quietWindow());
    if (registration != null && registration.degraded() && !timers.isTimerActive("periodic-scan")) {
      timers.startTimerWithFixedDelay("periodic-scan", new PeriodicScan(), settings.degradedScanInterval());
    }
    Instant now = Instant.now();
    if (lastDegradedRecord.plusSeconds(60).isAfter(now)) {
      return Effect().noReply();
    }
    lastDegradedRecord = now;
    context.getLog().warn("[{}] watch events lost ({}): the next checkpoint scans everything", featureId, overflow.reason());
    return Effect().persist(new WatchDegraded(featureId, overflow.reason(), now)).thenNoReply();
  }

  private ReplyEffect<Event, State> onFlush(Configured state, Flush flush) {
    timers.cancel("quiet");
    timers.cancel("max-delay");
    if (pending.isEmpty() && !fullScanNeeded) {
      return Effect().noReply();
    }
    Path worktree = Path.of(state.setup().worktree());
    List<WatchHub.PathChange> lasts = pending.values().stream().map(p -> p.last).toList();
    List<String> paths = ChangeClassifier.worktreePaths(worktree, lasts);
    ChangesRecorded batch = takePending(state);
    return Effect().persist(batch)
        .thenRun(s -> {
          dev.warden.metrics.WardenMetrics.get(context.getSystem()).changeBatchRecorded();
          peers().requestCheckpoint(Trigger.DEBOUNCE, paths, batch.fullScan());
        })
        .thenNoReply();
  }

  /**
   * What happened to a path over the batch: {@code added} when its first event created it and it is
   * still there (a new file's later writes do not make it {@code modified}), else the last event's kind
   * ({@code modified}, {@code deleted}; a file that came and went within the batch is {@code deleted}).
   */
  static String kindOf(WatchHub.Kind first, WatchHub.Kind last) {
    if (first == WatchHub.Kind.CREATED && last != WatchHub.Kind.DELETED) {
      return ADDED;
    }
    if (last == WatchHub.Kind.CREATED) {
      return "modified"; // deleted, then created again: replaced
    }
    return last.name().toLowerCase();
  }

  /** The change log's kind of a new file (entries recorded before it existed say {@code created}). */
  public static final String ADDED = "added";

  private static String kindOf(Pending p) {
    return kindOf(p.firstKind, p.last.kind());
  }

  /** The pending changes as one batch for the change log; pending is empty afterwards. */
  private ChangesRecorded takePending(Configured state) {
    Path worktree = Path.of(state.setup().worktree());
    List<RecordedChange> recorded = new ArrayList<>();
    for (Pending p : pending.values()) {
      Path path = p.last.path();
      String shown = path.startsWith(worktree) ? worktree.relativize(path).toString() : path.toString();
      recorded.add(new RecordedChange(shown, kindOf(p), p.first, p.last.at(), p.count));
    }
    boolean truncated = pendingOverflowed;
    boolean fullScan = fullScanNeeded || truncated;
    clearPending();
    fullScanNeeded = false;
    return new ChangesRecorded(featureId, recorded, truncated, fullScan, Instant.now());
  }

  private void clearPending() {
    pending.clear();
    pendingOverflowed = false;
  }

  /** Pure: the next state from the last and an event, nothing else. */
  @Override
  public EventHandler<State, Event> eventHandler() {
    EventHandlerBuilder<State, Event> builder = newEventHandlerBuilder();
    builder.forStateType(Unconfigured.class)
        .onEvent(WatchStarted.class, (state, event) -> new Configured(event.setup(), 0, 0))
        // (a watchdog's journal starts with WatchStarted: nothing else comes before it)
        .onEvent(ChangesRecorded.class, (state, event) -> state)
        .onEvent(ViolationsDetected.class, (state, event) -> state)
        .onEvent(WatchDegraded.class, (state, event) -> state);
    builder.forStateType(Configured.class)
        .onEvent(WatchStarted.class, (state, event) -> state.withSetup(event.setup()))
        .onEvent(ChangesRecorded.class, (state, event) -> state.withBatch())
        .onEvent(ViolationsDetected.class, (state, event) -> state.withViolations(event.violations().size()))
        .onEvent(WatchDegraded.class, (state, event) -> state);
    return builder.build();
  }
}
