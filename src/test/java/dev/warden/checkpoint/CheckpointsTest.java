package dev.warden.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.Done;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AskPattern;
import akka.actor.typed.javadsl.Behaviors;
import akka.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import akka.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.CommandResultWithReply;
import akka.persistence.testkit.javadsl.PersistenceTestKit;
import com.typesafe.config.ConfigFactory;
import dev.warden.Rejection;
import dev.warden.agent.AgentLink;
import dev.warden.checkpoint.Checkpoints.ChangedFile;
import dev.warden.checkpoint.Checkpoints.CheckpointRecord;
import dev.warden.checkpoint.Checkpoints.CheckpointTaken;
import dev.warden.checkpoint.Checkpoints.Command;
import dev.warden.checkpoint.Checkpoints.Event;
import dev.warden.feature.Feature;
import dev.warden.git.GitCli;
import dev.warden.git.SupervisedRepository;
import dev.warden.git.Worktrees;
import dev.warden.plan.Trigger;
import dev.warden.testing.GitRepos;
import dev.warden.validate.Validator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The checkpoint chain entity with the persistence testkit: each command's reply, events and state,
 * refusals that persist nothing, and recovery. Captures are real: a real repository and a linked
 * worktree made as the daemon makes them, inspected with the git CLI. The agent link, the feature and
 * the validator are probes reached the way {@code FeatureRuntimeWiring} reaches the real ones; the
 * agent stand-in acknowledges pauses with a scripted answer, or leaves them to the test to answer.
 * Serialization of commands, replies, events and state is verified on every command (the testkit's
 * default).
 */
class CheckpointsTest {

  /** For every wait on something that runs on another thread; generous because the build machine is shared. */
  private static final Duration WAIT = Duration.ofSeconds(20);
  /** For "nothing else happened" after the thing that would have come with it was seen. */
  private static final Duration QUIET = Duration.ofMillis(300);

  private static final ActorTestKit testKit = ActorTestKit.create(
      ConfigFactory.parseString("akka.actor.testkit.typed.single-expect-default = 20s")
          .withFallback(ConfigFactory.parseResources("serialization.conf"))
          .withFallback(EventSourcedBehaviorTestKit.config())
          .resolve());

  private static final ExecutorService blocking = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "checkpoints-test-blocking");
    t.setDaemon(true);
    return t;
  });

  private static final CheckpointSettings SETTINGS = new CheckpointSettings(10, 1 << 20, 100, Duration.ofMillis(500));

  @TempDir Path tmp;
  private String id;
  private Path repo;
  private Path worktree;
  private String base;
  private Checkpoints.ChainSetup setup;

  private TestProbe<AgentLink.Command> agent;
  private TestProbe<Feature.Command> feature;
  private TestProbe<Validator.Command> validator;
  /** What the agent stand-in answers to a pause; null: it does not answer, the test does. */
  private final AtomicReference<AgentLink.PauseOutcome> pauseAnswer = new AtomicReference<>(new AgentLink.Paused());
  /** The plan's maxFileBytes as the feature would answer it. */
  private final AtomicReference<Optional<Long>> planMaxFileBytes = new AtomicReference<>(Optional.empty());
  private ActorRef<AgentLink.Command> link;

  private EventSourcedBehaviorTestKit<Command, Event, CheckpointsState> chain;

  @BeforeEach
  void freshFeature() throws Exception {
    id = "f-" + UUID.randomUUID().toString().substring(0, 8);
    repo = GitRepos.create(tmp.resolve("repo")).toRealPath();
    base = GitRepos.git(repo, "rev-parse", "main");
    GitRepos.git(repo, "branch", "warden/" + id, "main");
    worktree = tmp.resolve("worktrees").resolve(id);
    Files.createDirectories(worktree.getParent());
    new Worktrees(new GitCli("git", Duration.ofSeconds(30))).add(new SupervisedRepository(repo, repo.resolve(".git")), worktree,
        "warden/" + id);
    worktree = worktree.toRealPath();
    setup = new Checkpoints.ChainSetup(id, repo.resolve(".git").toString(), worktree.toString(),
        "refs/warden/" + id + "/checkpoints", base);

    agent = testKit.createTestProbe(AgentLink.Command.class);
    feature = testKit.createTestProbe(Feature.Command.class);
    validator = testKit.createTestProbe(Validator.Command.class);
    Behavior<AgentLink.Command> standIn = Behaviors.receive(AgentLink.Command.class)
        .onMessage(AgentLink.PauseForCheckpoint.class, pause -> {
          AgentLink.PauseOutcome answer = pauseAnswer.get();
          if (answer != null) {
            pause.replyTo().tell(answer);
          }
          return Behaviors.same();
        })
        .onAnyMessage(other -> Behaviors.same())
        .build();
    link = testKit.spawn(Behaviors.monitor(AgentLink.Command.class, agent.ref(), standIn));
    chain = chainWith(SETTINGS);
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
    blocking.shutdownNow();
  }

  private EventSourcedBehaviorTestKit<Command, Event, CheckpointsState> chainWith(CheckpointSettings settings) {
    return EventSourcedBehaviorTestKit.create(testKit.system(), behavior(settings));
  }

  private Behavior<Command> behavior(CheckpointSettings settings) {
    // older records than the state keeps are read back from this journal, as the daemon's from its JDBC one
    return Checkpoints.create(id, this::peers, settings, blocking,
        akka.persistence.testkit.query.javadsl.PersistenceTestKitReadJournal.Identifier());
  }

  /** As FeatureRuntimeWiring wires the chain, with probes for the agent link, the feature and the validator. */
  private CheckpointPeers peers(String featureId) {
    return new CheckpointPeers() {
      @Override
      public java.util.concurrent.CompletionStage<AgentLink.PauseOutcome> pauseAgent(String reason) {
        return AskPattern.<AgentLink.Command, AgentLink.PauseOutcome>ask(link,
                replyTo -> new AgentLink.PauseForCheckpoint(reason, replyTo), WAIT, testKit.scheduler())
            .exceptionally(failure -> new AgentLink.NotPaused("the agent link did not answer: " + failure, true));
      }

      @Override
      public void resumeAgent() {
        link.tell(new AgentLink.ResumeAfterCheckpoint());
      }

      @Override
      public void notifyAgent(String json) {
        link.tell(new AgentLink.Notify(json));
      }

      @Override
      public void escalate(String reason) {
        feature.ref().tell(new Feature.Escalate(reason, false, testKit.system().ignoreRef()));
      }

      @Override
      public java.util.concurrent.CompletionStage<Optional<Long>> planMaxFileBytes() {
        return java.util.concurrent.CompletableFuture.completedFuture(planMaxFileBytes.get());
      }

      @Override
      public void validate(Checkpoints.ChainSetup chainSetup, long seq, String commit, Trigger trigger) {
        validator.ref().tell(new Validator.Validate(chainSetup.gitDir(), chainSetup.baseCommit(), seq, commit, trigger));
      }
    };
  }

  // ------------------------------------------------------------------ files over the cap

  @Test
  void aFileOverThePlansLimitIsLeftOutAndTheCheckpointRecordNamesIt() throws Exception {
    chain = chainWith(new CheckpointSettings(10, 1 << 20, 100, Duration.ofMillis(500), 1L << 20));
    start();
    planMaxFileBytes.set(Optional.of(1000L)); // smaller than the chain's own cap: the plan's limit speaks
    write("small.txt", "fine\n");
    try (java.io.RandomAccessFile big = new java.io.RandomAccessFile(worktree.resolve("big.bin").toFile(), "rw")) {
      big.setLength(5000);
    }

    var result = request(Trigger.MANUAL);

    assertInstanceOf(Checkpoints.Taken.class, result.reply(), () -> result.reply().toString());
    CheckpointRecord record = taken(result.reply());
    pausedAndResumed("checkpoint");
    assertEquals(Optional.of(List.of(new Checkpoints.SkippedFile("big.bin", 5000, 1000))), record.skippedFiles());
    assertEquals(record, result.eventOfType(CheckpointTaken.class).checkpoint(), "the journal has it too");
    assertTrue(inCommit(record.commit(), "small.txt"));
    assertFalse(inCommit(record.commit(), "big.bin"), "never read, so not in the checkpoint");
    assertTrue(GitRepos.git(repo, "log", "-1", "--format=%B", record.commit()).contains("Warden-Oversized: 5000 1000 big.bin"));
    assertEquals(record.commit(), validationAsked().commit(), "and it goes to the validator, which reads the commit");

    // without a plan limit the chain's own cap (1 MiB here) applies: big.bin is read now, a sparse
    // 2 GiB disk image is not
    planMaxFileBytes.set(Optional.empty());
    try (java.io.RandomAccessFile image = new java.io.RandomAccessFile(worktree.resolve("disk.img").toFile(), "rw")) {
      image.setLength(2L << 30);
    }
    CheckpointRecord next = taken(request(Trigger.MANUAL).reply());
    pausedAndResumed("checkpoint");
    assertEquals(List.of(new Checkpoints.SkippedFile("disk.img", 2L << 30, 1L << 20)), next.skipped());
    assertTrue(inCommit(next.commit(), "big.bin"));
    assertFalse(inCommit(next.commit(), "disk.img"));
    assertTrue(next.captureMs() < 1000, "an lstat, no read: " + next.captureMs() + " ms");
  }

  @Test
  void aRecordStoredBeforeSkippedFilesExistedStillReadsAsSkippingNothing() throws Exception {
    com.fasterxml.jackson.databind.ObjectMapper cbor = akka.serialization.jackson.JacksonObjectMapperProvider.get(testKit.system())
        .getOrCreate("jackson-cbor", Optional.of(new com.fasterxml.jackson.dataformat.cbor.CBORFactory()));
    CheckpointRecord now = new CheckpointRecord(3, "c".repeat(40), "t".repeat(40), "p".repeat(40), Trigger.DEBOUNCE, true,
        Optional.empty(), 2, 5, 1, 2, 12, java.time.Instant.parse("2026-01-02T03:04:05Z"));
    com.fasterxml.jackson.databind.node.ObjectNode stored = cbor.valueToTree(now);
    stored.remove("skippedFiles"); // the shape every record had before the field was added
    CheckpointTaken old = new CheckpointTaken(id, now, List.of(), false);
    com.fasterxml.jackson.databind.node.ObjectNode oldEvent = cbor.valueToTree(old);
    oldEvent.set("checkpoint", stored);

    CheckpointTaken read = cbor.readValue(cbor.writeValueAsBytes(oldEvent), CheckpointTaken.class);

    assertEquals(now, read.checkpoint());
    assertEquals(Optional.empty(), read.checkpoint().skippedFiles());
    assertEquals(List.of(), read.checkpoint().skipped());
  }

  // ------------------------------------------------------------------ helpers

  private <R> CommandResultWithReply<Command, Event, CheckpointsState, R> run(Function<ActorRef<R>, Command> command) {
    return chain.runCommand(command);
  }

  private void start() {
    assertEquals(Done.getInstance(), run((ActorRef<Done> replyTo) -> new Checkpoints.Start(setup, replyTo)).reply());
  }

  private CommandResultWithReply<Command, Event, CheckpointsState, Checkpoints.Outcome> request(Trigger trigger, String... paths) {
    return run(replyTo -> new Checkpoints.Request(trigger, List.of(paths), paths.length == 0, replyTo));
  }

  /** A checkpoint taken on request, with the agent's pause and resume seen. */
  private CheckpointRecord checkpoint(Trigger trigger) {
    CheckpointRecord record = taken(request(trigger).reply());
    pausedAndResumed("checkpoint");
    return record;
  }

  private static CheckpointRecord taken(Checkpoints.Outcome outcome) {
    return assertInstanceOf(Checkpoints.Taken.class, outcome).checkpoint();
  }

  private static Checkpoints.Failed failed(Checkpoints.Outcome outcome, Rejection.Kind kind) {
    Checkpoints.Failed failed = assertInstanceOf(Checkpoints.Failed.class, outcome);
    assertEquals(kind, failed.kind(), failed.message());
    return failed;
  }

  private static Checkpoints.Missing missing(Object reply, long seq) {
    Checkpoints.Missing missing = assertInstanceOf(Checkpoints.Missing.class, reply);
    assertEquals(Rejection.Kind.NOT_FOUND, missing.kind());
    assertTrue(missing.message().endsWith("has no checkpoint " + seq), missing.message());
    return missing;
  }

  /** The agent was asked to pause for {@code reason}, then told to carry on. */
  private void pausedAndResumed(String reason) {
    assertEquals(reason, agent.expectMessageClass(AgentLink.PauseForCheckpoint.class, WAIT).reason());
    agent.expectMessageClass(AgentLink.ResumeAfterCheckpoint.class, WAIT);
  }

  private Validator.Validate validationAsked() {
    return validator.expectMessageClass(Validator.Validate.class, WAIT);
  }

  private void write(String path, String content) throws IOException {
    Path file = worktree.resolve(path);
    Files.createDirectories(file.getParent());
    Files.writeString(file, content);
  }

  private String read(String path) throws IOException {
    return Files.readString(worktree.resolve(path));
  }

  /** A file's content in a commit, as {@code git show} prints it (trimmed). */
  private String show(String commit, String path) {
    return GitRepos.git(repo, "show", commit + ":" + path);
  }

  private boolean inCommit(String commit, String path) {
    return GitRepos.tryGit(repo, "cat-file", "-e", commit + ":" + path).exitCode() == 0;
  }

  private String checkpointRef() {
    return GitRepos.git(repo, "rev-parse", setup.refName());
  }

  private static Set<String> paths(List<ChangedFile> changes) {
    return changes.stream().map(ChangedFile::path).collect(Collectors.toSet());
  }

  /** Where the chain lives, as its state says; null before it is started. */
  private static Checkpoints.ChainSetup setupOf(CheckpointsState state) {
    return state instanceof CheckpointsState.Started started ? started.setup() : null;
  }

  private static Checkpoints.Page page(Checkpoints.Listing listing) {
    return assertInstanceOf(Checkpoints.Page.class, listing);
  }

  private List<Long> seqs(Checkpoints.Listing listing) {
    return page(listing).checkpoints().stream().map(CheckpointRecord::seq).toList();
  }

  // ------------------------------------------------------------------ Start

  @Test
  void startingRecordsWhereTheChainLivesAndTheSameStartAgainRecordsNothing() {
    var started = run((ActorRef<Done> replyTo) -> new Checkpoints.Start(setup, replyTo));
    assertEquals(Done.getInstance(), started.reply());
    assertEquals(setup, started.eventOfType(Checkpoints.ChainStarted.class).setup());
    assertEquals(1, started.events().size());
    assertEquals(setup, setupOf(started.state()));
    assertTrue(started.state().recent().isEmpty());

    // the feature sends Start whenever it (re)starts: the same setup again is not a new fact
    var again = run((ActorRef<Done> replyTo) -> new Checkpoints.Start(setup, replyTo));
    assertEquals(Done.getInstance(), again.reply());
    assertTrue(again.hasNoEvents());

    // a feature restarted with its worktree somewhere else records where the chain lives now
    Checkpoints.ChainSetup moved = new Checkpoints.ChainSetup(id, setup.gitDir(), tmp.resolve("elsewhere").toString(),
        setup.refName(), base);
    var relocated = run((ActorRef<Done> replyTo) -> new Checkpoints.Start(moved, replyTo));
    assertEquals(moved, relocated.eventOfType(Checkpoints.ChainStarted.class).setup());
    assertEquals(moved, setupOf(relocated.state()));
  }

  @Test
  void aCheckpointAskedForWhileTheChainIsStillBeingStartedIsTakenOnceItStarts() throws Exception {
    // a feature just created: the daemon starts its chain right after, and an agent may be quicker
    chain = chainWith(new CheckpointSettings(10, 1 << 20, 100, Duration.ofSeconds(60)));
    write("a.txt", "written at once\n");
    TestProbe<Checkpoints.Outcome> asker = testKit.createTestProbe();
    assertTrue(chain.runCommand(new Checkpoints.Request(Trigger.MANUAL, List.of(), true, asker.ref())).hasNoEvents());
    asker.expectNoMessage(QUIET);

    start();

    CheckpointRecord record = taken(asker.expectMessageClass(Checkpoints.Outcome.class, WAIT));
    assertEquals(1, record.seq());
    assertTrue(GitRepos.git(repo, "show", record.commit() + ":a.txt").contains("written at once"));
  }

  @Test
  void commandsBeforeTheChainIsStartedAreRefusedOnceTheStartWaitIsOverAndRecordNothing() {
    var request = request(Trigger.MANUAL);
    assertTrue(failed(request.reply(), Rejection.Kind.CONFLICT).message().contains("is not started"));
    var rollback = run((ActorRef<Checkpoints.Outcome> replyTo) -> new Checkpoints.Rollback(0, Optional.empty(), "alice", replyTo));
    assertTrue(failed(rollback.reply(), Rejection.Kind.CONFLICT).message().contains("is not started"));
    var promote = run((ActorRef<Checkpoints.Outcome> replyTo) -> new Checkpoints.Promote(base, List.of("a.txt"), "validator", replyTo));
    assertTrue(failed(promote.reply(), Rejection.Kind.CONFLICT).message().contains("is not started"));
    var compare = run((ActorRef<Checkpoints.CompareResult> replyTo) -> new Checkpoints.Compare(0, 0, replyTo));
    missing(compare.reply(), 0);

    assertTrue(request.hasNoEvents() && rollback.hasNoEvents() && promote.hasNoEvents() && compare.hasNoEvents());
    assertNull(setupOf(chain.getState()));
    agent.expectNoMessage(QUIET);
    assertEquals(1, GitRepos.tryGit(repo, "rev-parse", "--verify", "-q", setup.refName()).exitCode(), "no checkpoint ref");
  }

  // ------------------------------------------------------------------ Request

  @Test
  void aCheckpointRecordsTheFilesTheAgentWroteAsACommitOnTheFeaturesCheckpointRef() throws Exception {
    start();
    write("a.txt", "hello\nworld\n");
    write("src/login.java", "class Login {\n}\n");

    var result = request(Trigger.MANUAL);

    CheckpointRecord record = taken(result.reply());
    assertEquals(1, record.seq());
    assertEquals(Trigger.MANUAL, record.trigger());
    assertTrue(record.quiesced());
    assertEquals(Optional.empty(), record.quiesceNote());
    assertEquals(base, record.parent());
    assertEquals(2, record.filesChanged());
    assertEquals(3, record.linesAdded());
    assertEquals(0, record.linesRemoved());
    assertEquals(2, record.filesChangedSinceBase());

    CheckpointTaken event = result.eventOfType(CheckpointTaken.class);
    assertEquals(1, result.events().size());
    assertEquals(id, event.featureId());
    assertEquals(record, event.checkpoint());
    assertEquals(List.of(new ChangedFile("a.txt", "modified", 1, 0), new ChangedFile("src/login.java", "added", 2, 0)),
        event.changes().stream().sorted(Comparator.comparing(ChangedFile::path)).toList());
    assertFalse(event.changesTruncated());
    assertEquals(List.of(record), result.state().recent());

    // what git shows: the ref at the new commit, holding what the agent wrote, on top of the base
    assertEquals(record.commit(), checkpointRef());
    assertEquals("class Login {\n}", show(record.commit(), "src/login.java"));
    assertEquals("hello\nworld", show(record.commit(), "a.txt"));
    assertEquals(base, GitRepos.git(repo, "rev-parse", record.commit() + "^"));
    assertEquals(record.tree(), GitRepos.git(repo, "rev-parse", record.commit() + "^{tree}"));

    pausedAndResumed("checkpoint");
    Validator.Validate validate = validationAsked();
    assertEquals(new Validator.Validate(setup.gitDir(), base, 1, record.commit(), Trigger.MANUAL), validate);
    feature.expectNoMessage(QUIET);
  }

  @Test
  void aCheckpointTakenWithoutTheAgentsAcknowledgementIsMarkedUnquiescedAndEscalatesTheFeature() throws Exception {
    start();
    pauseAnswer.set(new AgentLink.NotPaused("no acknowledgement after 3 tries", true));
    write("a.txt", "changed while running\n");

    var result = request(Trigger.DEBOUNCE);

    CheckpointRecord record = taken(result.reply());
    assertFalse(record.quiesced());
    assertEquals(Optional.of("no acknowledgement after 3 tries"), record.quiesceNote());
    assertEquals(record, result.eventOfType(CheckpointTaken.class).checkpoint());
    assertEquals("changed while running", show(record.commit(), "a.txt"));
    Feature.Escalate escalate = feature.expectMessageClass(Feature.Escalate.class, WAIT);
    assertTrue(escalate.reason().contains("without the agent's acknowledgement: no acknowledgement after 3 tries"),
        escalate.reason());
    assertFalse(escalate.holdAgent());
    pausedAndResumed("checkpoint"); // the agent is told to carry on all the same
  }

  @Test
  void anAgentThatSaysItCannotPauseGetsUnquiescedCheckpointsWithoutAnEscalation() throws Exception {
    start();
    pauseAnswer.set(new AgentLink.NotPaused("the agent cannot pause", false));
    write("a.txt", "edited\n");

    var result = request(Trigger.DEBOUNCE);

    CheckpointRecord record = taken(result.reply());
    assertFalse(record.quiesced());
    assertEquals(Optional.of("the agent cannot pause"), record.quiesceNote());
    assertEquals(List.of(record), result.state().recent());
    pausedAndResumed("checkpoint");
    feature.expectNoMessage(QUIET);
  }

  @Test
  void aTimerCheckpointWithNothingNewRecordsNothingButAManualOneIsRecordedAnyway() throws Exception {
    start();
    write("a.txt", "v1\n");
    CheckpointRecord first = checkpoint(Trigger.MANUAL);
    validationAsked();

    var timer = request(Trigger.INTERVAL);
    assertEquals(new Checkpoints.NoChange(Optional.of(first)), timer.reply());
    assertTrue(timer.hasNoEvents());
    assertEquals(List.of(first), timer.state().recent());
    assertEquals(first.commit(), checkpointRef());
    pausedAndResumed("checkpoint");
    validator.expectNoMessage(QUIET);

    var manual = request(Trigger.MANUAL);
    CheckpointRecord second = taken(manual.reply());
    assertEquals(2, second.seq());
    assertEquals(0, second.filesChanged());
    assertEquals(first.commit(), second.parent());
    assertEquals(first.tree(), second.tree());
    assertEquals(second, manual.eventOfType(CheckpointTaken.class).checkpoint());
    assertEquals(second.commit(), checkpointRef());
  }

  @Test
  void requestsMadeWhileACheckpointIsBeingTakenShareTheNextOneNamedAfterTheStrongestTrigger() throws Exception {
    start();
    pauseAnswer.set(null); // this test acknowledges the pauses itself
    TestProbe<Checkpoints.Outcome> first = testKit.createTestProbe(Checkpoints.Outcome.class);
    TestProbe<Checkpoints.Outcome> second = testKit.createTestProbe(Checkpoints.Outcome.class);
    TestProbe<Checkpoints.Outcome> third = testKit.createTestProbe(Checkpoints.Outcome.class);
    write("a.txt", "first\n");

    assertTrue(chain.runCommand(new Checkpoints.Request(Trigger.INTERVAL, List.of(), true, first.ref())).hasNoEvents());
    AgentLink.PauseForCheckpoint firstPause = agent.expectMessageClass(AgentLink.PauseForCheckpoint.class, WAIT);
    // while the agent has not acknowledged yet, two more requests arrive
    assertTrue(chain.runCommand(new Checkpoints.Request(Trigger.DEBOUNCE, List.of("b.txt"), false, second.ref())).hasNoEvents());
    assertTrue(chain.runCommand(new Checkpoints.Request(Trigger.FORCED, List.of(), false, third.ref())).hasNoEvents());
    firstPause.replyTo().tell(new AgentLink.Paused());

    CheckpointRecord one = taken(first.expectMessageClass(Checkpoints.Taken.class, WAIT));
    assertEquals(Trigger.INTERVAL, one.trigger());
    agent.expectMessageClass(AgentLink.ResumeAfterCheckpoint.class, WAIT);

    AgentLink.PauseForCheckpoint secondPause = agent.expectMessageClass(AgentLink.PauseForCheckpoint.class, WAIT);
    write("b.txt", "written before the agent acknowledged the second pause\n");
    secondPause.replyTo().tell(new AgentLink.Paused());

    CheckpointRecord two = taken(second.expectMessageClass(Checkpoints.Taken.class, WAIT));
    assertEquals(two, taken(third.expectMessageClass(Checkpoints.Taken.class, WAIT)));
    assertEquals(2, two.seq());
    assertEquals(Trigger.FORCED, two.trigger());
    assertEquals(one.commit(), two.parent());
    assertEquals(1, two.filesChanged());
    assertTrue(show(two.commit(), "b.txt").startsWith("written before"));
    agent.expectMessageClass(AgentLink.ResumeAfterCheckpoint.class, WAIT);
    agent.expectNoMessage(QUIET); // two captures for three requests: no third pause
    assertEquals(List.of(one, two), chain.getState().recent());
  }

  @Test
  void aChangeTheWatcherDidNotReportIsPickedUpByThePeriodicFullScan() throws Exception {
    chain = chainWith(new CheckpointSettings(2, 1 << 20, 100, Duration.ofMillis(500)));
    start();
    write("a.txt", "start\n");
    CheckpointRecord first = taken(request(Trigger.MANUAL).reply()); // a full scan

    write("reported.txt", "the watcher saw this\n");
    write("missed.txt", "the watcher missed this\n");
    var incremental = run((ActorRef<Checkpoints.Outcome> replyTo) ->
        new Checkpoints.Request(Trigger.DEBOUNCE, List.of("reported.txt"), false, replyTo));
    CheckpointRecord second = taken(incremental.reply());
    assertEquals(Set.of("reported.txt"), paths(incremental.eventOfType(CheckpointTaken.class).changes()));
    assertFalse(inCommit(second.commit(), "missed.txt"));

    // the second capture since the last full scan is a full scan (full-scan-every = 2)
    var periodic = run((ActorRef<Checkpoints.Outcome> replyTo) ->
        new Checkpoints.Request(Trigger.DEBOUNCE, List.of(), false, replyTo));
    CheckpointRecord third = taken(periodic.reply());
    assertEquals(Set.of("missed.txt"), paths(periodic.eventOfType(CheckpointTaken.class).changes()));
    assertEquals("the watcher missed this", show(third.commit(), "missed.txt"));
    assertEquals(List.of(first, second, third), periodic.state().recent());
  }

  @Test
  void aCheckpointWithMoreChangesThanAreKeptListsTheFirstOnesAndSaysSo() throws Exception {
    chain = chainWith(new CheckpointSettings(10, 1 << 20, 2, Duration.ofMillis(500)));
    start();
    write("one.txt", "1\n");
    write("two.txt", "2\n");
    write("three.txt", "3\n");

    var result = request(Trigger.MANUAL);

    CheckpointRecord record = taken(result.reply());
    assertEquals(3, record.filesChanged(), "the record counts every file");
    assertEquals(3, record.linesAdded());
    CheckpointTaken event = result.eventOfType(CheckpointTaken.class);
    assertEquals(2, event.changes().size());
    assertTrue(event.changesTruncated());
    assertTrue(inCommit(record.commit(), "one.txt") && inCommit(record.commit(), "two.txt") && inCommit(record.commit(), "three.txt"));
  }

  @Test
  void aCheckpointOfAWorktreeThatIsGoneFailsRecordsNothingAndLetsTheAgentCarryOn() throws Exception {
    start();
    try (Stream<Path> files = Files.walk(worktree)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }

    var result = request(Trigger.MANUAL);

    Checkpoints.Failed failed = failed(result.reply(), Rejection.Kind.CONFLICT);
    assertTrue(failed.message().contains("is gone"), failed.message());
    assertTrue(result.hasNoEvents());
    assertTrue(result.state().recent().isEmpty());
    assertEquals(1, GitRepos.tryGit(repo, "rev-parse", "--verify", "-q", setup.refName()).exitCode(),
        "a vanished worktree is never recorded as 'everything deleted'");
    pausedAndResumed("checkpoint");
    validator.expectNoMessage(QUIET);
  }

  // ------------------------------------------------------------------ Rollback

  @Test
  void rollingBackRestoresTheWorktreeToTheCheckpointAndRecordsTheResultAsANewCheckpoint() throws Exception {
    start();
    write("a.txt", "good\n");
    CheckpointRecord good = checkpoint(Trigger.MANUAL);
    write("a.txt", "broken\n");
    write("junk.txt", "left by the agent\n");
    checkpoint(Trigger.MANUAL);

    var result = run((ActorRef<Checkpoints.Outcome> replyTo) -> new Checkpoints.Rollback(1, Optional.empty(), "alice", replyTo));

    CheckpointRecord rolledBack = taken(result.reply());
    assertEquals("good\n", read("a.txt"));
    assertFalse(Files.exists(worktree.resolve("junk.txt")));
    assertEquals(3, rolledBack.seq());
    assertEquals(Trigger.ROLLBACK, rolledBack.trigger());
    assertEquals(good.tree(), rolledBack.tree(), "the new checkpoint holds exactly checkpoint 1's files");
    assertEquals(rolledBack.commit(), checkpointRef());

    assertEquals(2, result.events().size());
    Checkpoints.RolledBack event = assertInstanceOf(Checkpoints.RolledBack.class, result.events().get(0));
    assertEquals(id, event.featureId());
    assertEquals(1, event.to());
    assertEquals("alice", event.by());
    assertEquals(List.of(), event.paths());
    assertEquals(Set.of("a.txt", "junk.txt"), Set.copyOf(event.restored()));
    assertEquals(rolledBack, assertInstanceOf(CheckpointTaken.class, result.events().get(1)).checkpoint());
    assertEquals(3, result.state().count());

    assertEquals("rollback to checkpoint 1", agent.expectMessageClass(AgentLink.PauseForCheckpoint.class, WAIT).reason());
    String told = agent.expectMessageClass(AgentLink.Notify.class, WAIT).json();
    assertTrue(told.contains("\"type\":\"rollback\"") && told.contains("\"checkpoint\":1"), told);
    agent.expectMessageClass(AgentLink.ResumeAfterCheckpoint.class, WAIT);
  }

  @Test
  void rollingBackSomePathsLeavesTheOtherFilesAsTheAgentLeftThem() throws Exception {
    start();
    write("a.txt", "good\n");
    checkpoint(Trigger.MANUAL);
    write("a.txt", "broken\n");
    write("keep.txt", "still wanted\n");

    var result = run((ActorRef<Checkpoints.Outcome> replyTo) ->
        new Checkpoints.Rollback(1, Optional.of(List.of("a.txt")), "alice", replyTo));

    CheckpointRecord record = taken(result.reply());
    assertEquals("good\n", read("a.txt"));
    assertEquals("still wanted\n", read("keep.txt"));
    Checkpoints.RolledBack event = result.eventOfType(Checkpoints.RolledBack.class);
    assertEquals(List.of("a.txt"), event.paths());
    assertEquals(List.of("a.txt"), event.restored());
    assertEquals("good", show(record.commit(), "a.txt"));
  }

  @Test
  void rollingBackToCheckpointZeroUndoesEverythingSinceTheBase() throws Exception {
    start();
    write("a.txt", "rewritten\n");
    write("new/file.txt", "new\n");
    checkpoint(Trigger.MANUAL);

    var result = run((ActorRef<Checkpoints.Outcome> replyTo) -> new Checkpoints.Rollback(0, Optional.empty(), "bob", replyTo));

    CheckpointRecord record = taken(result.reply());
    assertEquals("hello\n", read("a.txt"));
    assertFalse(Files.exists(worktree.resolve("new/file.txt")));
    assertEquals(GitRepos.git(repo, "rev-parse", base + "^{tree}"), record.tree());
    assertEquals(0, result.eventOfType(Checkpoints.RolledBack.class).to());
    assertEquals(0, record.filesChangedSinceBase());
  }

  @Test
  void rollbackToACheckpointThatDoesNotExistIsRefusedTouchesNothingAndRecordsNothing() throws Exception {
    start();
    write("a.txt", "work\n");
    CheckpointRecord only = checkpoint(Trigger.MANUAL);
    write("a.txt", "more work\n");

    for (long to : new long[] {2, 7, -1}) {
      var result = run((ActorRef<Checkpoints.Outcome> replyTo) -> new Checkpoints.Rollback(to, Optional.empty(), "alice", replyTo));
      Checkpoints.Failed failed = failed(result.reply(), Rejection.Kind.NOT_FOUND);
      assertTrue(failed.message().endsWith("has no checkpoint " + to), failed.message());
      assertTrue(result.hasNoEvents());
    }
    assertEquals("more work\n", read("a.txt"));
    assertEquals(List.of(only), chain.getState().recent());
    agent.expectNoMessage(QUIET); // the agent was not even paused
  }

  @Test
  void aRollbackOfPathsOutsideTheWorktreeIsRefusedAsInvalidBeforeTheAgentIsPausedAndRecordsNothing() throws Exception {
    start();
    write("a.txt", "good\n");
    CheckpointRecord only = checkpoint(Trigger.MANUAL);
    write("a.txt", "more work\n");

    // (".GIT/config" and "" used to get through: the first as a rollback that restored nothing, the second as a full rollback)
    List<List<String>> refused = List.of(
        List.of("../escape"), List.of("src/../../escape"), List.of(worktree.resolve("a.txt").toString()), List.of(".git/config"),
        List.of("nested/.git/hooks/pre-commit"), List.of(".GIT/config"), List.of(""), List.of("a.txt", "../escape"));
    for (List<String> paths : refused) {
      String bad = paths.get(paths.size() - 1);
      var result = run((ActorRef<Checkpoints.Outcome> replyTo) -> new Checkpoints.Rollback(1, Optional.of(paths), "alice", replyTo));
      Checkpoints.Failed failed = failed(result.reply(), Rejection.Kind.INVALID);
      assertTrue(failed.message().startsWith("paths: '" + bad + "' "), failed.message());
      assertTrue(result.hasNoEvents());
    }
    // an empty list would restore everything: a partial rollback must name what it restores, as over HTTP
    var none = run((ActorRef<Checkpoints.Outcome> replyTo) -> new Checkpoints.Rollback(1, Optional.of(List.of()), "alice", replyTo));
    assertEquals("paths: must name at least one path", failed(none.reply(), Rejection.Kind.INVALID).message());
    assertTrue(none.hasNoEvents());
    // the path is judged before the checkpoint is looked up, as the HTTP route does
    var unknownTarget = run((ActorRef<Checkpoints.Outcome> replyTo) ->
        new Checkpoints.Rollback(9, Optional.of(List.of("../escape")), "alice", replyTo));
    assertTrue(failed(unknownTarget.reply(), Rejection.Kind.INVALID).message().startsWith("paths: '../escape' "));
    assertTrue(unknownTarget.hasNoEvents());

    agent.expectNoMessage(QUIET); // the agent was not even paused
    assertEquals("more work\n", read("a.txt"));
    assertEquals(only.commit(), checkpointRef());
    assertEquals(List.of(only), chain.getState().recent());
    // and the chain carries on: the next rollback is done as usual
    var next = run((ActorRef<Checkpoints.Outcome> replyTo) -> new Checkpoints.Rollback(1, Optional.of(List.of("a.txt")), "alice", replyTo));
    assertEquals(2, taken(next.reply()).seq());
    assertEquals("good\n", read("a.txt"));
    assertEquals("rollback to checkpoint 1", agent.expectMessageClass(AgentLink.PauseForCheckpoint.class, WAIT).reason());
  }

  // ------------------------------------------------------------------ Promote

  @Test
  void promotingAValidatedPatchBringsItsFilesIntoTheWorktreeAsAPatchCheckpoint() throws Exception {
    start();
    write("a.txt", "agent's version\n");
    CheckpointRecord before = checkpoint(Trigger.MANUAL);
    validationAsked();
    // the validator's shadow worktree: the patch applied on the base and committed
    Path shadow = tmp.resolve("shadow");
    GitRepos.git(repo, "worktree", "add", "-q", "-b", "shadow-" + id, shadow.toString(), base);
    Files.createDirectories(shadow.resolve("src"));
    Files.writeString(shadow.resolve("src/fix.txt"), "the fix\n");
    Files.writeString(shadow.resolve("a.txt"), "shadow's version\n");
    GitRepos.git(shadow, "add", "-A");
    GitRepos.git(shadow, "-c", "user.email=t@example.com", "-c", "user.name=Test", "commit", "-q", "-m", "patch");
    String patch = GitRepos.git(shadow, "rev-parse", "HEAD");

    var result = run((ActorRef<Checkpoints.Outcome> replyTo) ->
        new Checkpoints.Promote(patch, List.of("src/fix.txt"), "validator", replyTo));

    CheckpointRecord record = taken(result.reply());
    assertEquals("the fix\n", read("src/fix.txt"));
    assertEquals("agent's version\n", read("a.txt"), "only the patch's paths are promoted");
    assertEquals(2, record.seq());
    assertEquals(Trigger.PATCH, record.trigger());
    assertEquals(before.commit(), record.parent());
    assertEquals("the fix", show(record.commit(), "src/fix.txt"));
    assertEquals(2, result.events().size());
    Checkpoints.PatchPromoted promoted = assertInstanceOf(Checkpoints.PatchPromoted.class, result.events().get(0));
    assertEquals(id, promoted.featureId());
    assertEquals(patch, promoted.shadowCommit());
    assertEquals(List.of("src/fix.txt"), promoted.paths());
    assertEquals("validator", promoted.by());
    assertEquals(record, assertInstanceOf(CheckpointTaken.class, result.events().get(1)).checkpoint());
    assertEquals(record, result.state().latest().orElseThrow());
    pausedAndResumed("checkpoint");
    assertEquals(Trigger.PATCH, validationAsked().trigger());
  }

  @Test
  void promotingACommitThatIsNotInTheRepositoryFailsAndRecordsNothing() throws Exception {
    start();
    write("a.txt", "agent's version\n");
    CheckpointRecord only = checkpoint(Trigger.MANUAL);

    var result = run((ActorRef<Checkpoints.Outcome> replyTo) ->
        new Checkpoints.Promote("0123456789abcdef0123456789abcdef01234567", List.of("a.txt"), "validator", replyTo));

    Checkpoints.Failed failed = failed(result.reply(), Rejection.Kind.CONFLICT);
    assertTrue(failed.message().contains("not in the repository"), failed.message());
    assertTrue(result.hasNoEvents());
    assertEquals(List.of(only), result.state().recent());
    assertEquals("agent's version\n", read("a.txt"));
    assertEquals(only.commit(), checkpointRef());
    pausedAndResumed("checkpoint");
  }

  @Test
  void promotingAMalformedCommitIdIsRefusedAsInvalidBeforeTheAgentIsPausedAndRecordsNothing() throws Exception {
    start();
    write("a.txt", "agent's version\n");
    CheckpointRecord only = checkpoint(Trigger.MANUAL);

    for (String commit : new String[] {"not-a-commit", "0123abc", base + "0", "z" + base.substring(1), ""}) {
      var result = run((ActorRef<Checkpoints.Outcome> replyTo) -> new Checkpoints.Promote(commit, List.of("a.txt"), "validator", replyTo));
      Checkpoints.Failed failed = failed(result.reply(), Rejection.Kind.INVALID);
      assertTrue(failed.message().startsWith("commit: '" + commit + "' "), failed.message());
      assertTrue(result.hasNoEvents());
    }

    agent.expectNoMessage(QUIET); // the agent was not even paused, so it has nothing to wait for
    assertEquals("agent's version\n", read("a.txt"));
    assertEquals(List.of(only), chain.getState().recent());
    // and the chain still answers
    write("a.txt", "later\n");
    assertEquals(2, checkpoint(Trigger.MANUAL).seq());
  }

  @Test
  void promotingPathsOutsideTheWorktreeIsRefusedAsInvalidBeforeTheAgentIsPausedAndRecordsNothing() throws Exception {
    start();
    write("a.txt", "agent's version\n");
    CheckpointRecord only = checkpoint(Trigger.MANUAL);

    for (List<String> paths : List.of(List.of("../escape"), List.of("/etc/passwd"), List.of("src/.git/config"), List.of("a.txt", ".git"))) {
      String bad = paths.get(paths.size() - 1);
      var result = run((ActorRef<Checkpoints.Outcome> replyTo) -> new Checkpoints.Promote(base, paths, "validator", replyTo));
      Checkpoints.Failed failed = failed(result.reply(), Rejection.Kind.INVALID);
      assertTrue(failed.message().startsWith("paths: '" + bad + "' "), failed.message());
      assertTrue(result.hasNoEvents());
    }
    // no paths would make the whole worktree the shadow commit's
    var none = run((ActorRef<Checkpoints.Outcome> replyTo) -> new Checkpoints.Promote(base, List.of(), "validator", replyTo));
    assertEquals("paths: must name at least one path", failed(none.reply(), Rejection.Kind.INVALID).message());
    assertTrue(none.hasNoEvents());

    agent.expectNoMessage(QUIET);
    assertEquals("agent's version\n", read("a.txt"));
    assertEquals(only.commit(), checkpointRef());
    assertEquals(List.of(only), chain.getState().recent());
    write("a.txt", "later\n");
    assertEquals(2, checkpoint(Trigger.MANUAL).seq());
  }

  // ------------------------------------------------------------------ ListCheckpoints

  @Test
  void listingPagesThroughTheCheckpointsOldestFirstAndRecordsNothing() throws Exception {
    start();
    for (int i = 1; i <= 3; i++) {
      write("a.txt", "version " + i + "\n");
      taken(request(Trigger.MANUAL).reply());
    }

    var firstPage = run((ActorRef<Checkpoints.Listing> replyTo) -> new Checkpoints.ListCheckpoints(0, 2, replyTo));
    assertEquals(3, page(firstPage.reply()).total());
    assertEquals(List.of(1L, 2L), seqs(firstPage.reply()));
    assertEquals(chain.getState().recent().subList(0, 2), page(firstPage.reply()).checkpoints());
    assertTrue(firstPage.hasNoEvents());

    var rest = run((ActorRef<Checkpoints.Listing> replyTo) -> new Checkpoints.ListCheckpoints(2, 10, replyTo));
    assertEquals(List.of(3L), seqs(rest.reply()));
    assertEquals("version 3", show(page(rest.reply()).checkpoints().get(0).commit(), "a.txt"));

    var pastTheEnd = run((ActorRef<Checkpoints.Listing> replyTo) -> new Checkpoints.ListCheckpoints(5, 10, replyTo));
    assertEquals(new Checkpoints.Page(3, List.of()), pastTheEnd.reply());
    assertTrue(rest.hasNoEvents() && pastTheEnd.hasNoEvents());
    assertEquals(3, pastTheEnd.state().count());
  }

  @Test
  void listingWithTheLargestLimitFromAnyOffsetGivesTheRestANegativeOneIsRefusedAndTheChainCarriesOn() throws Exception {
    start();
    for (int i = 1; i <= 3; i++) {
      write("a.txt", "version " + i + "\n");
      taken(request(Trigger.MANUAL).reply());
    }

    var rest = run((ActorRef<Checkpoints.Listing> replyTo) -> new Checkpoints.ListCheckpoints(1, Integer.MAX_VALUE, replyTo));
    assertEquals(List.of(2L, 3L), seqs(rest.reply()));
    assertTrue(rest.hasNoEvents());
    var last = run((ActorRef<Checkpoints.Listing> replyTo) -> new Checkpoints.ListCheckpoints(2, Integer.MAX_VALUE - 1, replyTo));
    assertEquals(List.of(3L), seqs(last.reply()));
    var farOut = run((ActorRef<Checkpoints.Listing> replyTo) -> new Checkpoints.ListCheckpoints(Integer.MAX_VALUE, Integer.MAX_VALUE, replyTo));
    assertEquals(new Checkpoints.Page(3, List.of()), farOut.reply());

    // a negative offset or limit is refused, naming it (it used to be taken for 0)
    for (int[] bad : new int[][] {{-4, 10}, {0, -1}, {Integer.MIN_VALUE, Integer.MIN_VALUE}}) {
      var refused = run((ActorRef<Checkpoints.Listing> replyTo) -> new Checkpoints.ListCheckpoints(bad[0], bad[1], replyTo));
      Checkpoints.Missing missing = assertInstanceOf(Checkpoints.Missing.class, refused.reply());
      assertEquals(Rejection.Kind.INVALID, missing.kind());
      assertTrue(missing.message().startsWith(bad[0] < 0 ? "offset: must not be negative" : "limit: must not be negative"), missing.message());
      assertTrue(refused.hasNoEvents());
    }

    var first = run((ActorRef<Checkpoints.Listing> replyTo) -> new Checkpoints.ListCheckpoints(0, 1, replyTo));
    assertEquals(List.of(1L), seqs(first.reply()));
    write("a.txt", "version 4\n");
    assertEquals(4, taken(request(Trigger.MANUAL).reply()).seq());
  }

  // ------------------------------------------------------------------ GetCheckpoint

  @Test
  void gettingACheckpointShowsItsRecordAndTheFilesItChanged() throws Exception {
    start();
    write("a.txt", "hello\nworld\n");
    write("notes.txt", "one\ntwo\n");
    CheckpointRecord first = taken(request(Trigger.MANUAL).reply());
    Files.delete(worktree.resolve("notes.txt"));
    CheckpointRecord second = taken(request(Trigger.MANUAL).reply());

    var get = run((ActorRef<Checkpoints.Lookup> replyTo) -> new Checkpoints.GetCheckpoint(2, replyTo));
    Checkpoints.Found found = assertInstanceOf(Checkpoints.Found.class, get.reply());
    assertEquals(second, found.checkpoint());
    assertEquals(List.of(new Snapshotter.FileChange("notes.txt", Snapshotter.FileChange.Kind.DELETED, 0, 2, false)), found.files());
    assertTrue(get.hasNoEvents());

    var getFirst = run((ActorRef<Checkpoints.Lookup> replyTo) -> new Checkpoints.GetCheckpoint(1, replyTo));
    Checkpoints.Found foundFirst = assertInstanceOf(Checkpoints.Found.class, getFirst.reply());
    assertEquals(first, foundFirst.checkpoint());
    assertEquals(List.of(
        new Snapshotter.FileChange("a.txt", Snapshotter.FileChange.Kind.MODIFIED, 1, 0, false),
        new Snapshotter.FileChange("notes.txt", Snapshotter.FileChange.Kind.ADDED, 2, 0, false)), foundFirst.files());
  }

  @Test
  void gettingACheckpointThatDoesNotExistIsNotFoundAndRecordsNothing() throws Exception {
    start();
    write("a.txt", "x\n");
    taken(request(Trigger.MANUAL).reply());

    for (long seq : new long[] {0, 2, -3}) {
      var get = run((ActorRef<Checkpoints.Lookup> replyTo) -> new Checkpoints.GetCheckpoint(seq, replyTo));
      missing(get.reply(), seq);
      assertTrue(get.hasNoEvents());
    }
    assertEquals(1, chain.getState().count());
  }

  // ------------------------------------------------------------------ bounded state: old records from the journal

  @Test
  void theStateKeepsOnlyTheNewestRecordsAndOlderCheckpointsAreStillListedReadDiffedComparedAndRolledBackTo() throws Exception {
    start();
    int taken = Checkpoints.RECENT_KEPT + 3;
    List<CheckpointRecord> records = new java.util.ArrayList<>();
    for (int i = 1; i <= taken; i++) {
      write("a.txt", "version " + i + "\n");
      records.add(taken(request(Trigger.MANUAL).reply()));
    }
    assertEquals(taken, chain.getState().count());
    assertEquals(records.subList(3, taken), chain.getState().recent(), "only the newest " + Checkpoints.RECENT_KEPT);

    for (CheckpointsState state : List.of(chain.getState(), chain.restart().state())) {
      assertEquals(taken, state.count());
      assertEquals(records.get(taken - 1), state.latest().orElseThrow());
    }
    // a page reaching back before the state's records comes from the journal, the same records
    var firstPage = run((ActorRef<Checkpoints.Listing> replyTo) -> new Checkpoints.ListCheckpoints(0, 5, replyTo));
    assertEquals(new Checkpoints.Page(taken, records.subList(0, 5)), firstPage.reply());
    var across = run((ActorRef<Checkpoints.Listing> replyTo) -> new Checkpoints.ListCheckpoints(1, taken, replyTo));
    assertEquals(new Checkpoints.Page(taken, records.subList(1, taken)), across.reply());

    var get = run((ActorRef<Checkpoints.Lookup> replyTo) -> new Checkpoints.GetCheckpoint(1, replyTo));
    Checkpoints.Found found = assertInstanceOf(Checkpoints.Found.class, get.reply());
    assertEquals(records.get(0), found.checkpoint());
    assertEquals(List.of("a.txt"), found.files().stream().map(Snapshotter.FileChange::path).toList());

    var diff = run((ActorRef<Checkpoints.DiffResult> replyTo) -> new Checkpoints.Diff(2, false, replyTo));
    Checkpoints.DiffText text = assertInstanceOf(Checkpoints.DiffText.class, diff.reply());
    assertTrue(text.diff().contains("-version 1") && text.diff().contains("+version 2"), text.diff());

    var compare = run((ActorRef<Checkpoints.CompareResult> replyTo) -> new Checkpoints.Compare(1, taken, replyTo));
    Checkpoints.Comparison comparison = assertInstanceOf(Checkpoints.Comparison.class, compare.reply());
    assertEquals(records.get(0).commit(), comparison.from());
    assertEquals(records.get(taken - 1).commit(), comparison.to());

    var rollback = run((ActorRef<Checkpoints.Outcome> replyTo) -> new Checkpoints.Rollback(2, Optional.empty(), "alice", replyTo));
    CheckpointRecord rolledBack = taken(rollback.reply());
    assertEquals(taken + 1, rolledBack.seq());
    assertEquals("version 2\n", read("a.txt"));
    assertEquals(2, assertInstanceOf(Checkpoints.RolledBack.class, rollback.events().get(0)).to());
    assertEquals(Checkpoints.RECENT_KEPT, chain.getState().recent().size());
  }


  @Test
  void theDiffOfACheckpointShowsWhatChangedSinceThePreviousOneOrSinceTheBase() throws Exception {
    start();
    write("a.txt", "hello\nworld\n");
    CheckpointRecord first = taken(request(Trigger.MANUAL).reply());
    write("b.txt", "new file\n");
    CheckpointRecord second = taken(request(Trigger.MANUAL).reply());

    var sincePrevious = run((ActorRef<Checkpoints.DiffResult> replyTo) -> new Checkpoints.Diff(2, false, replyTo));
    Checkpoints.DiffText text = assertInstanceOf(Checkpoints.DiffText.class, sincePrevious.reply());
    assertEquals(first.commit(), text.from());
    assertEquals(second.commit(), text.to());
    assertTrue(text.diff().contains("+++ b/b.txt") && text.diff().contains("+new file"), text.diff());
    assertFalse(text.diff().contains("a.txt"), text.diff());
    assertTrue(sincePrevious.hasNoEvents());

    var sinceBase = run((ActorRef<Checkpoints.DiffResult> replyTo) -> new Checkpoints.Diff(2, true, replyTo));
    Checkpoints.DiffText whole = assertInstanceOf(Checkpoints.DiffText.class, sinceBase.reply());
    assertEquals(base, whole.from());
    assertTrue(whole.diff().contains("+++ b/a.txt") && whole.diff().contains("+world"), whole.diff());
    assertTrue(whole.diff().contains("+++ b/b.txt"), whole.diff());
  }

  @Test
  void aDiffLongerThanTheLimitIsCutAndSaysSo() throws Exception {
    chain = chainWith(new CheckpointSettings(10, 200, 100, Duration.ofMillis(500)));
    start();
    write("big.txt", "a line of the big file\n".repeat(100));
    taken(request(Trigger.MANUAL).reply());

    var diff = run((ActorRef<Checkpoints.DiffResult> replyTo) -> new Checkpoints.Diff(1, false, replyTo));

    String text = assertInstanceOf(Checkpoints.DiffText.class, diff.reply()).diff();
    assertTrue(text.endsWith("... diff truncated: it is longer than 200 bytes\n"), text);
    assertTrue(text.length() < 300, text);
  }

  @Test
  void theDiffOfACheckpointThatDoesNotExistIsNotFoundAndRecordsNothing() throws Exception {
    start();
    write("a.txt", "x\n");
    taken(request(Trigger.MANUAL).reply());

    for (long seq : new long[] {0, 9}) {
      var diff = run((ActorRef<Checkpoints.DiffResult> replyTo) -> new Checkpoints.Diff(seq, true, replyTo));
      missing(diff.reply(), seq);
      assertTrue(diff.hasNoEvents());
    }
  }

  // ------------------------------------------------------------------ Compare

  @Test
  void comparingTwoCheckpointsInEitherOrderListsTheFilesThatDifferWithTheirDiff() throws Exception {
    start();
    write("a.txt", "hello\nagain\n");
    CheckpointRecord first = taken(request(Trigger.MANUAL).reply());
    write("b.txt", "bee\n");
    Files.delete(worktree.resolve("a.txt"));
    CheckpointRecord second = taken(request(Trigger.MANUAL).reply());

    var oneToTwo = run((ActorRef<Checkpoints.CompareResult> replyTo) -> new Checkpoints.Compare(1, 2, replyTo));
    Checkpoints.Comparison comparison = assertInstanceOf(Checkpoints.Comparison.class, oneToTwo.reply());
    assertEquals(first.commit(), comparison.from());
    assertEquals(second.commit(), comparison.to());
    assertEquals(List.of(
        new Snapshotter.FileChange("a.txt", Snapshotter.FileChange.Kind.DELETED, 0, 2, false),
        new Snapshotter.FileChange("b.txt", Snapshotter.FileChange.Kind.ADDED, 1, 0, false)), comparison.files());
    assertTrue(comparison.diff().contains("--- a/a.txt") && comparison.diff().contains("+bee"), comparison.diff());
    assertTrue(oneToTwo.hasNoEvents());

    // 0 is the base the feature started from
    var baseToTwo = run((ActorRef<Checkpoints.CompareResult> replyTo) -> new Checkpoints.Compare(0, 2, replyTo));
    Checkpoints.Comparison sinceBase = assertInstanceOf(Checkpoints.Comparison.class, baseToTwo.reply());
    assertEquals(base, sinceBase.from());
    assertEquals(List.of(
        new Snapshotter.FileChange("a.txt", Snapshotter.FileChange.Kind.DELETED, 0, 1, false),
        new Snapshotter.FileChange("b.txt", Snapshotter.FileChange.Kind.ADDED, 1, 0, false)), sinceBase.files());
    assertTrue(baseToTwo.hasNoEvents());

    // any order is allowed (api.md, "Compare"): from 2 to 1 shows what undoing 2 would change
    var twoToOne = run((ActorRef<Checkpoints.CompareResult> replyTo) -> new Checkpoints.Compare(2, 1, replyTo));
    Checkpoints.Comparison back = assertInstanceOf(Checkpoints.Comparison.class, twoToOne.reply());
    assertEquals(List.of(second.commit(), first.commit()), List.of(back.from(), back.to()));
    assertEquals(List.of(
        new Snapshotter.FileChange("a.txt", Snapshotter.FileChange.Kind.ADDED, 2, 0, false),
        new Snapshotter.FileChange("b.txt", Snapshotter.FileChange.Kind.DELETED, 0, 1, false)), back.files());
    assertTrue(back.diff().contains("+++ b/a.txt") && back.diff().contains("-bee"), back.diff());
    assertTrue(twoToOne.hasNoEvents());
  }

  @Test
  void comparingWithACheckpointThatDoesNotExistIsNotFoundAndRecordsNothing() throws Exception {
    start();
    write("a.txt", "x\n");
    taken(request(Trigger.MANUAL).reply());

    var unknownTo = run((ActorRef<Checkpoints.CompareResult> replyTo) -> new Checkpoints.Compare(1, 7, replyTo));
    missing(unknownTo.reply(), 7);
    var unknownFrom = run((ActorRef<Checkpoints.CompareResult> replyTo) -> new Checkpoints.Compare(5, 1, replyTo));
    missing(unknownFrom.reply(), 5);
    assertTrue(unknownTo.hasNoEvents() && unknownFrom.hasNoEvents());
    assertEquals(1, unknownFrom.state().count());
  }

  // ------------------------------------------------------------------ Stop

  @Test
  void stoppingWhileACheckpointIsBeingTakenLetsItFinishAndRecordsIt() throws Exception {
    start();
    pauseAnswer.set(null);
    TestProbe<Checkpoints.Outcome> requester = testKit.createTestProbe(Checkpoints.Outcome.class);
    TestProbe<Done> stopper = testKit.createTestProbe(Done.class);
    write("a.txt", "last words\n");

    chain.runCommand(new Checkpoints.Request(Trigger.FINAL, List.of(), true, requester.ref()));
    AgentLink.PauseForCheckpoint pause = agent.expectMessageClass(AgentLink.PauseForCheckpoint.class, WAIT);
    var stop = chain.runCommand(new Checkpoints.Stop(stopper.ref()));
    assertTrue(stop.hasNoEvents());
    stopper.expectNoMessage(QUIET); // it waits for the checkpoint under way
    pause.replyTo().tell(new AgentLink.Paused());

    CheckpointRecord last = taken(requester.expectMessageClass(Checkpoints.Taken.class, WAIT));
    assertEquals(Trigger.FINAL, last.trigger());
    stopper.expectMessage(WAIT, Done.getInstance());
    assertEquals(last.commit(), checkpointRef());
    assertEquals(List.of(last), chain.restart().state().recent());
  }

  @Test
  void stoppingAnIdleChainStopsItAndRecordsNothing() throws Exception {
    // The testkit asks the entity for its state after every command, which a stopped entity cannot
    // answer: this one runs as a plain actor on the same journal, and the testkit recovers it after.
    ActorRef<Command> running = testKit.spawn(behavior(SETTINGS));
    TestProbe<Done> done = testKit.createTestProbe(Done.class);
    running.tell(new Checkpoints.Start(setup, done.ref()));
    done.expectMessage(WAIT, Done.getInstance());
    TestProbe<Checkpoints.Outcome> requester = testKit.createTestProbe(Checkpoints.Outcome.class);
    write("a.txt", "work\n");
    running.tell(new Checkpoints.Request(Trigger.MANUAL, List.of(), true, requester.ref()));
    CheckpointRecord record = taken(requester.expectMessageClass(Checkpoints.Taken.class, WAIT));
    String persistenceId = "Checkpoints|" + id;
    List<Object> journal = PersistenceTestKit.create(testKit.system()).persistedInStorage(persistenceId);
    assertEquals(2, journal.size());

    running.tell(new Checkpoints.Stop(done.ref()));

    done.expectMessage(WAIT, Done.getInstance());
    done.expectTerminated(running, WAIT);
    assertEquals(journal, PersistenceTestKit.create(testKit.system()).persistedInStorage(persistenceId));
    CheckpointsState recovered = chain.restart().state();
    assertEquals(setup, setupOf(recovered));
    assertEquals(List.of(record), recovered.recent());
  }

  // ------------------------------------------------------------------ recovery

  @Test
  void recoveryRestoresTheChainAndTheNextCheckpointContinuesIt() throws Exception {
    start();
    write("a.txt", "one\n");
    checkpoint(Trigger.MANUAL);
    write("a.txt", "two\n");
    checkpoint(Trigger.DEBOUNCE);
    taken(run((ActorRef<Checkpoints.Outcome> replyTo) -> new Checkpoints.Rollback(1, Optional.empty(), "alice", replyTo)).reply());
    List<CheckpointRecord> before = List.copyOf(chain.getState().recent());

    CheckpointsState recovered = chain.restart().state();

    assertEquals(setup, setupOf(recovered));
    assertEquals(before, recovered.recent());
    assertEquals("one\n", read("a.txt"));
    write("a.txt", "three\n");
    var next = request(Trigger.MANUAL);
    CheckpointRecord fourth = taken(next.reply());
    assertEquals(4, fourth.seq());
    assertEquals(before.get(2).commit(), fourth.parent());
    assertEquals(fourth.commit(), checkpointRef());
    assertEquals(Set.of("a.txt"), paths(next.eventOfType(CheckpointTaken.class).changes()));
  }

  @Test
  void afterARestartACheckpointTheJournalNeverRecordedIsDroppedFromTheChain() throws Exception {
    start();
    write("a.txt", "recorded\n");
    CheckpointRecord recorded = checkpoint(Trigger.MANUAL);
    chain.restart();
    // as if a capture had moved the ref and the daemon died before its event was persisted
    String orphan = GitRepos.git(repo, "-c", "user.email=t@example.com", "-c", "user.name=Test", "commit-tree", "-p", recorded.commit(), "-m", "never recorded", recorded.tree());
    GitRepos.git(repo, "update-ref", setup.refName(), orphan);

    write("a.txt", "next\n");
    CheckpointRecord next = taken(request(Trigger.MANUAL).reply());

    assertEquals(2, next.seq());
    assertEquals(recorded.commit(), next.parent());
    assertNotEquals(orphan, next.parent());
    assertEquals(next.commit(), checkpointRef());
    assertEquals(List.of(recorded, next), chain.getState().recent());
  }
}
