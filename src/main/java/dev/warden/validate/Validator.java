package dev.warden.validate;

import akka.Done;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.TimerScheduler;
import akka.cluster.sharding.typed.javadsl.EntityTypeKey;
import akka.persistence.typed.PersistenceId;
import akka.persistence.typed.RecoveryCompleted;
import akka.persistence.typed.javadsl.CommandHandlerWithReply;
import akka.persistence.typed.javadsl.CommandHandlerWithReplyBuilder;
import akka.persistence.typed.javadsl.EventHandler;
import akka.persistence.typed.javadsl.EventHandlerBuilder;
import akka.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import akka.persistence.typed.javadsl.ReplyEffect;
import akka.persistence.typed.javadsl.RetentionCriteria;
import akka.persistence.typed.javadsl.SignalHandler;
import dev.warden.CborSerializable;
import dev.warden.agent.AgentMessage;
import dev.warden.plan.Trigger;
import dev.warden.plan.PathGlob;
import dev.warden.plan.Plan;
import java.io.File;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.function.Function;

/**
 * Gives every checkpoint of a feature a verdict (sharded by feature id, persistence id
 * {@code Validator|<id>}). The fast rules run in full on the checkpoint's changes since the base; the
 * plan's checks and test then run through the global {@link CheckPool} in a throwaway worktree.
 * Verdicts are persisted; a validation cut short by a restart is run again after recovery. The agent
 * hears about violations; a critical one pauses it and escalates the feature.
 */
public final class Validator
    extends EventSourcedBehaviorWithEnforcedReplies<Validator.Command, Validator.Event, Validator.State> {

  public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "Validator");
  public static final String TAG = "validation";
  private static final Set<String> TAGS = dev.warden.FeedTags.of(TAG);

  public sealed interface Command extends CborSerializable {}

  /**
   * Validate checkpoint {@code seq} (commit) of the repository at {@code gitDir}, whose base is {@code baseCommit}.
   * Nothing happens for a checkpoint whose validation is under way or that has a verdict, except a
   * verdict {@code degraded} because the validation itself failed: that one is run again.
   */
  public record Validate(String gitDir, String baseCommit, long seq, String commit, Trigger trigger) implements Command {}

  public record GetVerdict(long seq, ActorRef<Lookup> replyTo) implements Command {}

  /**
   * The feature ended. Answered once every validation under way has its fast-rule verdict (those ask
   * the watchdog for the disk usage: stop it only after this answer); the validator itself stops once
   * their checks are done too, so the last checkpoint of an ended feature gets its final verdict
   * rather than one "validated again after a restart". At most {@link #STOP_WAIT} either way.
   */
  public record Stop(ActorRef<Done> replyTo) implements Command {}

  /** How long a stopping validator waits for the validations under way. */
  public static final Duration STOP_WAIT = Duration.ofMinutes(10);

  /**
   * Smart rollback: the files behind the violations of the latest judged checkpoint go back to their
   * content in the last valid checkpoint (the base when none was valid); every other file keeps its
   * new content.
   */
  public record SmartRollback(String by, ActorRef<SmartRollbackResult> replyTo) implements Command {}

  /**
   * Patch mode: apply {@code diff} in a shadow worktree at the latest checkpoint, judge it there, and
   * only when it is valid bring it into the feature's worktree as a checkpoint (trigger patch).
   */
  public record ValidatePatch(String gitDir, String baseCommit, String diff, String by, ActorRef<PatchOutcome> replyTo)
      implements Command {}

  public sealed interface PatchOutcome extends CborSerializable {}

  /** Valid: now checkpoint {@code checkpoint}, whose tree is the shadow's {@code shadowTree}. */
  public record PatchPromoted(dev.warden.checkpoint.Checkpoints.CheckpointRecord checkpoint, String shadowTree) implements PatchOutcome {}

  /** Applied in the shadow but not valid; the feature's worktree was not touched. */
  public record PatchRefused(VerdictStatus verdict, List<Violation> violations, List<CheckOutcome> checks) implements PatchOutcome {}

  /** The diff does not apply to the latest checkpoint; {@code output} names the failing hunks. */
  public record PatchDoesNotApply(String output) implements PatchOutcome {}

  public record PatchFailed(String reason) implements PatchOutcome {}

  public sealed interface SmartRollbackResult extends CborSerializable {}

  public record RolledBackSmartly(long from, long to, List<String> paths, dev.warden.checkpoint.Checkpoints.Outcome outcome)
      implements SmartRollbackResult {}

  public record NothingToRollBack(String reason) implements SmartRollbackResult {}

  public sealed interface Lookup extends CborSerializable {}

  public record Found(VerdictRecord verdict) implements Lookup {}

  public record NotValidated(long seq) implements Lookup {}

  record FastDone(Validate request, int planVersion, FastRules.Result result, boolean heavyDue, Plan plan,
      List<String> changedPaths) implements Command {}

  record Failed(Validate request, String reason) implements Command {}

  record HeavyDone(Validate request, List<CheckResult> results) implements Command {}

  record HeavyQueued(Validate request, Plan plan, List<String> changedPaths, String reason) implements Command {}

  private record Retry(Validate request) implements Command {}

  private record StopWaitOver() implements Command {}

  private record RetryHeavy(Validate request, Plan plan, List<String> changedPaths) implements Command {}

  private record VerdictRead(GetVerdict get, Optional<VerdictRecord> verdict, Throwable failure) implements Command {}

  // ---- events (stored contracts: never rename; add fields as Optional; verdicts are stored as their words) ----

  public sealed interface Event extends CborSerializable {}

  public record ValidationStarted(String featureId, long seq, String commit, Trigger trigger, String gitDir, String baseCommit,
      Instant at) implements Event {}

  public record FastRulesChecked(String featureId, long seq, int planVersion, VerdictStatus verdict, List<Violation> violations,
      List<String> unchecked, int cacheHits, int cacheMisses, long elapsedMicros, boolean checksFollow, Instant at) implements Event {}

  public record ChecksQueued(String featureId, long seq, String reason, Instant at) implements Event {}

  public record ChecksCompleted(String featureId, long seq, List<CheckOutcome> checks, VerdictStatus verdict, Instant at) implements Event {}

  public record ValidationFailed(String featureId, long seq, String reason, Instant at) implements Event {}

  /** A patch was refused before it touched the worktree (audit trail). */
  public record PatchRejected(String featureId, String by, String reason, List<Violation> violations, Instant at) implements Event {}

  record PatchJudged(ValidatePatch request, PatchOutcome outcome) implements Command {}

  /**
   * A heavy check's result as recorded: output bounded to its head and tail.
   *
   * @param sandbox how it was contained ({@link CheckResult#sandbox()}); empty in events recorded before
   *     checks were sandboxed
   */
  public record CheckOutcome(String name, List<String> argv, boolean passed, Optional<Integer> exitCode, boolean timedOut,
      long durationMs, String outputHead, String outputTail, long droppedBytes, Optional<String> sandbox) implements CborSerializable {

    public CheckOutcome {
      sandbox = sandbox == null ? Optional.empty() : sandbox;
    }

    /** What a check run returned, as it is recorded. */
    public static CheckOutcome of(CheckResult r) {
      return new CheckOutcome(r.name(), r.argv(), r.passed(), Optional.ofNullable(r.exitCode()), r.timedOut(), r.durationMs(),
          r.outputHead(), r.outputTail(), r.droppedBytes(), Optional.ofNullable(r.sandbox()));
    }
  }

  /** A checkpoint's verdict: {@code running}, {@code queued}, then {@code valid}, {@code invalid} or {@code degraded}. */
  public record VerdictRecord(long seq, String commit, VerdictStatus status, VerdictStatus fastRules, int planVersion,
      List<Violation> violations, List<String> unchecked, List<CheckOutcome> checks, Optional<String> failure, Instant startedAt,
      Optional<Instant> finishedAt) implements CborSerializable {}

  // ---- state (snapshotted: bounded, see docs/architecture.md "### Validator") ----

  /**
   * What the validator decides with: the validations under way, and the {@link VerdictLedger} of what is judged.
   * Every other verdict is read back from the journal ({@link VerdictJournal}).
   */
  public sealed interface State extends CborSerializable {
    VerdictLedger ledger();

    /** The validations under way (started, no final verdict yet), oldest checkpoint first. */
    default List<Underway> underway() {
      return List.of();
    }

    /** The verdict the state holds for checkpoint {@code seq}: one under way, or the latest judged. */
    default Optional<VerdictRecord> verdict(long seq) {
      Optional<VerdictRecord> running = underway().stream().filter(u -> u.seq() == seq).map(Underway::verdict).findFirst();
      return running.isPresent() ? running : ledger().latest().filter(v -> v.seq() == seq);
    }
  }

  /** No validation under way (also the state of a validator that never judged anything). */
  public record Idle(VerdictLedger ledger) implements State {}

  /** Some checkpoints are being judged; {@code underway} oldest first. */
  public record Validating(List<Underway> underway, VerdictLedger ledger) implements State {
    public Validating {
      underway = List.copyOf(underway);
    }
  }

  /** A validation under way: how it started (to run it again after a restart) and its verdict so far. */
  public record Underway(ValidationStarted started, VerdictRecord verdict) implements CborSerializable {
    public long seq() {
      return started.seq();
    }
  }

  // ---- behavior ----

  private final String featureId;
  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final Function<String, ValidatorPeers> peersFactory;
  /** Made on first use, on the actor's thread; work off it is handed the peers, never this field. */
  private ValidatorPeers peers;
  private final ValidationServices services;
  private final ValidationWork work;
  private final VerdictJournal journal;
  /**
   * Checkpoints whose validation this incarnation is running (fast rules, checks, waiting for the
   * pool): a repeated {@code Validate} for one of them starts nothing. Not state: a validation cut
   * short by a restart is under way in the state but not here until recovery runs it again. This and
   * the fields below are the actor's own bookkeeping, read and changed on its thread only.
   */
  private final Set<Long> inFlight = new java.util.HashSet<>();
  /** Of {@link #inFlight}, the checkpoints whose fast rules have not given their verdict yet. */
  private final Set<Long> fastPending = new java.util.HashSet<>();
  /** Who asked this validator to stop, answered once {@link #fastPending} is empty; non-empty while stopping. */
  private final List<ActorRef<Done>> stopWaiters = new java.util.ArrayList<>();
  private boolean stopping;

  /**
   * What every validator shares: the pool, the heavy-check runner, the blocking executor, the fast-rule
   * budget; {@code checkpointMaxFileBytes} ({@code warden.checkpoint.max-file-bytes}): no patch may write
   * a file larger than a checkpoint would read; {@code readJournal}: the query plugin older verdicts are
   * read back from.
   */
  public record ValidationServices(CheckPool pool, HeavyChecks heavy, Executor blocking, Duration fastBudget, Duration queueRetry,
      int cacheCapacity, dev.warden.git.GitCli git, java.nio.file.Path scratch, long checkpointMaxFileBytes, String readJournal) {

    /** The journal's own query plugin: {@code jdbc-read-journal}. */
    public static final String JDBC_READ_JOURNAL = "jdbc-read-journal";

    public ValidationServices(CheckPool pool, HeavyChecks heavy, Executor blocking, Duration fastBudget, Duration queueRetry,
        int cacheCapacity, dev.warden.git.GitCli git, java.nio.file.Path scratch, long checkpointMaxFileBytes) {
      this(pool, heavy, blocking, fastBudget, queueRetry, cacheCapacity, git, scratch, checkpointMaxFileBytes, JDBC_READ_JOURNAL);
    }

    /** Services without a checkpoint cap of their own: patches are held to the plan's limits only. */
    public ValidationServices(CheckPool pool, HeavyChecks heavy, Executor blocking, Duration fastBudget, Duration queueRetry,
        int cacheCapacity, dev.warden.git.GitCli git, java.nio.file.Path scratch) {
      this(pool, heavy, blocking, fastBudget, queueRetry, cacheCapacity, git, scratch, Long.MAX_VALUE);
    }

    /** The same services, older verdicts read back through query plugin {@code pluginId}. */
    public ValidationServices withReadJournal(String pluginId) {
      return new ValidationServices(pool, heavy, blocking, fastBudget, queueRetry, cacheCapacity, git, scratch,
          checkpointMaxFileBytes, pluginId);
    }
  }

  public static Behavior<Command> create(String featureId, Function<String, ValidatorPeers> peers, ValidationServices services) {
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> new Validator(featureId, context, timers, peers, services)));
  }

  private Validator(String featureId, ActorContext<Command> context, TimerScheduler<Command> timers,
      Function<String, ValidatorPeers> peers, ValidationServices services) {
    super(PersistenceId.of(ENTITY_KEY.name(), featureId));
    this.featureId = featureId;
    this.context = context;
    this.timers = timers;
    this.peersFactory = peers;
    this.services = services;
    this.work = new ValidationWork(services, new ValidationCache(services.cacheCapacity()));
    this.journal = new VerdictJournal(context.getSystem(), services.readJournal());
  }

  private ValidatorPeers peers() {
    if (peers == null) {
      peers = peersFactory.apply(featureId);
    }
    return peers;
  }

  @Override
  public State emptyState() {
    return new Idle(VerdictLedger.EMPTY);
  }

  @Override
  public Set<String> tagsFor(Event event) {
    return TAGS;
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(200, 2);
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), state -> {
          // a validation the daemon did not finish is not lost: run it again
          for (Underway underway : state.underway()) {
            ValidationStarted started = underway.started();
            inFlight.add(started.seq());
            fastPending.add(started.seq());
            context.getLog().info("[{}] validating checkpoint {} again: its validation was cut short (the daemon restarted, or the"
                + " validator was stopped before it finished)", featureId, started.seq());
            context.getSelf().tell(new Retry(new Validate(started.gitDir(), started.baseCommit(), started.seq(), started.commit(),
                started.trigger())));
          }
        })
        .build();
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    CommandHandlerWithReplyBuilder<Command, Event, State> builder = newCommandHandlerWithReplyBuilder();
    // what only a validation under way can be told: the work it set off ended
    builder.forStateType(Validating.class)
        .onCommand(Retry.class, (state, retry) -> runFast(retry.request()))
        .onCommand(RetryHeavy.class, (state, retry) -> runHeavy(retry.request(), retry.plan(), retry.changedPaths()))
        .onCommand(FastDone.class, this::onFastDone)
        .onCommand(HeavyQueued.class, this::onHeavyQueued)
        .onCommand(HeavyDone.class, this::onHeavyDone)
        .onCommand(Failed.class, this::onFailed);
    // nothing under way: such a message is a late one for a verdict already final (it changes nothing)
    builder.forStateType(Idle.class)
        .onCommand(Retry.class, (state, retry) -> late(retry.request()))
        .onCommand(RetryHeavy.class, (state, retry) -> late(retry.request()))
        .onCommand(FastDone.class, (state, done) -> late(done.request()))
        .onCommand(HeavyQueued.class, (state, queued) -> late(queued.request()))
        .onCommand(HeavyDone.class, (state, done) -> late(done.request()))
        .onCommand(Failed.class, (state, failed) -> late(failed.request()));
    builder.forAnyState()
        .onCommand(Validate.class, this::onValidate)
        .onCommand(GetVerdict.class, this::onGetVerdict)
        .onCommand(VerdictRead.class, this::onVerdictRead)
        .onCommand(SmartRollback.class, this::onSmartRollback)
        .onCommand(ValidatePatch.class, (state, request) -> {
          context.pipeToSelf(work.patch(peers(), request), (outcome, failure) ->
              new PatchJudged(request, ValidationWork.patchEnded(outcome, failure)));
          return Effect().noReply();
        })
        .onCommand(PatchJudged.class, this::onPatchJudged)
        .onCommand(Stop.class, this::onStop)
        .onCommand(StopWaitOver.class, (state, over) -> {
          if (!inFlight.isEmpty()) {
            context.getLog().warn("[{}] stopping with checkpoint(s) {} not fully validated after {}", featureId, inFlight, STOP_WAIT);
          }
          stopWaiters.forEach(w -> w.tell(Done.getInstance()));
          stopWaiters.clear();
          return Effect().stop().thenNoReply();
        });
    return builder.build();
  }

  private ReplyEffect<Event, State> late(Validate request) {
    context.getLog().debug("[{}] checkpoint {}: a late message after its final verdict, ignored", featureId, request.seq());
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> onValidate(State state, Validate request) {
    long seq = request.seq();
    if (inFlight.contains(seq)) {
      return Effect().noReply(); // being judged right now (or run again after recovery): its verdict will come
    }
    boolean underway = state.underway().stream().anyMatch(u -> u.seq() == seq);
    if (!underway && state.ledger().seen(seq)) {
      if (!state.ledger().retryable().contains(seq)) {
        return Effect().noReply(); // already judged
      }
      context.getLog().info("[{}] validating checkpoint {} again: its last validation failed ({})", featureId, seq,
          state.verdict(seq).flatMap(VerdictRecord::failure).orElse("see its verdict"));
    }
    return Effect()
        .persist(new ValidationStarted(featureId, seq, request.commit(), request.trigger(), request.gitDir(),
            request.baseCommit(), Instant.now()))
        .thenRun(s -> {
          inFlight.add(seq);
          fastPending.add(seq);
          runFast(request);
        })
        .thenNoReply();
  }

  /** The state's verdict when it holds it; an older one is read back from the journal, and the answer sent from there. */
  private ReplyEffect<Event, State> onGetVerdict(State state, GetVerdict get) {
    Optional<VerdictRecord> held = state.verdict(get.seq());
    if (held.isPresent() || !state.ledger().seen(get.seq())) {
      return Effect().reply(get.replyTo(), held.<Lookup>map(Found::new).orElse(new NotValidated(get.seq())));
    }
    context.pipeToSelf(journal.verdict(persistenceId().id(), get.seq()), (verdict, failure) -> new VerdictRead(get, verdict, failure));
    return Effect().noReply();
  }

  /** An older verdict read back from the journal; a read that failed is not answered (the asker's timeout says so). */
  private ReplyEffect<Event, State> onVerdictRead(VerdictRead read) {
    if (read.failure() != null) {
      context.getLog().warn("[{}] the verdict of checkpoint {} could not be read from the journal: {}", featureId, read.get().seq(),
          read.failure().toString());
      return Effect().noReply();
    }
    return Effect().reply(read.get().replyTo(), read.verdict().<Lookup>map(Found::new).orElse(new NotValidated(read.get().seq())));
  }

  /** Once a checkpoint's validation has ended (its verdict is final), it is no longer in flight. */
  private void settle(State state, long seq) {
    fastPending.remove(seq);
    if (state.underway().stream().noneMatch(u -> u.seq() == seq)) {
      inFlight.remove(seq);
    }
    if (stopping) {
      answerStopWaiters();
      if (inFlight.isEmpty()) {
        context.getSelf().tell(new StopWaitOver()); // nothing left to finish: stop now
      }
    }
  }

  private ReplyEffect<Event, State> onStop(State state, Stop stop) {
    if (inFlight.isEmpty()) {
      stopWaiters.forEach(w -> w.tell(Done.getInstance()));
      stopWaiters.clear();
      return Effect().stop().thenReply(stop.replyTo(), s -> Done.getInstance());
    }
    stopWaiters.add(stop.replyTo());
    if (!stopping) {
      stopping = true;
      context.getLog().info("[{}] stopping once checkpoint(s) {} have their verdict", featureId, inFlight);
      timers.startSingleTimer("stop-wait", new StopWaitOver(), STOP_WAIT);
    }
    answerStopWaiters();
    return Effect().noReply();
  }

  /** The fast rules of everything under way are done: whoever asked to stop may stop the watchdog now. */
  private void answerStopWaiters() {
    if (fastPending.isEmpty()) {
      stopWaiters.forEach(w -> w.tell(Done.getInstance()));
      stopWaiters.clear();
    }
  }

  private ReplyEffect<Event, State> runFast(Validate request) {
    context.pipeToSelf(work.fast(peers(), request), (done, failure) -> done != null ? done : ValidationWork.fastFailed(request, failure));
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> runHeavy(Validate request, Plan plan, List<String> changedPaths) {
    context.pipeToSelf(work.heavy(request, plan, changedPaths),
        (results, failure) -> ValidationWork.heavyEnded(request, plan, changedPaths, results, failure));
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> onFailed(State state, Failed failed) {
    return Effect()
        .persist(new ValidationFailed(featureId, failed.request().seq(), failed.reason(), Instant.now()))
        .thenRun(s -> {
          settle(s, failed.request().seq());
          context.getLog().warn("[{}] validation of checkpoint {} failed: {}", featureId, failed.request().seq(), failed.reason());
        })
        .thenNoReply();
  }

  private ReplyEffect<Event, State> onFastDone(State state, FastDone done) {
    FastRules.Result result = done.result();
    Validate request = done.request();
    List<String> unchecked = result.unchecked().stream().map(u -> u.rule() + " " + u.path() + ": " + u.reason()).toList();
    FastRulesChecked event = new FastRulesChecked(featureId, request.seq(), done.planVersion(), VerdictStatus.of(result.verdict()),
        result.violations(), unchecked, result.cacheHits(), result.cacheMisses(), result.elapsedNanos() / 1000,
        done.heavyDue(), Instant.now());
    // undo the files of this very checkpoint, even when a later checkpoint's verdict came first (decided while it is under way)
    Optional<SmartPlan> undo = done.plan().rollsBackSmartly() ? SmartPlan.of(state, request.seq(), result.violations()) : Optional.empty();
    return Effect().persist(event).thenRun(s -> {
      settle(s, request.seq());
      dev.warden.metrics.WardenMetrics.get(context.getSystem())
          .fastRulesRan(Duration.ofNanos(result.elapsedNanos()), result.cacheHits(), result.cacheMisses());
      react(request.seq(), result.violations(), undo);
      if (done.heavyDue()) {
        runHeavy(request, done.plan(), done.changedPaths());
      }
    }).thenNoReply();
  }

  private void react(long seq, List<Violation> violations, Optional<SmartPlan> smart) {
    if (violations.isEmpty()) {
      return;
    }
    Severity worst = violations.get(0).severity();
    boolean critical = worst == Severity.CRITICAL;
    Optional<SmartPlan> undo = critical ? smart : Optional.empty();
    peers().notifyAgent(AgentMessage.violation(Optional.of(seq), worst.label(),
        violations.stream().map(v -> new AgentMessage.ViolationNote(v.rule(), v.path(), v.severity().label(), v.message())).toList(),
        !critical ? "none" : undo.isPresent() ? "rolled back" : "paused"));
    if (undo.isPresent()) {
      // the plan asks to undo only the offending files (the agent is paused for it) and carry on
      SmartPlan p = undo.get();
      context.getLog().info("[{}] checkpoint {}: smart rollback of {} to checkpoint {}", featureId, seq, p.paths(), p.to());
      ValidatorPeers agent = peers();
      agent.rollback(p.to(), p.paths(), "warden (autoRollback: smart)").whenComplete((outcome, failure) -> agent.notifyAgent(
          AgentMessage.text(failure == null && outcome instanceof dev.warden.checkpoint.Checkpoints.Taken
              ? "undid " + p.paths() + " (back to checkpoint " + p.to() + ") because of a critical violation; carry on"
              : "the smart rollback of " + p.paths() + " failed: " + (failure != null ? failure.getMessage() : outcome))));
    } else if (critical) {
      Violation first = violations.get(0);
      peers().critical("checkpoint " + seq + ": critical violation " + first.rule() + " at " + first.path() + ": " + first.message());
    }
  }

  private ReplyEffect<Event, State> onHeavyQueued(State state, HeavyQueued queued) {
    timers.startSingleTimer("retry-" + queued.request().seq(), new RetryHeavy(queued.request(), queued.plan(), queued.changedPaths()),
        services.queueRetry());
    if (state.verdict(queued.request().seq()).filter(v -> v.status() == VerdictStatus.QUEUED).isPresent()) {
      return Effect().noReply();
    }
    return Effect().persist(new ChecksQueued(featureId, queued.request().seq(), queued.reason(), Instant.now())).thenNoReply();
  }

  private ReplyEffect<Event, State> onHeavyDone(State state, HeavyDone done) {
    List<CheckOutcome> outcomes = done.results().stream().map(CheckOutcome::of).toList();
    VerdictStatus fastVerdict = state.verdict(done.request().seq()).map(VerdictRecord::fastRules).orElse(VerdictStatus.VALID);
    boolean failed = outcomes.stream().anyMatch(o -> !o.passed());
    VerdictStatus verdict = failed || fastVerdict == VerdictStatus.INVALID ? VerdictStatus.INVALID : fastVerdict;
    return Effect().persist(new ChecksCompleted(featureId, done.request().seq(), outcomes, verdict, Instant.now()))
        .thenRun(s -> {
          settle(s, done.request().seq());
          if (failed) {
            List<AgentMessage.ViolationNote> notes = outcomes.stream().filter(o -> !o.passed())
                .map(o -> new AgentMessage.ViolationNote("check", o.name(), Severity.ERROR.label(),
                    o.timedOut() ? "timed out after " + o.durationMs() + " ms" : "exited " + o.exitCode().map(String::valueOf).orElse("?")))
                .toList();
            peers().notifyAgent(AgentMessage.violation(Optional.of(done.request().seq()), Severity.ERROR.label(), notes, "none"));
          }
        })
        .thenNoReply();
  }

  private ReplyEffect<Event, State> onSmartRollback(State state, SmartRollback request) {
    Optional<SmartPlan> plan = SmartPlan.latest(state);
    if (plan.isEmpty()) {
      return Effect().reply(request.replyTo(), new NothingToRollBack("the latest judged checkpoint has no violation tied to a file"));
    }
    SmartPlan p = plan.get();
    ActorRef<SmartRollbackResult> replyTo = request.replyTo();
    peers().rollback(p.to(), p.paths(), request.by()).whenComplete((outcome, failure) -> replyTo.tell(failure == null
        ? new RolledBackSmartly(p.from(), p.to(), p.paths(), outcome)
        : new NothingToRollBack("the rollback failed: " + failure.getMessage())));
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> onPatchJudged(State state, PatchJudged judged) {
    PatchOutcome outcome = judged.outcome();
    if (outcome instanceof PatchPromoted || outcome instanceof PatchFailed) {
      return Effect().reply(judged.request().replyTo(), outcome);
    }
    String reason = outcome instanceof PatchDoesNotApply no ? "does not apply: " + no.output() : "not valid";
    List<Violation> violations = outcome instanceof PatchRefused refused ? refused.violations() : List.of();
    return Effect().persist(new PatchRejected(featureId, judged.request().by(), reason, violations, Instant.now()))
        .thenReply(judged.request().replyTo(), s -> outcome);
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    EventHandlerBuilder<State, Event> builder = newEventHandlerBuilder();
    // both phases take every event the same way: the pure fold decides the phase that follows
    builder.forStateType(Idle.class).onAnyEvent(ValidatorStates::apply);
    builder.forStateType(Validating.class).onAnyEvent(ValidatorStates::apply);
    return builder.build();
  }
}
