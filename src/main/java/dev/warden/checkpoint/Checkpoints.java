package dev.warden.checkpoint;

import static dev.warden.checkpoint.CheckpointReads.absentAsKnown;
import static dev.warden.checkpoint.CheckpointReads.commitOf;
import static dev.warden.checkpoint.CheckpointReads.unread;
import static dev.warden.checkpoint.CheckpointReads.unwrap;

import akka.Done;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.sharding.typed.javadsl.EntityTypeKey;
import akka.persistence.typed.PersistenceId;
import akka.persistence.typed.javadsl.CommandHandlerWithReply;
import akka.persistence.typed.javadsl.CommandHandlerWithReplyBuilder;
import akka.persistence.jdbc.query.javadsl.JdbcReadJournal;
import akka.persistence.typed.javadsl.EventHandler;
import akka.persistence.typed.javadsl.EventHandlerBuilder;
import akka.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import akka.persistence.typed.javadsl.ReplyEffect;
import akka.persistence.typed.javadsl.RetentionCriteria;
import dev.warden.CborSerializable;
import dev.warden.Rejection;
import dev.warden.agent.AgentLink;
import dev.warden.agent.AgentMessage;
import dev.warden.checkpoint.CaptureQueue.Cycle;
import dev.warden.checkpoint.CheckpointsState.Started;
import dev.warden.checkpoint.CheckpointsState.Unstarted;
import dev.warden.plan.Trigger;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Function;
import org.eclipse.jgit.lib.ObjectId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A feature's checkpoint chain (sharded by feature id, persistence id {@code Checkpoints|<id>}). One
 * capture at a time: requests that arrive meanwhile coalesce into the next one. Each capture pauses
 * the agent first (pause → ack), snapshots the worktree into a commit on
 * {@code refs/warden/<id>/checkpoints}, records it, and resumes the agent. Without an ack the
 * checkpoint is taken anyway, marked unquiesced, and the feature escalated — unless there was nothing
 * to pause (no agent connected, its command exited) or the agent said it cannot pause. Git work runs on the blocking pool, serially per feature.
 */
public final class Checkpoints
    extends EventSourcedBehaviorWithEnforcedReplies<Checkpoints.Command, Checkpoints.Event, CheckpointsState> {

  public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "Checkpoints");
  public static final String TAG = "checkpoint";
  private static final Logger log = LoggerFactory.getLogger(Checkpoints.class);
  private static final Set<String> TAGS = dev.warden.FeedTags.of(TAG);

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

  /** Kept for the callers that size pages by it; see {@link CheckpointsState#RECENT_KEPT}. */
  public static final int RECENT_KEPT = CheckpointsState.RECENT_KEPT;

  // ---- internal messages ----

  private record PauseAnswered(Cycle cycle, AgentLink.PauseOutcome outcome, long maxFileBytes) implements Command {}

  /** The chain's Start did not come within start-wait: what waited for it is refused. */
  private record StartWaitOver() implements Command {}

  private record CaptureDone(Cycle cycle, AgentLink.PauseOutcome pause, Snapshotter.Capture capture, List<String> restored)
      implements Command {}

  private record CaptureFailed(Cycle cycle, String message) implements Command {}

  /**
   * Records a read needed that only the journal has: {@code original} is handled again with them
   * ({@code failure}: the journal could not be read).
   */
  record HistoryRead(Command original, Map<Long, CheckpointRecord> records, Optional<String> failure) implements Command {}

  // ---- behavior ----

  private final String featureId;
  private final ActorContext<Command> context;
  private final Function<String, CheckpointPeers> peersFactory;
  private final CheckpointSettings settings;
  private final ChainWorker worker;
  private final CheckpointReads reads;
  private CheckpointPeers peers;
  // not persisted, touched only by command handlers (on the actor's thread): the capture in flight and what waits
  private final CaptureQueue captures = new CaptureQueue();
  private int capturesSinceFullScan;
  /** Commands that came before the chain's Start are stashed until it comes, or until start-wait is over. */
  private boolean startWaitScheduled;
  private boolean startWaitOver;

  /** A chain whose older records are read back from the JDBC journal (the daemon's). */
  public static Behavior<Command> create(String featureId, Function<String, CheckpointPeers> peers, CheckpointSettings settings, Executor blocking) {
    return create(featureId, peers, settings, blocking, JdbcReadJournal.Identifier());
  }

  /** @param readJournalId the read journal of the journal the chain is written to (tests: the testkit's). */
  static Behavior<Command> create(String featureId, Function<String, CheckpointPeers> peers, CheckpointSettings settings,
      Executor blocking, String readJournalId) {
    return Behaviors.setup(context -> new Checkpoints(featureId, context, peers, settings, blocking,
        new CheckpointJournal(context.getSystem(), readJournalId)));
  }

  private Checkpoints(String featureId, ActorContext<Command> context, Function<String, CheckpointPeers> peers,
      CheckpointSettings settings, Executor blocking, CheckpointJournal history) {
    super(PersistenceId.of(ENTITY_KEY.name(), featureId));
    this.featureId = featureId;
    this.context = context;
    this.peersFactory = peers;
    this.settings = settings;
    this.worker = new ChainWorker(featureId, blocking);
    this.reads = new CheckpointReads(featureId, persistenceId().id(), context, settings, worker, history, Effect());
  }

  @Override
  public CheckpointsState emptyState() {
    return new Unstarted();
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
  public CommandHandlerWithReply<Command, Event, CheckpointsState> commandHandler() {
    CommandHandlerWithReplyBuilder<Command, Event, CheckpointsState> builder = newCommandHandlerWithReplyBuilder();
    builder
        .forStateType(Unstarted.class)
        .onCommand(Start.class, (state, start) -> persistStart(start))
        .onCommand(Request.class, (state, request) -> waitForStart(request.replyTo()))
        .onCommand(Rollback.class, (state, rollback) -> rollback.paths().flatMap(Checkpoints::pathProblem)
            .map(bad -> Effect().reply(rollback.replyTo(), new Failed(Rejection.Kind.INVALID, bad)))
            .orElseGet(() -> waitForStart(rollback.replyTo())))
        .onCommand(Promote.class, (state, promote) -> promoteProblem(promote)
            .map(bad -> Effect().reply(promote.replyTo(), new Failed(Rejection.Kind.INVALID, bad)))
            .orElseGet(() -> waitForStart(promote.replyTo())))
        .onCommand(ListCheckpoints.class, (state, list) -> reads.listProblem(list)
            .orElseGet(() -> Effect().reply(list.replyTo(), new Page(0, List.of()))))
        .onCommand(GetCheckpoint.class, (state, get) -> Effect().reply(get.replyTo(), reads.missing(get.seq())))
        .onCommand(Diff.class, (state, diff) -> Effect().reply(diff.replyTo(), reads.missing(diff.seq())))
        .onCommand(Compare.class, (state, compare) -> Effect().reply(compare.replyTo(), reads.missing(compare.from())));
    builder
        .forStateType(Started.class)
        .onCommand(Start.class, this::onStart)
        .onCommand(Request.class, this::onRequest)
        .onCommand(Rollback.class, (state, rollback) -> onRollback(state, rollback, Map.of()))
        .onCommand(Promote.class, this::onPromote)
        .onCommand(ListCheckpoints.class, reads::onList)
        .onCommand(GetCheckpoint.class, (state, get) -> reads.onGet(state, get, Map.of()))
        .onCommand(Diff.class, (state, diff) -> reads.onDiff(state, diff, Map.of()))
        .onCommand(Compare.class, (state, compare) -> reads.onCompare(state, compare, Map.of()))
        .onCommand(HistoryRead.class, this::onHistoryRead)
        .onCommand(PauseAnswered.class, this::onPauseAnswered)
        .onCommand(CaptureDone.class, this::onCaptureDone)
        .onCommand(CaptureFailed.class, this::onCaptureFailed);
    builder
        .forAnyState()
        .onCommand(Stop.class, this::onStop)
        .onCommand(StartWaitOver.class, (state, over) -> {
          startWaitOver = true;
          return Effect().noReply().thenUnstashAll();
        });
    return builder.build();
  }

  /**
   * A command that needs the chain waits for its Start (a feature just created: the daemon starts the
   * chain right after recording it) — stashed, for {@code start-wait} at most — and is refused once
   * that wait is over.
   */
  private ReplyEffect<Event, CheckpointsState> waitForStart(ActorRef<Outcome> replyTo) {
    if (startWaitOver) {
      return Effect().reply(replyTo, new Failed(Rejection.Kind.CONFLICT, "the checkpoint chain of '" + featureId + "' is not started"));
    }
    if (!startWaitScheduled) {
      startWaitScheduled = true;
      context.scheduleOnce(settings.startWait(), context.getSelf(), new StartWaitOver());
    }
    return Effect().stash();
  }

  private ReplyEffect<Event, CheckpointsState> persistStart(Start start) {
    return Effect().persist(new ChainStarted(start.setup(), Instant.now()))
        .thenReply(start.replyTo(), s -> Done.getInstance()).thenUnstashAll();
  }

  private ReplyEffect<Event, CheckpointsState> onStart(Started state, Start start) {
    if (start.setup().equals(state.setup())) {
      return Effect().reply(start.replyTo(), Done.getInstance());
    }
    return persistStart(start);
  }

  private ReplyEffect<Event, CheckpointsState> onRequest(Started state, Request request) {
    captures.request(request);
    startNextIfIdle(state);
    return Effect().noReply();
  }

  private ReplyEffect<Event, CheckpointsState> onRollback(Started state, Rollback rollback, Map<Long, CheckpointRecord> read) {
    Optional<String> badPath = rollback.paths().flatMap(Checkpoints::pathProblem);
    if (badPath.isPresent()) {
      return Effect().reply(rollback.replyTo(), new Failed(Rejection.Kind.INVALID, badPath.get()));
    }
    if (unread(state, read, rollback.to())) {
      return reads.readHistory(rollback, Set.of(rollback.to()));
    }
    Optional<String> target = commitOf(state, read, rollback.to());
    if (target.isEmpty()) {
      return Effect().reply(rollback.replyTo(), new Failed(Rejection.Kind.NOT_FOUND, "feature '" + featureId + "' has no checkpoint " + rollback.to()));
    }
    // the target is fixed now: a rollback to an old checkpoint does not read the journal again when it starts
    captures.rollback(rollback, target.get());
    startNextIfIdle(state);
    return Effect().noReply();
  }

  private ReplyEffect<Event, CheckpointsState> onPromote(Started state, Promote promote) {
    Optional<String> bad = promoteProblem(promote);
    if (bad.isPresent()) {
      return Effect().reply(promote.replyTo(), new Failed(Rejection.Kind.INVALID, bad.get()));
    }
    captures.promote(promote);
    startNextIfIdle(state);
    return Effect().noReply();
  }

  /** Judged on arrival: once the agent is paused, bad input must not be able to fail the cycle (or crash it). */
  private static Optional<String> promoteProblem(Promote promote) {
    if (promote.commit() == null || !ObjectId.isId(promote.commit())) {
      return Optional.of("commit: '" + promote.commit() + "' is not a commit id (40 hexadecimal digits)");
    }
    return pathProblem(promote.paths());
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

  private void startNextIfIdle(Started state) {
    Optional<Cycle> next = captures.startNext();
    if (next.isEmpty()) {
      return;
    }
    Cycle cycle = next.get();
    // the plan's file size limit is asked while the agent pauses; without an answer the setting's cap stands
    CompletionStage<Long> cap = planMaxFileBytes().thenApply(settings::capFor);
    context.pipeToSelf(peers().pauseAgent(cycle.reason()).thenCombine(cap, (outcome, max) -> new PauseAnswered(cycle, outcome, max)),
        (answered, failure) -> failure == null ? answered
            : new PauseAnswered(cycle, new AgentLink.NotPaused("could not reach the agent link: " + failure.getMessage(), true),
                settings.maxFileBytes()));
  }

  private CompletionStage<Optional<Long>> planMaxFileBytes() {
    CompletionStage<Optional<Long>> asked;
    try {
      asked = peers().planMaxFileBytes();
    } catch (RuntimeException e) {
      asked = CompletableFuture.failedFuture(e);
    }
    String id = featureId;
    long setting = settings.maxFileBytes();
    return asked.exceptionally(failure -> {
      log.warn("[{}] the plan's file size limit is unknown ({}): capturing with the cap of {} bytes", id, failure.toString(), setting);
      return Optional.empty();
    });
  }

  private ReplyEffect<Event, CheckpointsState> onPauseAnswered(Started state, PauseAnswered answered) {
    Cycle cycle = answered.cycle();
    boolean fullScan = cycle.fullScan() || capturesSinceFullScan + 1 >= settings.fullScanEvery();
    List<String> paths = cycle.paths();
    Optional<ObjectId> restoreTo = cycle.restoreTo().map(ObjectId::fromString);
    Optional<List<String>> restorePaths = cycle.promote().<List<String>>map(p -> List.copyOf(p.paths()))
        .or(() -> cycle.rollback().flatMap(r -> r.paths().map(List::copyOf)));
    String message = cycle.promote().isPresent() ? "warden: validated patch for " + featureId
        : cycle.rollback().map(r -> "warden: rollback of " + featureId + " to checkpoint " + r.to())
            .orElse("warden: checkpoint of " + featureId + " (" + cycle.trigger().label() + ")");
    boolean commitIfUnchanged = cycle.trigger().recordsUnchanged();
    long maxFileBytes = answered.maxFileBytes();
    CompletableFuture<CaptureDone> work = worker.write(state.setup(), tip(state), chain -> {
      List<String> restored = List.of();
      Collection<String> changed = paths;
      boolean scan = fullScan;
      if (restoreTo.isPresent()) {
        restored = chain.restore(restoreTo.get(), restorePaths.map(p -> (Collection<String>) p));
        changed = restored;
        scan = restorePaths.isEmpty();
      }
      Snapshotter.Capture capture = chain.capture(changed, scan, commitIfUnchanged, message, maxFileBytes);
      return new CaptureDone(cycle, answered.outcome(), capture, restored);
    });
    context.pipeToSelf(work, (done, failure) -> done != null ? done
        : new CaptureFailed(cycle, String.valueOf(unwrap(failure).getMessage())));
    return Effect().noReply();
  }

  private static Optional<ObjectId> tip(Started state) {
    return state.latest().map(r -> ObjectId.fromString(r.commit()));
  }

  private ReplyEffect<Event, CheckpointsState> onCaptureDone(Started state, CaptureDone done) {
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
      finishCycle(state, false, note);
      cycle.waiters().forEach(w -> w.tell(new NoChange(state.latest())));
      return Effect().none().thenNoReply().thenUnstashAll();
    }
    long seq = state.count() + 1L;
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
        cycle.trigger(), quiesced, note, capture.changes().size(), added, removed, capture.filesChangedSinceBase(),
        Duration.ofNanos(capture.captureNanos()).toMillis(), Instant.now(), capture.oversized().isEmpty() ? Optional.empty()
            : Optional.of(capture.oversized().stream().limit(Snapshotter.OVERSIZED_LISTED)
                .map(o -> new SkippedFile(o.path(), o.bytes(), o.limit())).toList()));
    if (!capture.oversized().isEmpty()) {
      context.getLog().warn("[{}] checkpoint {} left out {} file(s) over {} bytes, e.g. '{}' ({} bytes): it cannot be valid",
          featureId, seq, capture.oversized().size(), capture.oversized().get(0).limit(), capture.oversized().get(0).path(),
          capture.oversized().get(0).bytes());
    }
    List<Event> events = new ArrayList<>();
    cycle.promote().ifPresent(p -> events.add(new PatchPromoted(featureId, p.commit(), p.paths(), p.by(), Instant.now())));
    cycle.rollback().ifPresent(r -> events.add(new RolledBack(featureId, r.to(), r.paths().orElse(List.of()), done.restored(),
        r.by(), Instant.now())));
    events.add(new CheckpointTaken(featureId, record, changes, changes.size() < capture.changes().size()));
    return Effect().persist(events).thenRun(s -> {
      Started updated = (Started) s;
      dev.warden.metrics.WardenMetrics.get(context.getSystem()).checkpointTaken(Duration.ofNanos(capture.captureNanos()), quiesced);
      context.getLog().info("[{}] checkpoint {} ({}, {} files, quiesced={}) captured in {} ms",
          featureId, seq, cycle.trigger().label(), record.filesChanged(), quiesced, record.captureMs());
      cycle.rollback().ifPresent(r -> peers().notifyAgent(AgentMessage.rollback(r.to(), r.paths().orElse(List.of()))));
      // validation is asked first: whoever hears Taken (the end of a feature) may stop the validator next
      peers().validate(updated.setup(), seq, record.commit(), cycle.trigger());
      cycle.waiters().forEach(w -> w.tell(new Taken(record)));
      finishCycle(updated, escalate, note);
    }).thenNoReply().thenUnstashAll();
  }

  private ReplyEffect<Event, CheckpointsState> onCaptureFailed(Started state, CaptureFailed failed) {
    context.getLog().warn("[{}] checkpoint failed: {}", featureId, failed.message());
    failed.cycle().waiters().forEach(w -> w.tell(new Failed(Rejection.Kind.CONFLICT, "checkpoint failed: " + failed.message())));
    finishCycle(state, false, Optional.empty());
    return Effect().none().thenNoReply().thenUnstashAll();
  }

  private void finishCycle(Started state, boolean escalate, Optional<String> note) {
    peers().resumeAgent();
    if (escalate) {
      peers().escalate("checkpoint taken without the agent's acknowledgement: " + note.orElse("no answer"));
    }
    captures.finished();
    startNextIfIdle(state);
  }

  /** A rollback is handled here again with what the journal had; the reads by {@link CheckpointReads}. */
  private ReplyEffect<Event, CheckpointsState> onHistoryRead(Started state, HistoryRead read) {
    if (read.original() instanceof Rollback rollback) {
      return read.failure().isPresent()
          ? Effect().reply(rollback.replyTo(), new Failed(Rejection.Kind.CONFLICT, reads.journalFailure(read)))
          : onRollback(state, rollback, absentAsKnown(new java.util.HashMap<>(read.records()), rollback.to()));
    }
    return reads.onHistoryRead(state, read);
  }

  private ReplyEffect<Event, CheckpointsState> onStop(CheckpointsState state, Stop stop) {
    if (captures.busy()) {
      return Effect().stash();
    }
    captures.refuseWaiting("the feature ended");
    ActorRef<Done> replyTo = stop.replyTo();
    worker.shutdown().whenComplete((ok, failure) -> replyTo.tell(Done.getInstance()));
    return Effect().stop().thenNoReply();
  }


  // ---- events: pure, each returns the next state ----

  @Override
  public EventHandler<CheckpointsState, Event> eventHandler() {
    EventHandlerBuilder<CheckpointsState, Event> builder = newEventHandlerBuilder();
    builder
        .forStateType(Unstarted.class)
        .onEvent(ChainStarted.class, (state, event) -> new Started(event.setup(), 0, List.of()));
    builder
        .forStateType(Started.class)
        .onEvent(ChainStarted.class, (state, event) -> state.withSetup(event.setup()))
        .onEvent(CheckpointTaken.class, (state, event) -> state.taken(event.checkpoint()))
        .onEvent(RolledBack.class, (state, event) -> state)
        .onEvent(PatchPromoted.class, (state, event) -> state);
    return builder.build();
  }
}
