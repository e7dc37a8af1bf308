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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Function;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;

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
  public record PatchRefused(String verdict, List<Violation> violations, List<CheckOutcome> checks) implements PatchOutcome {}

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

  private record FastDone(Validate request, int planVersion, FastRules.Result result, boolean heavyDue, Plan plan,
      List<String> changedPaths) implements Command {}

  private record Failed(Validate request, String reason) implements Command {}

  private record HeavyDone(Validate request, List<CheckResult> results) implements Command {}

  private record HeavyQueued(Validate request, Plan plan, List<String> changedPaths, String reason) implements Command {}

  private record Retry(Validate request) implements Command {}

  private record StopWaitOver() implements Command {}

  private record RetryHeavy(Validate request, Plan plan, List<String> changedPaths) implements Command {}

  // ---- events ----

  public sealed interface Event extends CborSerializable {}

  public record ValidationStarted(String featureId, long seq, String commit, Trigger trigger, String gitDir, String baseCommit,
      Instant at) implements Event {}

  public record FastRulesChecked(String featureId, long seq, int planVersion, String verdict, List<Violation> violations,
      List<String> unchecked, int cacheHits, int cacheMisses, long elapsedMicros, boolean checksFollow, Instant at) implements Event {}

  public record ChecksQueued(String featureId, long seq, String reason, Instant at) implements Event {}

  public record ChecksCompleted(String featureId, long seq, List<CheckOutcome> checks, String verdict, Instant at) implements Event {}

  public record ValidationFailed(String featureId, long seq, String reason, Instant at) implements Event {}

  /** A patch was refused before it touched the worktree (audit trail). */
  public record PatchRejected(String featureId, String by, String reason, List<Violation> violations, Instant at) implements Event {}

  private record PatchJudged(ValidatePatch request, PatchOutcome outcome) implements Command {}

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
  public record VerdictRecord(long seq, String commit, String status, String fastRules, int planVersion, List<Violation> violations,
      List<String> unchecked, List<CheckOutcome> checks, Optional<String> failure, Instant startedAt, Optional<Instant> finishedAt)
      implements CborSerializable {}

  public static final class State implements CborSerializable {
    public final Map<Long, VerdictRecord> verdicts = new LinkedHashMap<>();
    public final Map<Long, ValidationStarted> unfinished = new LinkedHashMap<>();
  }

  // ---- behavior ----

  private final String featureId;
  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final Function<String, ValidatorPeers> peersFactory;
  private final ValidationServices services;
  private final ValidationCache cache;
  private ValidatorPeers peers;
  /**
   * Checkpoints whose validation this incarnation is running (fast rules, checks, waiting for the
   * pool): a repeated {@code Validate} for one of them starts nothing. Not state: a validation cut
   * short by a restart is in {@code State.unfinished} but not here until recovery runs it again.
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
   * a file larger than a checkpoint would read.
   */
  public record ValidationServices(CheckPool pool, HeavyChecks heavy, Executor blocking, Duration fastBudget, Duration queueRetry,
      int cacheCapacity, dev.warden.git.GitCli git, java.nio.file.Path scratch, long checkpointMaxFileBytes) {

    /** Services without a checkpoint cap of their own: patches are held to the plan's limits only. */
    public ValidationServices(CheckPool pool, HeavyChecks heavy, Executor blocking, Duration fastBudget, Duration queueRetry,
        int cacheCapacity, dev.warden.git.GitCli git, java.nio.file.Path scratch) {
      this(pool, heavy, blocking, fastBudget, queueRetry, cacheCapacity, git, scratch, Long.MAX_VALUE);
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
    this.cache = new ValidationCache(services.cacheCapacity());
  }

  private ValidatorPeers peers() {
    if (peers == null) {
      peers = peersFactory.apply(featureId);
    }
    return peers;
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

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), state -> {
          // a validation the daemon did not finish is not lost: run it again
          for (ValidationStarted started : List.copyOf(state.unfinished.values())) {
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
    builder.forAnyState()
        .onCommand(Validate.class, this::onValidate)
        .onCommand(Retry.class, (state, retry) -> {
          runFast(retry.request());
          return Effect().noReply();
        })
        .onCommand(RetryHeavy.class, (state, retry) -> {
          runHeavy(retry.request(), retry.plan(), retry.changedPaths());
          return Effect().noReply();
        })
        .onCommand(FastDone.class, this::onFastDone)
        .onCommand(HeavyQueued.class, this::onHeavyQueued)
        .onCommand(HeavyDone.class, this::onHeavyDone)
        .onCommand(Failed.class, (state, failed) -> Effect()
            .persist(new ValidationFailed(featureId, failed.request().seq(), failed.reason(), Instant.now()))
            .thenRun(s -> {
              settle(s, failed.request().seq());
              context.getLog().warn("[{}] validation of checkpoint {} failed: {}", featureId, failed.request().seq(), failed.reason());
            })
            .thenNoReply())
        .onCommand(GetVerdict.class, (state, get) -> Effect().reply(get.replyTo(),
            Optional.ofNullable(state.verdicts.get(get.seq())).<Lookup>map(Found::new).orElse(new NotValidated(get.seq()))))
        .onCommand(SmartRollback.class, this::onSmartRollback)
        .onCommand(ValidatePatch.class, this::onValidatePatch)
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

  private ReplyEffect<Event, State> onValidate(State state, Validate request) {
    long seq = request.seq();
    if (inFlight.contains(seq)) {
      return Effect().noReply(); // being judged right now (or run again after recovery): its verdict will come
    }
    VerdictRecord current = state.verdicts.get(seq);
    if (current != null && !state.unfinished.containsKey(seq)) {
      if (!failedBeforeAVerdict(current)) {
        return Effect().noReply(); // already judged
      }
      context.getLog().info("[{}] validating checkpoint {} again: its last validation failed ({})", featureId, seq,
          current.failure().orElse(""));
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

  /**
   * Degraded only because the validation itself failed ({@code ValidationFailed}: the plan or the git
   * objects could not be read, the checks could not run), not because something was left unchecked:
   * a later {@code Validate} runs it again. An invalid checkpoint whose checks could not run keeps its
   * verdict (running it again could not make it valid, and would repeat its reactions).
   */
  private static boolean failedBeforeAVerdict(VerdictRecord verdict) {
    return verdict.status().equals("degraded") && verdict.failure().isPresent() && verdict.finishedAt().isPresent();
  }

  /** Once a checkpoint's validation has ended (its verdict is final), it is no longer in flight. */
  private void settle(State state, long seq) {
    fastPending.remove(seq);
    if (!state.unfinished.containsKey(seq)) {
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

  private void runFast(Validate request) {
    peers().plan().thenCombine(peers().diskUsage(), (plan, usage) -> new Object[] {plan, usage}).thenApplyAsync(both -> {
      Plan plan = (Plan) both[0];
      java.util.OptionalLong usage = (java.util.OptionalLong) both[1];
      try (Repository repo = new FileRepositoryBuilder().setGitDir(new File(request.gitDir())).setMustExist(true).build();
          ObjectReader reader = repo.newObjectReader()) {
        FastRules.Input input = FastRules.Input.fromGit(reader, ObjectId.fromString(request.baseCommit()),
                ObjectId.fromString(request.commit()), plan)
            .withCache(cache)
            .withBudget(services.fastBudget());
        if (usage.isPresent()) {
          input = input.withDiskUsage(usage.getAsLong());
        }
        FastRules.Result result = FastRules.check(input);
        boolean heavyDue = !plan.checks().isEmpty() || plan.test().isPresent();
        List<String> changed = input.changes().stream().map(Change::path).toList();
        return (Command) new FastDone(request, plan.version(), result, heavyDue, plan, changed);
      } catch (Exception e) {
        return new Failed(request, e.getClass().getSimpleName() + ": " + e.getMessage());
      }
    }, services.blocking()).whenComplete((done, failure) ->
        context.getSelf().tell(done != null ? done : new Failed(request, "the plan could not be read: " + failure)));
  }

  private ReplyEffect<Event, State> onFastDone(State state, FastDone done) {
    FastRules.Result result = done.result();
    Validate request = done.request();
    List<String> unchecked = result.unchecked().stream().map(u -> u.rule() + " " + u.path() + ": " + u.reason()).toList();
    FastRulesChecked event = new FastRulesChecked(featureId, request.seq(), done.planVersion(), label(result.verdict()),
        result.violations(), unchecked, result.cacheHits(), result.cacheMisses(), result.elapsedNanos() / 1000,
        done.heavyDue(), Instant.now());
    boolean smart = done.plan().rollsBackSmartly();
    return Effect().persist(event).thenRun(s -> {
      settle(s, request.seq());
      dev.warden.metrics.WardenMetrics.get(context.getSystem())
          .fastRulesRan(Duration.ofNanos(result.elapsedNanos()), result.cacheHits(), result.cacheMisses());
      react(s, request.seq(), result.violations(), smart);
      if (done.heavyDue()) {
        runHeavy(request, done.plan(), done.changedPaths());
      }
    }).thenNoReply();
  }

  private void react(State state, long seq, List<Violation> violations, boolean smart) {
    if (violations.isEmpty()) {
      return;
    }
    Severity worst = violations.get(0).severity();
    boolean critical = worst == Severity.CRITICAL;
    // undo the files of this very checkpoint, even when a later checkpoint's verdict came first
    Optional<SmartPlan> undo = critical && smart ? smartPlan(state, state.verdicts.get(seq)) : Optional.empty();
    peers().notifyAgent(AgentMessage.violation(Optional.of(seq), worst.name().toLowerCase(),
        violations.stream().map(v -> new AgentMessage.ViolationNote(v.rule(), v.path(), v.severity().name().toLowerCase(), v.message())).toList(),
        !critical ? "none" : undo.isPresent() ? "rolled back" : "paused"));
    if (undo.isPresent()) {
      // the plan asks to undo only the offending files (the agent is paused for it) and carry on
      SmartPlan p = undo.get();
      context.getLog().info("[{}] checkpoint {}: smart rollback of {} to checkpoint {}", featureId, seq, p.paths(), p.to());
      peers().rollback(p.to(), p.paths(), "warden (autoRollback: smart)").whenComplete((outcome, failure) -> peers().notifyAgent(
          AgentMessage.text(failure == null && outcome instanceof dev.warden.checkpoint.Checkpoints.Taken
              ? "undid " + p.paths() + " (back to checkpoint " + p.to() + ") because of a critical violation; carry on"
              : "the smart rollback of " + p.paths() + " failed: " + (failure != null ? failure.getMessage() : outcome))));
    } else if (critical) {
      Violation first = violations.get(0);
      peers().critical("checkpoint " + seq + ": critical violation " + first.rule() + " at " + first.path() + ": " + first.message());
    }
  }

  private void runHeavy(Validate request, Plan plan, List<String> changedPaths) {
    CheckPriority priority = switch (request.trigger()) {
      case FINAL -> CheckPriority.FINAL;
      case MANUAL, ROLLBACK, FORCED -> CheckPriority.MANUAL;
      default -> CheckPriority.PERIODIC;
    };
    List<HeavyChecks.Candidate> candidates = plan.checks().stream().map(check -> {
      PathGlob glob = PathGlob.compile(check.paths());
      return new HeavyChecks.Candidate(check, glob::matches);
    }).toList();
    HeavyChecks.Request heavy = new HeavyChecks.Request(java.nio.file.Path.of(request.gitDir()), request.commit(), plan.version(),
        candidates, changedPaths, plan.test(), plan.sandboxRules());
    java.util.concurrent.CompletionStage<List<CheckResult>> submitted;
    try {
      submitted = services.heavy().submit(services.pool(), priority, heavy);
    } catch (RuntimeException refused) {
      // a full pool refuses at once: the verdict says queued and the checks are tried again later
      submitted = java.util.concurrent.CompletableFuture.failedFuture(refused);
    }
    submitted.whenComplete((results, failure) -> {
      Throwable cause = failure;
      while (cause instanceof java.util.concurrent.CompletionException && cause.getCause() != null) {
        cause = cause.getCause();
      }
      if (cause instanceof CheckPool.PoolFull full) {
        context.getSelf().tell(new HeavyQueued(request, plan, changedPaths, full.getMessage()));
      } else if (cause != null) {
        context.getSelf().tell(new Failed(request, "checks could not run: " + cause));
      } else {
        context.getSelf().tell(new HeavyDone(request, results));
      }
    });
  }

  private ReplyEffect<Event, State> onHeavyQueued(State state, HeavyQueued queued) {
    timers.startSingleTimer("retry-" + queued.request().seq(), new RetryHeavy(queued.request(), queued.plan(), queued.changedPaths()),
        services.queueRetry());
    VerdictRecord current = state.verdicts.get(queued.request().seq());
    if (current != null && current.status().equals("queued")) {
      return Effect().noReply();
    }
    return Effect().persist(new ChecksQueued(featureId, queued.request().seq(), queued.reason(), Instant.now())).thenNoReply();
  }

  private ReplyEffect<Event, State> onHeavyDone(State state, HeavyDone done) {
    List<CheckOutcome> outcomes = done.results().stream().map(Validator::outcome).toList();
    VerdictRecord fast = state.verdicts.get(done.request().seq());
    String fastVerdict = fast == null ? "valid" : fast.fastRules();
    boolean failed = outcomes.stream().anyMatch(o -> !o.passed());
    String verdict = failed || fastVerdict.equals("invalid") ? "invalid" : fastVerdict;
    return Effect().persist(new ChecksCompleted(featureId, done.request().seq(), outcomes, verdict, Instant.now()))
        .thenRun(s -> {
          settle(s, done.request().seq());
          if (failed) {
            List<AgentMessage.ViolationNote> notes = outcomes.stream().filter(o -> !o.passed())
                .map(o -> new AgentMessage.ViolationNote("check", o.name(), "error",
                    o.timedOut() ? "timed out after " + o.durationMs() + " ms" : "exited " + o.exitCode().map(String::valueOf).orElse("?")))
                .toList();
            peers().notifyAgent(AgentMessage.violation(Optional.of(done.request().seq()), "error", notes, "none"));
          }
        })
        .thenNoReply();
  }

  private ReplyEffect<Event, State> onSmartRollback(State state, SmartRollback request) {
    Optional<SmartPlan> plan = smartPlan(state);
    if (plan.isEmpty()) {
      return Effect().reply(request.replyTo(), new NothingToRollBack("the latest judged checkpoint has no violation tied to a file"));
    }
    SmartPlan p = plan.get();
    peers().rollback(p.to(), p.paths(), request.by()).whenComplete((outcome, failure) -> request.replyTo().tell(failure == null
        ? new RolledBackSmartly(p.from(), p.to(), p.paths(), outcome)
        : new NothingToRollBack("the rollback failed: " + failure.getMessage())));
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> onValidatePatch(State state, ValidatePatch request) {
    PatchGate gate = new PatchGate(services);
    peers().plan()
        .thenCombine(peers().diskUsage(), (plan, usage) -> new Object[] {plan, usage})
        .thenCombine(peers().latestCheckpoint(), (both, latest) -> new Object[] {both[0], both[1], latest.orElse(request.baseCommit())})
        .thenApplyAsync(all -> {
          try {
            return gate.judge(java.nio.file.Path.of(request.gitDir()), request.baseCommit(), (String) all[2], request.diff(),
                (Plan) all[0], (java.util.OptionalLong) all[1], cache);
          } catch (Exception e) {
            throw new java.util.concurrent.CompletionException(e);
          }
        }, services.blocking())
        .thenCompose(judgement -> {
          if (judgement instanceof PatchGate.DoesNotApply no) {
            return java.util.concurrent.CompletableFuture.<PatchOutcome>completedFuture(new PatchDoesNotApply(no.output()));
          }
          if (judgement instanceof PatchGate.TooLarge large) {
            // judged on its sizes alone: nothing was applied anywhere, not even in a shadow
            return java.util.concurrent.CompletableFuture.<PatchOutcome>completedFuture(new PatchRefused("invalid", large.violations(),
                List.of()));
          }
          PatchGate.Judged judged = (PatchGate.Judged) judgement;
          if (!judged.valid()) {
            String verdict = judged.rules().verdict() != FastRules.Verdict.VALID ? label(judged.rules().verdict()) : "invalid";
            return java.util.concurrent.CompletableFuture.<PatchOutcome>completedFuture(new PatchRefused(verdict, judged.rules().violations(),
                judged.checks().stream().map(Validator::outcome).toList()));
          }
          return peers().promote(judged.commit(), judged.paths(), request.by()).thenApply(outcome ->
              outcome instanceof dev.warden.checkpoint.Checkpoints.Taken taken ? (PatchOutcome) new PatchPromoted(taken.checkpoint(), judged.tree())
                  : new PatchFailed("the validated patch could not be brought in: " + outcome));
        })
        .whenComplete((outcome, failure) -> context.getSelf().tell(new PatchJudged(request,
            failure == null ? outcome : new PatchFailed(String.valueOf(failure.getCause() != null ? failure.getCause() : failure)))));
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

  private static CheckOutcome outcome(CheckResult r) {
    return CheckOutcome.of(r);
  }

  /** Which files of the latest judged checkpoint to put back, and from which checkpoint. */
  private record SmartPlan(long from, long to, List<String> paths) {}

  private static Optional<SmartPlan> smartPlan(State state) {
    // the latest judged checkpoint; nothing to undo unless its own violations make it invalid
    VerdictRecord latest = state.verdicts.values().stream()
        .filter(v -> !v.status().equals("running") && !v.status().equals("queued"))
        .max(java.util.Comparator.comparingLong(VerdictRecord::seq)).orElse(null);
    return smartPlan(state, latest);
  }

  /** Which files of checkpoint {@code from} to put back, and from which checkpoint; empty when none. */
  private static Optional<SmartPlan> smartPlan(State state, VerdictRecord judged) {
    if (judged == null) {
      return Optional.empty();
    }
    long from = judged.seq();
    List<String> paths = judged.violations().stream().filter(v -> v.severity().failsValidation()).map(Violation::path)
        .filter(path -> !path.equals(".") && !path.isBlank()).distinct().toList();
    if (paths.isEmpty()) {
      return Optional.empty();
    }
    long lastValid = state.verdicts.values().stream().filter(v -> v.seq() < from && v.status().equals("valid"))
        .mapToLong(VerdictRecord::seq).max().orElse(0);
    return Optional.of(new SmartPlan(from, lastValid, paths));
  }

  private static String label(FastRules.Verdict verdict) {
    return verdict.name().toLowerCase();
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState()
        .onEvent(ValidationStarted.class, (state, e) -> {
          state.unfinished.put(e.seq(), e);
          state.verdicts.put(e.seq(), new VerdictRecord(e.seq(), e.commit(), "running", "running", 0, List.of(), List.of(), List.of(),
              Optional.empty(), e.at(), Optional.empty()));
          return state;
        })
        .onEvent(FastRulesChecked.class, (state, e) -> {
          VerdictRecord before = state.verdicts.get(e.seq());
          String status = e.checksFollow() && !e.verdict().equals("invalid") ? "running" : e.verdict();
          // an invalid checkpoint stays invalid whatever the checks say, but the checks still run and are recorded
          if (e.checksFollow() && e.verdict().equals("invalid")) {
            status = "invalid";
          }
          state.verdicts.put(e.seq(), new VerdictRecord(e.seq(), before.commit(), status, e.verdict(), e.planVersion(), e.violations(),
              e.unchecked(), List.of(), Optional.empty(), before.startedAt(), e.checksFollow() ? Optional.empty() : Optional.of(e.at())));
          if (!e.checksFollow()) {
            state.unfinished.remove(e.seq());
          }
          return state;
        })
        .onEvent(ChecksQueued.class, (state, e) -> {
          VerdictRecord before = state.verdicts.get(e.seq());
          state.verdicts.put(e.seq(), new VerdictRecord(e.seq(), before.commit(), "queued", before.fastRules(), before.planVersion(), before.violations(),
              before.unchecked(), List.of(), Optional.of(e.reason()), before.startedAt(), Optional.empty()));
          return state;
        })
        .onEvent(ChecksCompleted.class, (state, e) -> {
          VerdictRecord before = state.verdicts.get(e.seq());
          state.verdicts.put(e.seq(), new VerdictRecord(e.seq(), before.commit(), e.verdict(), before.fastRules(), before.planVersion(), before.violations(),
              before.unchecked(), e.checks(), Optional.empty(), before.startedAt(), Optional.of(e.at())));
          state.unfinished.remove(e.seq());
          return state;
        })
        .onEvent(PatchRejected.class, (state, e) -> state)
        .onEvent(ValidationFailed.class, (state, e) -> {
          VerdictRecord before = state.verdicts.get(e.seq());
          boolean alreadyInvalid = before != null && before.fastRules().equals("invalid");
          state.verdicts.put(e.seq(), new VerdictRecord(e.seq(), before == null ? "" : before.commit(),
              alreadyInvalid ? "invalid" : "degraded",
              before == null ? "degraded" : before.fastRules(),
              before == null ? 0 : before.planVersion(), before == null ? List.of() : before.violations(),
              java.util.stream.Stream.concat(before == null ? java.util.stream.Stream.<String>empty() : before.unchecked().stream(),
                  java.util.stream.Stream.of("validation failed: " + e.reason())).toList(), List.of(), Optional.of(e.reason()),
              before == null ? e.at() : before.startedAt(), Optional.of(e.at())));
          state.unfinished.remove(e.seq());
          return state;
        })
        .build();
  }
}
