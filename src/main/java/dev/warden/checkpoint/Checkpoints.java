package dev.warden.checkpoint;

import akka.Done;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.sharding.typed.javadsl.EntityTypeKey;
import akka.persistence.typed.PersistenceId;
import akka.persistence.typed.javadsl.CommandHandlerWithReply;
import akka.persistence.typed.javadsl.CommandHandlerWithReplyBuilder;
import akka.persistence.typed.javadsl.EventHandler;
import akka.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import akka.persistence.typed.javadsl.ReplyEffect;
import akka.persistence.typed.javadsl.RetentionCriteria;
import dev.warden.CborSerializable;
import dev.warden.Rejection;
import dev.warden.agent.AgentLink;
import dev.warden.agent.AgentMessage;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Function;
import org.eclipse.jgit.lib.ObjectId;

/**
 * A feature's checkpoint chain (sharded by feature id, persistence id {@code Checkpoints|<id>}). One
 * capture at a time: requests that arrive meanwhile coalesce into the next one. Each capture pauses
 * the agent first (pause → ack), snapshots the worktree into a commit on
 * {@code refs/warden/<id>/checkpoints}, records it, and resumes the agent. Without an ack the
 * checkpoint is taken anyway, marked unquiesced, and the feature escalated — unless there was nothing
 * to pause (no agent connected, its command exited) or the agent said it cannot pause. Git work runs on the blocking pool, serially per feature.
 */
public final class Checkpoints
    extends EventSourcedBehaviorWithEnforcedReplies<Checkpoints.Command, Checkpoints.Event, Checkpoints.State> {

  public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "Checkpoints");
  public static final String TAG = "checkpoint";
  private static final Set<String> TAGS = dev.warden.feed.FeedTags.of(TAG);

  // ---- protocol ----

  public sealed interface Command extends CborSerializable {}

  /** Where the chain lives; sent by the feature whenever it (re)starts. */
  public record Start(ChainSetup setup, ActorRef<Done> replyTo) implements Command {}

  public record ChainSetup(String featureId, String gitDir, String worktree, String refName, String baseCommit)
      implements CborSerializable {}

  /** Take a checkpoint. {@code paths}: worktree-relative paths known to have changed (may be empty). */
  public record Request(Trigger trigger, List<String> paths, boolean fullScan, ActorRef<Outcome> replyTo) implements Command {}

  /** Restore the worktree to checkpoint {@code to} (0: the base; all of it, or only {@code paths}), then checkpoint the result. */
  public record Rollback(long to, Optional<List<String>> paths, String by, ActorRef<Outcome> replyTo) implements Command {}

  /**
   * Patch mode: bring {@code paths} of the worktree to their content in {@code commit} (a shadow
   * worktree's validated result), with the agent paused, and checkpoint the result (trigger patch).
   */
  public record Promote(String commit, List<String> paths, String by, ActorRef<Outcome> replyTo) implements Command {}

  /** {@code offset} and {@code limit} must not be negative (else {@link Missing} with kind INVALID). */
  public record ListCheckpoints(int offset, int limit, ActorRef<Listing> replyTo) implements Command {}

  public record GetCheckpoint(long seq, ActorRef<Lookup> replyTo) implements Command {}

  /** Unified diff of checkpoint {@code seq} against its predecessor, or against the base when {@code againstBase}. */
  public record Diff(long seq, boolean againstBase, ActorRef<DiffResult> replyTo) implements Command {}

  /** Per-file changes and the diff between two checkpoints; 0 means the base commit. */
  public record Compare(long from, long to, ActorRef<CompareResult> replyTo) implements Command {}

  public record Stop(ActorRef<Done> replyTo) implements Command {}

  public sealed interface Outcome extends CborSerializable {}

  public record Taken(CheckpointRecord checkpoint) implements Outcome {}

  /** Nothing changed since the latest checkpoint (only for triggers that skip empty checkpoints). */
  public record NoChange(Optional<CheckpointRecord> latest) implements Outcome {}

  public record Failed(Rejection.Kind kind, String message) implements Outcome {}

  public sealed interface Listing extends CborSerializable {}

  public record Page(long total, List<CheckpointRecord> checkpoints) implements Listing {}

  public sealed interface Lookup extends CborSerializable {}

  public record Found(CheckpointRecord checkpoint, List<Snapshotter.FileChange> files) implements Lookup {}

  /** A read refused: nothing there (NOT_FOUND), bad arguments (INVALID), or git could not answer (CONFLICT). */
  public record Missing(Rejection.Kind kind, String message) implements Lookup, DiffResult, CompareResult, Listing {}

  public sealed interface DiffResult extends CborSerializable {}

  public record DiffText(String from, String to, String diff) implements DiffResult {}

  public sealed interface CompareResult extends CborSerializable {}

  public record Comparison(String from, String to, List<Snapshotter.FileChange> files, String diff) implements CompareResult {}

  /**
   * One checkpoint as recorded. {@code skippedFiles}: the files the capture did not read because they
   * were over its size cap (at most {@link Snapshotter#OVERSIZED_LISTED}; the commit message has the
   * total) — the tree keeps their previous version, or lacks them; absent in records from before it
   * existed, which skipped nothing.
   */
  public record CheckpointRecord(
      long seq, String commit, String tree, String parent, Trigger trigger, boolean quiesced, Optional<String> quiesceNote,
      int filesChanged, int linesAdded, int linesRemoved, int filesChangedSinceBase, long captureMs, Instant takenAt,
      Optional<List<SkippedFile>> skippedFiles)
      implements CborSerializable {

    public CheckpointRecord {
      quiesceNote = quiesceNote == null ? Optional.empty() : quiesceNote;
      skippedFiles = skippedFiles == null ? Optional.empty() : skippedFiles.map(List::copyOf);
    }

    /** A record that skipped nothing. */
    public CheckpointRecord(long seq, String commit, String tree, String parent, Trigger trigger, boolean quiesced,
        Optional<String> quiesceNote, int filesChanged, int linesAdded, int linesRemoved, int filesChangedSinceBase, long captureMs,
        Instant takenAt) {
      this(seq, commit, tree, parent, trigger, quiesced, quiesceNote, filesChanged, linesAdded, linesRemoved, filesChangedSinceBase,
          captureMs, takenAt, Optional.empty());
    }

    /** The skipped files, none when absent. */
    public List<SkippedFile> skipped() {
      return skippedFiles.orElse(List.of());
    }
  }

  /** A file a capture left out: {@code bytes} (its size, sparse or not) above {@code limit}, the capture's cap. */
  public record SkippedFile(String path, long bytes, long limit) implements CborSerializable {}

  // ---- events ----

  public sealed interface Event extends CborSerializable {}

  public record ChainStarted(ChainSetup setup, Instant at) implements Event {}

  public record CheckpointTaken(
      String featureId, CheckpointRecord checkpoint, List<ChangedFile> changes, boolean changesTruncated) implements Event {}

  public record ChangedFile(String path, String kind, int linesAdded, int linesRemoved) implements CborSerializable {}

  public record RolledBack(String featureId, long to, List<String> paths, List<String> restored, String by, Instant at)
      implements Event {}

  /** A validated patch was brought into the worktree from its shadow commit. */
  public record PatchPromoted(String featureId, String shadowCommit, List<String> paths, String by, Instant at) implements Event {}

  // ---- state (mutable: appended to on every checkpoint, never copied) ----

  public static final class State implements CborSerializable {
    public ChainSetup setup;
    public final List<CheckpointRecord> checkpoints = new ArrayList<>();

    public Optional<CheckpointRecord> latest() {
      return checkpoints.isEmpty() ? Optional.empty() : Optional.of(checkpoints.get(checkpoints.size() - 1));
    }

    Optional<CheckpointRecord> bySeq(long seq) {
      return seq >= 1 && seq <= checkpoints.size() ? Optional.of(checkpoints.get((int) seq - 1)) : Optional.empty();
    }
  }

  // ---- internal messages ----

  private record PauseAnswered(Cycle cycle, AgentLink.PauseOutcome outcome, long maxFileBytes) implements Command {}

  /** The chain's Start did not come within start-wait: what waited for it is refused. */
  private record StartWaitOver() implements Command {}

  private record CaptureDone(Cycle cycle, AgentLink.PauseOutcome pause, Snapshotter.Capture capture, List<String> restored)
      implements Command {}

  private record CaptureFailed(Cycle cycle, String message) implements Command {}

  /** One capture's worth of coalesced requests, or one rollback. */
  private static final class Cycle {
    Trigger trigger;
    final Set<String> paths = new LinkedHashSet<>();
    boolean fullScan;
    final List<ActorRef<Outcome>> waiters = new ArrayList<>();
    Rollback rollback;
    Promote promote;

    static Cycle of(Request request) {
      Cycle cycle = new Cycle();
      cycle.trigger = request.trigger();
      cycle.merge(request);
      return cycle;
    }

    void merge(Request request) {
      trigger = trigger.strongest(request.trigger());
      paths.addAll(request.paths());
      fullScan |= request.fullScan();
      waiters.add(request.replyTo());
    }
  }

  // ---- behavior ----

  private final String featureId;
  private final ActorContext<Command> context;
  private final Function<String, CheckpointPeers> peersFactory;
  private final CheckpointSettings settings;
  private final Executor serial;
  /** The actor system's blocking dispatcher: the chain's line counts and pack merges run there. */
  private final Executor blocking;
  private CheckpointPeers peers;
  private Snapshotter snapshotter; // touched only by tasks on `serial`
  private Cycle current;
  private Cycle pending;
  private final List<Rollback> pendingRollbacks = new ArrayList<>();
  private final List<Promote> pendingPromotions = new ArrayList<>();
  private int capturesSinceFullScan;
  /** Commands that came before the chain's Start are stashed until it comes, or until start-wait is over. */
  private boolean startWaitScheduled;
  private boolean startWaitOver;

  public static Behavior<Command> create(String featureId, Function<String, CheckpointPeers> peers, CheckpointSettings settings, Executor blocking) {
    return Behaviors.setup(context -> new Checkpoints(featureId, context, peers, settings, blocking));
  }

  private Checkpoints(String featureId, ActorContext<Command> context, Function<String, CheckpointPeers> peers,
      CheckpointSettings settings, Executor blocking) {
    super(PersistenceId.of(ENTITY_KEY.name(), featureId));
    this.featureId = featureId;
    this.context = context;
    this.peersFactory = peers;
    this.settings = settings;
    this.serial = new SerialExecutor(blocking);
    this.blocking = blocking;
  }

  @Override
  public State emptyState() {
    return new State();
  }

  @Override
  public Set<String> tagsFor(Event event) {
    return TAGS;
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(200, 2);
  }

  private CheckpointPeers peers() {
    if (peers == null) {
      peers = peersFactory.apply(featureId);
    }
    return peers;
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    CommandHandlerWithReplyBuilder<Command, Event, State> builder = newCommandHandlerWithReplyBuilder();
    builder
        .forAnyState()
        .onCommand(Start.class, this::onStart)
        .onCommand(Request.class, this::onRequest)
        .onCommand(Rollback.class, this::onRollback)
        .onCommand(Promote.class, this::onPromote)
        .onCommand(ListCheckpoints.class, this::onList)
        .onCommand(GetCheckpoint.class, this::onGet)
        .onCommand(Diff.class, this::onDiff)
        .onCommand(Compare.class, this::onCompare)
        .onCommand(Stop.class, this::onStop)
        .onCommand(PauseAnswered.class, this::onPauseAnswered)
        .onCommand(CaptureDone.class, this::onCaptureDone)
        .onCommand(CaptureFailed.class, this::onCaptureFailed)
        .onCommand(StartWaitOver.class, (state, over) -> {
          startWaitOver = true;
          return Effect().noReply().thenUnstashAll();
        });
    return builder.build();
  }

  /**
   * Empty when the chain is started. Otherwise a command that needs it waits for its Start (a feature
   * just created: the daemon starts the chain right after recording it) — stashed, for
   * {@code start-wait} at most — and is refused once that wait is over.
   */
  private Optional<ReplyEffect<Event, State>> unlessStarted(State state, ActorRef<Outcome> replyTo) {
    if (state.setup != null) {
      return Optional.empty();
    }
    if (startWaitOver) {
      return Optional.of(Effect().reply(replyTo, new Failed(Rejection.Kind.CONFLICT, "the checkpoint chain of '" + featureId + "' is not started")));
    }
    if (!startWaitScheduled) {
      startWaitScheduled = true;
      context.scheduleOnce(settings.startWait(), context.getSelf(), new StartWaitOver());
    }
    return Optional.of(Effect().stash());
  }

  private ReplyEffect<Event, State> onStart(State state, Start start) {
    if (start.setup().equals(state.setup)) {
      return Effect().reply(start.replyTo(), Done.getInstance());
    }
    return Effect().persist(new ChainStarted(start.setup(), Instant.now()))
        .thenReply(start.replyTo(), s -> Done.getInstance()).thenUnstashAll();
  }

  private ReplyEffect<Event, State> onRequest(State state, Request request) {
    Optional<ReplyEffect<Event, State>> notStarted = unlessStarted(state, request.replyTo());
    if (notStarted.isPresent()) {
      return notStarted.get();
    }
    if (pending == null) {
      pending = Cycle.of(request);
    } else {
      pending.merge(request);
    }
    startNextIfIdle(state);
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> onRollback(State state, Rollback rollback) {
    Optional<String> badPath = rollback.paths().flatMap(Checkpoints::pathProblem);
    if (badPath.isPresent()) {
      return Effect().reply(rollback.replyTo(), new Failed(Rejection.Kind.INVALID, badPath.get()));
    }
    Optional<ReplyEffect<Event, State>> notStarted = unlessStarted(state, rollback.replyTo());
    if (notStarted.isPresent()) {
      return notStarted.get();
    }
    if (commitOf(state, rollback.to()).isEmpty()) {
      return Effect().reply(rollback.replyTo(), new Failed(Rejection.Kind.NOT_FOUND, "feature '" + featureId + "' has no checkpoint " + rollback.to()));
    }
    pendingRollbacks.add(rollback);
    startNextIfIdle(state);
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> onPromote(State state, Promote promote) {
    // judged on arrival: once the agent is paused, bad input must not be able to fail the cycle (or crash it)
    if (promote.commit() == null || !ObjectId.isId(promote.commit())) {
      return Effect().reply(promote.replyTo(), new Failed(Rejection.Kind.INVALID,
          "commit: '" + promote.commit() + "' is not a commit id (40 hexadecimal digits)"));
    }
    Optional<String> badPath = pathProblem(promote.paths());
    if (badPath.isPresent()) {
      return Effect().reply(promote.replyTo(), new Failed(Rejection.Kind.INVALID, badPath.get()));
    }
    Optional<ReplyEffect<Event, State>> notStarted = unlessStarted(state, promote.replyTo());
    if (notStarted.isPresent()) {
      return notStarted.get();
    }
    pendingPromotions.add(promote);
    startNextIfIdle(state);
    return Effect().noReply();
  }

  /**
   * Why a rollback's or a promotion's paths cannot be restored, naming the field; the HTTP route
   * applies the same rules first. An empty list is refused: {@link Snapshotter#restore} would take it
   * for the whole worktree.
   */
  private static Optional<String> pathProblem(List<String> paths) {
    if (paths.isEmpty()) {
      return Optional.of("paths: must name at least one path");
    }
    for (String path : paths) {
      String problem = Snapshotter.restorePathProblem(path);
      if (problem != null) {
        return Optional.of("paths: '" + path + "' " + problem);
      }
    }
    return Optional.empty();
  }

  private void startNextIfIdle(State state) {
    if (current != null) {
      return;
    }
    if (!pendingRollbacks.isEmpty()) {
      Rollback rollback = pendingRollbacks.remove(0);
      current = new Cycle();
      current.trigger = Trigger.ROLLBACK;
      current.rollback = rollback;
      current.waiters.add(rollback.replyTo());
    } else if (!pendingPromotions.isEmpty()) {
      Promote promote = pendingPromotions.remove(0);
      current = new Cycle();
      current.trigger = Trigger.PATCH;
      current.promote = promote;
      current.waiters.add(promote.replyTo());
    } else if (pending != null) {
      current = pending;
      pending = null;
    } else {
      return;
    }
    Cycle cycle = current;
    String reason = cycle.rollback != null ? "rollback to checkpoint " + cycle.rollback.to() : "checkpoint";
    // the plan's file size limit is asked while the agent pauses; without an answer the setting's cap stands
    java.util.concurrent.CompletionStage<Long> cap = planMaxFileBytes().thenApply(settings::capFor);
    context.pipeToSelf(peers().pauseAgent(reason).thenCombine(cap, (outcome, max) -> new Object[] {outcome, max}), (both, failure) ->
        failure == null ? new PauseAnswered(cycle, (AgentLink.PauseOutcome) both[0], (Long) both[1])
            : new PauseAnswered(cycle, new AgentLink.NotPaused("could not reach the agent link: " + failure.getMessage(), true),
                settings.maxFileBytes()));
  }

  private java.util.concurrent.CompletionStage<Optional<Long>> planMaxFileBytes() {
    java.util.concurrent.CompletionStage<Optional<Long>> asked;
    try {
      asked = peers().planMaxFileBytes();
    } catch (RuntimeException e) {
      asked = CompletableFuture.failedFuture(e);
    }
    return asked.exceptionally(failure -> {
      org.slf4j.LoggerFactory.getLogger(Checkpoints.class).warn("[{}] the plan's file size limit is unknown ({}): capturing with the cap of {} bytes", featureId,
          failure.toString(), settings.maxFileBytes());
      return Optional.empty();
    });
  }

  private ReplyEffect<Event, State> onPauseAnswered(State state, PauseAnswered answered) {
    Cycle cycle = answered.cycle();
    ChainSetup setup = state.setup;
    Optional<ObjectId> tip = state.latest().map(r -> ObjectId.fromString(r.commit()));
    boolean fullScan = cycle.fullScan || capturesSinceFullScan + 1 >= settings.fullScanEvery();
    List<String> paths = List.copyOf(cycle.paths);
    Optional<ObjectId> rollbackTarget = cycle.promote != null ? Optional.of(ObjectId.fromString(cycle.promote.commit()))
        : cycle.rollback == null ? Optional.empty()
        : commitOf(state, cycle.rollback.to()).map(ObjectId::fromString);
    Optional<List<String>> restorePaths = cycle.promote != null ? Optional.of(List.copyOf(cycle.promote.paths()))
        : cycle.rollback == null ? Optional.empty() : cycle.rollback.paths().map(List::copyOf);
    String message = cycle.promote != null ? "warden: validated patch for " + featureId
        : cycle.rollback != null ? "warden: rollback of " + featureId + " to checkpoint " + cycle.rollback.to()
        : "warden: checkpoint of " + featureId + " (" + cycle.trigger.label() + ")";
    CompletableFuture<CaptureDone> work = CompletableFuture.supplyAsync(() -> {
      if (!java.nio.file.Files.exists(Path.of(setup.worktree()).resolve(".git"), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        // never record a vanished worktree as "everything deleted"
        throw new IllegalStateException("the worktree " + setup.worktree() + " is gone");
      }
      try {
        Snapshotter chain = open(setup, tip);
        List<String> restored = List.of();
        Collection<String> changed = paths;
        boolean scan = fullScan;
        if (rollbackTarget.isPresent()) {
          restored = chain.restore(rollbackTarget.get(), restorePaths.map(paths1 -> (Collection<String>) paths1));
          changed = restored;
          scan = restorePaths.isEmpty();
        }
        Snapshotter.Capture capture = chain.capture(changed, scan, cycle.trigger.recordsUnchanged(), message, answered.maxFileBytes());
        return new CaptureDone(cycle, answered.outcome(), capture, restored);
      } catch (RuntimeException e) {
        // start over from the recorded tip next time (this also puts back a ref someone else moved)
        closeSnapshotter();
        throw e;
      }
    }, serial);
    context.pipeToSelf(work, (done, failure) -> done != null ? done
        : new CaptureFailed(cycle, String.valueOf(unwrap(failure).getMessage())));
    return Effect().noReply();
  }

  /** A read of the chain's history: straight from the object database, never behind a capture. */
  private static <T> T read(ChainSetup setup, Function<CheckpointHistory, T> query) {
    try (CheckpointHistory history = CheckpointHistory.open(Path.of(setup.gitDir()))) {
      return query.apply(history);
    }
  }

  private Snapshotter open(ChainSetup setup, Optional<ObjectId> tip) {
    if (snapshotter == null) {
      snapshotter = Snapshotter.open(Path.of(setup.gitDir()), Path.of(setup.worktree()), setup.refName(),
          ObjectId.fromString(setup.baseCommit()), tip, blocking);
    }
    return snapshotter;
  }

  /** Only on {@code serial}. */
  private void closeSnapshotter() {
    if (snapshotter != null) {
      try {
        snapshotter.close();
      } catch (RuntimeException e) {
        context.getLog().warn("[{}] closing the checkpoint chain: {}", featureId, e.toString());
      }
      snapshotter = null;
    }
  }

  private ReplyEffect<Event, State> onCaptureDone(State state, CaptureDone done) {
    Cycle cycle = done.cycle();
    Snapshotter.Capture capture = done.capture();
    if (capture.fullScan()) {
      capturesSinceFullScan = 0;
    } else {
      capturesSinceFullScan++;
    }
    boolean quiesced = done.pause() instanceof AgentLink.Paused;
    Optional<String> note = done.pause() instanceof AgentLink.NotPaused notPaused ? Optional.of(notPaused.reason()) : Optional.empty();
    boolean escalate = done.pause() instanceof AgentLink.NotPaused notPaused && notPaused.escalate();
    if (capture.unchanged() && capture.commit().equals(capture.parent())) {
      // no commit was written (same tree, and this trigger skips empty checkpoints); nothing was recorded, so a missing acknowledgement harmed nothing: no escalation
      finishCycle(state, cycle, false, note);
      cycle.waiters.forEach(w -> w.tell(new NoChange(state.latest())));
      return Effect().none().thenNoReply().thenUnstashAll();
    }
    long seq = state.checkpoints.size() + 1L;
    int added = 0;
    int removed = 0;
    List<ChangedFile> changes = new ArrayList<>();
    for (Snapshotter.FileChange change : capture.changes()) {
      added += change.linesAdded();
      removed += change.linesRemoved();
      if (changes.size() < settings.changesKeptPerCheckpoint()) {
        changes.add(new ChangedFile(change.path(), change.kind().name().toLowerCase(), change.linesAdded(), change.linesRemoved()));
      }
    }
    CheckpointRecord record = new CheckpointRecord(seq, capture.commit().name(), capture.tree().name(), capture.parent().name(),
        cycle.trigger, quiesced, note, capture.changes().size(), added, removed, capture.filesChangedSinceBase(),
        Duration.ofNanos(capture.captureNanos()).toMillis(), Instant.now(), capture.oversized().isEmpty() ? Optional.empty()
            : Optional.of(capture.oversized().stream().limit(Snapshotter.OVERSIZED_LISTED)
                .map(o -> new SkippedFile(o.path(), o.bytes(), o.limit())).toList()));
    if (!capture.oversized().isEmpty()) {
      context.getLog().warn("[{}] checkpoint {} left out {} file(s) over {} bytes, e.g. '{}' ({} bytes): it cannot be valid",
          featureId, seq, capture.oversized().size(), capture.oversized().get(0).limit(), capture.oversized().get(0).path(),
          capture.oversized().get(0).bytes());
    }
    List<Event> events = new ArrayList<>();
    if (cycle.promote != null) {
      events.add(new PatchPromoted(featureId, cycle.promote.commit(), cycle.promote.paths(), cycle.promote.by(), Instant.now()));
    }
    if (cycle.rollback != null) {
      events.add(new RolledBack(featureId, cycle.rollback.to(), cycle.rollback.paths().orElse(List.of()), done.restored(),
          cycle.rollback.by(), Instant.now()));
    }
    events.add(new CheckpointTaken(featureId, record, changes, changes.size() < capture.changes().size()));
    return Effect().persist(events).thenRun(s -> {
      dev.warden.metrics.WardenMetrics.get(context.getSystem()).checkpointTaken(Duration.ofNanos(capture.captureNanos()), quiesced);
      context.getLog().info("[{}] checkpoint {} ({}, {} files, quiesced={}) captured in {} ms",
          featureId, seq, cycle.trigger.label(), record.filesChanged(), quiesced, record.captureMs());
      if (cycle.rollback != null) {
        peers().notifyAgent(AgentMessage.rollback(cycle.rollback.to(), cycle.rollback.paths().orElse(List.of())));
      }
      // validation is asked first: whoever hears Taken (the end of a feature) may stop the validator next
      peers().validate(s.setup, seq, record.commit(), cycle.trigger);
      cycle.waiters.forEach(w -> w.tell(new Taken(record)));
      finishCycle(s, cycle, escalate, note);
    }).thenNoReply().thenUnstashAll();
  }

  private ReplyEffect<Event, State> onCaptureFailed(State state, CaptureFailed failed) {
    context.getLog().warn("[{}] checkpoint failed: {}", featureId, failed.message());
    failed.cycle().waiters.forEach(w -> w.tell(new Failed(Rejection.Kind.CONFLICT, "checkpoint failed: " + failed.message())));
    finishCycle(state, failed.cycle(), false, Optional.empty());
    return Effect().none().thenNoReply().thenUnstashAll();
  }

  private void finishCycle(State state, Cycle cycle, boolean escalate, Optional<String> note) {
    peers().resumeAgent();
    if (escalate) {
      peers().escalate("checkpoint taken without the agent's acknowledgement: " + note.orElse("no answer"));
    }
    current = null;
    startNextIfIdle(state);
  }

  private ReplyEffect<Event, State> onList(State state, ListCheckpoints list) {
    if (list.offset() < 0) {
      return Effect().reply(list.replyTo(), new Missing(Rejection.Kind.INVALID, "offset: must not be negative, was " + list.offset()));
    }
    if (list.limit() < 0) {
      return Effect().reply(list.replyTo(), new Missing(Rejection.Kind.INVALID, "limit: must not be negative, was " + list.limit()));
    }
    int size = state.checkpoints.size();
    int from = Math.min(list.offset(), size);
    int to = from + Math.min(list.limit(), size - from); // never from + limit: it overflows
    return Effect().reply(list.replyTo(), new Page(size, List.copyOf(state.checkpoints.subList(from, to))));
  }

  private ReplyEffect<Event, State> onGet(State state, GetCheckpoint get) {
    Optional<CheckpointRecord> record = state.bySeq(get.seq());
    if (record.isEmpty()) {
      return Effect().reply(get.replyTo(), missing(get.seq()));
    }
    ChainSetup setup = state.setup;
    CheckpointRecord r = record.get();
    CompletableFuture.supplyAsync(() -> read(setup, h -> h.compare(ObjectId.fromString(r.parent()), ObjectId.fromString(r.commit()))), blocking)
        .whenComplete((files, failure) -> get.replyTo().tell(failure == null ? new Found(r, files)
            : new Missing(Rejection.Kind.CONFLICT, "cannot read checkpoint " + r.seq() + ": " + unwrap(failure).getMessage())));
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> onDiff(State state, Diff diff) {
    Optional<CheckpointRecord> record = state.bySeq(diff.seq());
    if (record.isEmpty()) {
      return Effect().reply(diff.replyTo(), missing(diff.seq()));
    }
    String from = diff.againstBase() ? state.setup.baseCommit() : record.get().parent();
    String to = record.get().commit();
    ChainSetup setup = state.setup;
    CompletableFuture.supplyAsync(() -> read(setup, h -> h.diff(ObjectId.fromString(from), ObjectId.fromString(to), settings.diffMaxBytes())), blocking)
        .whenComplete((text, failure) -> diff.replyTo().tell(failure == null ? new DiffText(from, to, text)
            : new Missing(Rejection.Kind.CONFLICT, "cannot diff checkpoint " + diff.seq() + ": " + unwrap(failure).getMessage())));
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> onCompare(State state, Compare compare) {
    Optional<String> from = commitOf(state, compare.from());
    Optional<String> to = commitOf(state, compare.to());
    if (from.isEmpty()) {
      return Effect().reply(compare.replyTo(), missing(compare.from()));
    }
    if (to.isEmpty()) {
      return Effect().reply(compare.replyTo(), missing(compare.to()));
    }
    ChainSetup setup = state.setup;
    ObjectId a = ObjectId.fromString(from.get());
    ObjectId b = ObjectId.fromString(to.get());
    CompletableFuture.supplyAsync(() -> read(setup, h -> new Comparison(from.get(), to.get(), h.compare(a, b),
            h.diff(a, b, settings.diffMaxBytes()))), blocking)
        .whenComplete((result, failure) -> compare.replyTo().tell(failure == null ? result
            : new Missing(Rejection.Kind.CONFLICT, "cannot compare: " + unwrap(failure).getMessage())));
    return Effect().noReply();
  }

  private static Optional<String> commitOf(State state, long seq) {
    if (seq == 0 && state.setup != null) {
      return Optional.of(state.setup.baseCommit());
    }
    return state.bySeq(seq).map(CheckpointRecord::commit);
  }

  private Missing missing(long seq) {
    return new Missing(Rejection.Kind.NOT_FOUND, "feature '" + featureId + "' has no checkpoint " + seq);
  }

  private ReplyEffect<Event, State> onStop(State state, Stop stop) {
    if (current != null) {
      return Effect().stash();
    }
    if (pending != null) {
      pending.waiters.forEach(w -> w.tell(new Failed(Rejection.Kind.CONFLICT, "the feature ended")));
      pending = null;
    }
    pendingRollbacks.forEach(r -> r.replyTo().tell(new Failed(Rejection.Kind.CONFLICT, "the feature ended")));
    pendingRollbacks.clear();
    pendingPromotions.forEach(r -> r.replyTo().tell(new Failed(Rejection.Kind.CONFLICT, "the feature ended")));
    pendingPromotions.clear();
    CompletableFuture.runAsync(this::closeSnapshotter, serial).whenComplete((ok, failure) -> stop.replyTo().tell(Done.getInstance()));
    return Effect().stop().thenNoReply();
  }

  private static Throwable unwrap(Throwable failure) {
    Throwable cause = failure;
    while (cause instanceof java.util.concurrent.CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    return cause;
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder()
        .forAnyState()
        .onEvent(ChainStarted.class, (state, event) -> {
          state.setup = event.setup();
          return state;
        })
        .onEvent(CheckpointTaken.class, (state, event) -> {
          state.checkpoints.add(event.checkpoint());
          return state;
        })
        .onEvent(RolledBack.class, (state, event) -> state)
        .onEvent(PatchPromoted.class, (state, event) -> state)
        .build();
  }
}
