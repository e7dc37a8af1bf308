package dev.warden.watchdog;

import static java.nio.file.StandardWatchEventKinds.ENTRY_CREATE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_DELETE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_MODIFY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warden.watchdog.WatchHub.Kind;
import dev.warden.watchdog.WatchHub.PathChange;
import dev.warden.watchdog.WatchHub.Registration;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shared watch service on real directories: recursion, attribution, bursts, limits, closing. */
class WatchHubTest {

  @TempDir Path tmp;
  private Path root;
  private WatchHub hub;

  @BeforeEach
  void setUp() throws IOException {
    root = Files.createDirectories(tmp.resolve("wt")).toRealPath();
    hub = new WatchHub("test");
  }

  @AfterEach
  void tearDown() {
    hub.close();
  }

  @Test
  void reportsEveryFileWrittenIntoNewNestedDirectories() throws IOException {
    RecordingListener listener = new RecordingListener();
    hub.watch("f1", root, List.of(), listener);

    // the files land before the hub can register a/, a/b/ and a/b/c/: the walk after registration finds them
    Path c = Files.createDirectories(root.resolve("a/b/c"));
    Set<Path> expected = new HashSet<>(List.of(root.resolve("a"), root.resolve("a/b"), c));
    expected.add(Files.writeString(root.resolve("a/top.txt"), "1"));
    expected.add(Files.writeString(root.resolve("a/b/middle.txt"), "2"));
    for (int i = 0; i < 50; i++) {
      expected.add(Files.writeString(c.resolve("f" + i + ".txt"), "x"));
    }
    Path d = Files.createDirectories(c.resolve("d"));
    expected.add(d);
    expected.add(Files.writeString(d.resolve("deep.txt"), "3"));

    listener.awaitPaths(expected);
    assertTrue(listener.overflows.isEmpty(), listener.overflows.toString());
    assertTrue(listener.threads.stream().allMatch(t -> t.equals("warden-watch-test")), listener.threads.toString());
    // and the new directories are watched from now on
    Path later = Files.writeString(d.resolve("later.txt"), "4");
    listener.awaitChange(later, Kind.CREATED);
  }

  @Test
  void reportsDeletionsAndForgetsDeletedDirectories() throws IOException {
    Path file = Files.writeString(root.resolve("doomed.txt"), "x");
    Path dir = Files.createDirectories(root.resolve("gone/sub"));
    Files.writeString(dir.resolve("inner.txt"), "y");
    RecordingListener listener = new RecordingListener();
    Registration registration = hub.watch("f1", root, List.of(), listener);
    assertEquals(3, registration.watchedDirectories());

    Files.delete(file);
    Files.delete(dir.resolve("inner.txt"));
    Files.delete(dir);
    Files.delete(root.resolve("gone"));

    listener.awaitChange(file, Kind.DELETED);
    listener.awaitChange(dir.resolve("inner.txt"), Kind.DELETED);
    listener.awaitChange(root.resolve("gone"), Kind.DELETED);
    RecordingListener.await(() -> registration.watchedDirectories() == 1,
        () -> "still watching " + registration.watchedDirectories() + " directories");
    RecordingListener.await(() -> hub.stats().watchedDirectories() == 1, () -> hub.stats().toString());
  }

  @Test
  void followsADirectoryRenamedInsideTheWorktree() throws IOException {
    Files.createDirectories(root.resolve("a/sub"));
    Files.createDirectories(root.resolve("c"));
    RecordingListener listener = new RecordingListener();
    Registration registration = hub.watch("f1", root, List.of(), listener);

    Files.move(root.resolve("a"), root.resolve("b"));
    listener.awaitChange(root.resolve("b"), Kind.CREATED);
    Path renamed = Files.writeString(root.resolve("b/sub/x.txt"), "x");
    listener.awaitChange(renamed, Kind.CREATED);
    // into another watched directory: the two halves of the move arrive on different keys
    Files.move(root.resolve("b"), root.resolve("c/d"));
    listener.awaitChange(root.resolve("c/d"), Kind.CREATED);
    Path moved = Files.writeString(root.resolve("c/d/sub/y.txt"), "y");

    listener.awaitChange(moved, Kind.CREATED);
    assertTrue(listener.saw(root.resolve("a"), Kind.DELETED));
    assertTrue(listener.saw(root.resolve("b"), Kind.DELETED));
    assertFalse(listener.paths().contains(root.resolve("a/sub/x.txt")), "reported under the old name");
    assertFalse(listener.paths().contains(root.resolve("b/sub/y.txt")), "reported under the old name");
    RecordingListener.await(() -> registration.watchedDirectories() == 4, () -> registration.watchedDirectories() + " directories");
    assertEquals(4, hub.stats().watchedDirectories());
  }

  @Test
  void reportsChmodAsModified() throws IOException {
    Path script = Files.writeString(root.resolve("run.sh"), "echo hi\n");
    RecordingListener listener = new RecordingListener();
    hub.watch("f1", root, List.of(), listener);

    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));

    listener.awaitChange(script, Kind.MODIFIED);
  }

  @Test
  void attributesEventsToTheFeatureThatOwnsTheDirectory() throws IOException {
    Path other = Files.createDirectories(tmp.resolve("wt2")).toRealPath();
    RecordingListener one = new RecordingListener();
    RecordingListener two = new RecordingListener();
    hub.watch("one", root, List.of(), one);
    hub.watch("two", other, List.of(), two);

    Path a = Files.writeString(root.resolve("a.txt"), "1");
    Path b = Files.writeString(Files.createDirectories(other.resolve("sub")).resolve("b.txt"), "2");

    one.awaitChange(a, Kind.CREATED);
    two.awaitChange(b, Kind.CREATED);
    assertTrue(one.changes.stream().allMatch(c -> c.path().startsWith(root)), one.changes.toString());
    assertTrue(two.changes.stream().allMatch(c -> c.path().startsWith(other)), two.changes.toString());
  }

  @Test
  void aBurstOfWritesIsNeverASilentGap() throws IOException {
    RecordingListener listener = new RecordingListener();
    hub.watch("f1", root, List.of(), listener);
    List<Path> paths = new ArrayList<>();
    for (int d = 0; d < 20; d++) {
      Path dir = Files.createDirectories(root.resolve("d" + d));
      for (int f = 0; f < 100; f++) {
        paths.add(dir.resolve("f" + f + ".txt"));
      }
    }
    Map<Path, Instant> lastWriteStarted = new HashMap<>();
    for (int round = 0; round < 10; round++) {
      for (Path path : paths) {
        lastWriteStarted.put(path, Instant.now());
        Files.writeString(path, "round " + round + "\n");
      }
    }

    // the contract: each path is reported after its last write began, or the hub said events were lost
    RecordingListener.await(() -> !listener.overflows.isEmpty() || uncovered(listener, lastWriteStarted).isEmpty(),
        () -> uncovered(listener, lastWriteStarted).size() + " paths never reported after their last write, and no overflow");
    if (!listener.overflows.isEmpty()) {
      assertTrue(hub.stats().overflows() > 0);
    }
  }

  private static Set<Path> uncovered(RecordingListener listener, Map<Path, Instant> lastWriteStarted) {
    Map<Path, Instant> latestReport = new HashMap<>();
    for (PathChange change : listener.changes) {
      latestReport.merge(change.path(), change.at(), (x, y) -> x.isAfter(y) ? x : y);
    }
    Set<Path> missing = new HashSet<>();
    lastWriteStarted.forEach((path, started) -> {
      Instant reported = latestReport.get(path);
      if (reported == null || reported.isBefore(started)) {
        missing.add(path);
      }
    });
    return missing;
  }

  @Test
  void lostEventsAreSignalledAndDirectoriesCreatedMeanwhileGetWatched() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    AtomicBoolean blocked = new AtomicBoolean();
    RecordingListener listener = new RecordingListener() {
      @Override
      public void onChanges(List<PathChange> batch) {
        super.onChanges(batch);
        if (blocked.compareAndSet(false, true)) {
          // misbehave once: hold the hub thread so that the JDK's per-directory event list overflows
          WatchHubTest.await(release);
        }
      }
    };
    hub.watch("f1", root, List.of(), listener);
    Files.writeString(root.resolve("first.txt"), "wake the hub");
    RecordingListener.await(blocked::get, () -> "no first batch");

    Path late = Files.createDirectories(root.resolve("late"));
    for (int i = 0; i < 1000; i++) {
      Files.writeString(root.resolve("flood" + i), "x");
    }
    release.countDown();

    RecordingListener.await(() -> !listener.overflows.isEmpty(), () -> "no overflow after 1000 events in one directory");
    assertTrue(listener.overflows.get(0).contains("events lost"), listener.overflows.toString());
    assertTrue(hub.stats().overflows() >= 1);
    // late/ was created while events were being lost: the hub watches it anyway
    Path inLate = Files.writeString(late.resolve("inside.txt"), "y");
    listener.awaitChange(inLate, Kind.CREATED);
  }

  private static void await(CountDownLatch latch) {
    try {
      latch.await(RecordingListener.PATIENCE.toSeconds(), TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Test
  void closingARegistrationStopsItsEvents() throws IOException {
    Path other = Files.createDirectories(tmp.resolve("wt2")).toRealPath();
    Files.createDirectories(root.resolve("sub"));
    RecordingListener closedOne = new RecordingListener();
    RecordingListener openOne = new RecordingListener();
    Registration registration = hub.watch("closed", root, List.of(), closedOne);
    hub.watch("open", other, List.of(), openOne);
    assertEquals(3, hub.stats().watchedDirectories());

    registration.close();
    assertEquals(0, registration.watchedDirectories());
    assertEquals(1, hub.stats().features());
    assertEquals(1, hub.stats().watchedDirectories());
    Files.writeString(root.resolve("sub/after-close.txt"), "x");
    Files.writeString(root.resolve("after-close.txt"), "x");
    Path marker = Files.writeString(other.resolve("marker.txt"), "x");

    openOne.awaitChange(marker, Kind.CREATED);
    assertTrue(closedOne.changes.isEmpty(), closedOne.changes.toString());
    registration.close(); // twice is fine
  }

  @Test
  void watchesGitAdminDirectoriesWithoutRecursionAndPicksUpOnesThatAppearLater() throws IOException {
    Path common = Files.createDirectories(tmp.resolve("repo/.git")).toRealPath();
    Path info = common.resolve("info");
    RecordingListener listener = new RecordingListener();
    Registration registration = hub.watch("f1", root, List.of(common, info), listener);
    assertEquals(2, registration.watchedDirectories()); // root and common; info does not exist yet

    Path config = Files.writeString(common.resolve("config"), "[core]\n");
    Path objects = Files.createDirectories(common.resolve("objects/ab"));
    Files.writeString(objects.resolve("cdef"), "blob");
    Files.createDirectories(info);
    Path exclude = Files.writeString(info.resolve("exclude"), "secret\n");
    Path marker = Files.writeString(common.resolve("marker"), "x");

    listener.awaitChange(config, Kind.CREATED);
    listener.awaitChange(common.resolve("objects"), Kind.CREATED);
    listener.awaitChange(exclude, Kind.CREATED);
    listener.awaitChange(marker, Kind.CREATED);
    assertFalse(listener.paths().contains(objects.resolve("cdef")), "common dir is not watched recursively");
    assertFalse(listener.paths().contains(objects), "common dir is not watched recursively");
    assertEquals(3, registration.watchedDirectories());
  }

  @Test
  void reportsANestedGitDirectoryButNeverEntersIt() throws IOException {
    RecordingListener listener = new RecordingListener();
    Registration registration = hub.watch("f1", root, List.of(), listener);

    Path nested = Files.createDirectories(root.resolve("vendor/lib/.git/objects"));
    Files.writeString(nested.resolve("x"), "x");
    Path marker = Files.writeString(root.resolve("vendor/lib/marker.txt"), "x");

    listener.awaitChange(marker, Kind.CREATED);
    listener.awaitChange(root.resolve("vendor/lib/.git"), Kind.CREATED);
    assertTrue(listener.paths().stream().noneMatch(p -> p.startsWith(root.resolve("vendor/lib/.git/objects"))),
        listener.changes.toString());
    assertEquals(3, registration.watchedDirectories()); // root, vendor, vendor/lib
  }

  @Test
  void doesNotFollowSymlinkedDirectories() throws IOException {
    Path outside = Files.createDirectories(tmp.resolve("outside"));
    RecordingListener listener = new RecordingListener();
    Registration registration = hub.watch("f1", root, List.of(), listener);

    Path link = Files.createSymbolicLink(root.resolve("escape"), outside);
    listener.awaitChange(link, Kind.CREATED);
    Files.writeString(outside.resolve("secret.txt"), "x");
    Path marker = Files.writeString(root.resolve("marker.txt"), "x");

    listener.awaitChange(marker, Kind.CREATED);
    assertFalse(listener.paths().contains(link.resolve("secret.txt")));
    assertEquals(1, registration.watchedDirectories());
  }

  @Test
  void aDirectoryThatCannotBeWatchedDegradesTheFeatureAndSaysSo() throws IOException {
    hub.close();
    AtomicInteger budget = new AtomicInteger(2);
    hub = new WatchHub("limited", (service, dir) -> {
      if (budget.getAndDecrement() <= 0) {
        throw new IOException("User limit of inotify watches reached");
      }
      return dir.register(service, ENTRY_CREATE, ENTRY_DELETE, ENTRY_MODIFY);
    });
    Files.createDirectories(root.resolve("one"));
    RecordingListener listener = new RecordingListener();
    Registration registration = hub.watch("f1", root, List.of(), listener);
    assertFalse(registration.degraded());

    Files.createDirectories(root.resolve("two/three"));

    RecordingListener.await(() -> !listener.overflows.isEmpty(), () -> "no overflow for a directory that could not be watched");
    assertTrue(listener.overflows.get(0).contains("User limit of inotify watches reached"), listener.overflows.toString());
    assertTrue(registration.degraded());
    WatchHub.Stats stats = hub.stats();
    assertEquals(List.of("f1"), stats.degradedFeatures());
    assertTrue(stats.failedRegistrations() >= 1, stats.toString());
  }

  @Test
  void survivesAListenerThatThrows() throws IOException {
    AtomicInteger calls = new AtomicInteger();
    RecordingListener listener = new RecordingListener() {
      @Override
      public void onChanges(List<PathChange> batch) {
        super.onChanges(batch);
        if (calls.getAndIncrement() == 0) {
          throw new IllegalStateException("listener bug (expected by the test)");
        }
      }
    };
    hub.watch("f1", root, List.of(), listener);

    Path first = Files.writeString(root.resolve("first.txt"), "x");
    listener.awaitChange(first, Kind.CREATED);
    Path second = Files.writeString(root.resolve("second.txt"), "x");
    listener.awaitChange(second, Kind.CREATED);
  }

  @Test
  void severalFeaturesShareOneInotifyInstance() throws IOException {
    hub.close();
    long before = inotifyInstances();
    hub = new WatchHub("shared");
    for (int i = 0; i < 5; i++) {
      Path worktree = Files.createDirectories(tmp.resolve("feature" + i + "/src"));
      hub.watch("f" + i, worktree.getParent(), List.of(), new RecordingListener());
    }
    assertEquals(5, hub.stats().features());
    assertEquals(10, hub.stats().watchedDirectories());
    assertTrue(inotifyInstances() - before <= 1, "inotify instances grew by " + (inotifyInstances() - before));
  }

  private static long inotifyInstances() throws IOException {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.filter(fd -> {
        try {
          return Files.readSymbolicLink(fd).toString().equals("anon_inode:inotify");
        } catch (IOException e) {
          return false; // the directory stream's own fd, closed meanwhile
        }
      }).count();
    }
  }
}
