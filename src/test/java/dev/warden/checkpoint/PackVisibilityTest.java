package dev.warden.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.warden.testing.GitRepos;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.eclipse.jgit.treewalk.TreeWalk;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The checkpoint packs live in the user's own repository, where the user's git (and any other JGit)
 * may be reading at any moment. While checkpoints are written and their packs merged and retired,
 * readers of every kind keep reading the whole chain: none of them may fail, and nothing may log an
 * error (a 21-minute {@code warden serve} once logged JGit's "Failed to access pack file ... .idx").
 */
class PackVisibilityTest {

  private static final String REF = "refs/warden/readers/checkpoints";

  @TempDir Path tmp;
  private Path repo;
  private ObjectId base;
  private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
  private Logger root;
  private final java.util.concurrent.ExecutorService background = java.util.concurrent.Executors.newFixedThreadPool(2);

  @BeforeEach
  void setUp() {
    repo = GitRepos.create(tmp.resolve("repo"));
    base = ObjectId.fromString(GitRepos.git(repo, "rev-parse", "main"));
    root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    logged.start();
    root.addAppender(logged);
  }

  @AfterEach
  void tearDown() {
    root.detachAppender(logged);
    background.shutdownNow();
  }

  @Test
  void readersOfEveryKindNeverMissAPackWhileCheckpointsAreWrittenMergedAndRetired() throws Exception {
    int captures = 3 * PackStore.FAN_IN * PackStore.FAN_IN;
    Duration retireAfter = Duration.ofMillis(300);
    List<String> failures = Collections.synchronizedList(new ArrayList<>());
    AtomicBoolean writing = new AtomicBoolean(true);
    AtomicInteger reads = new AtomicInteger();
    List<Thread> readers = new ArrayList<>();
    // another JGit over the same repository, kept open (its pack list goes stale as packs come and go)
    readers.add(reader("jgit-long-lived", writing, failures, () -> {
      try (Repository r = new FileRepositoryBuilder().setGitDir(repo.resolve(".git").toFile()).build()) {
        while (writing.get()) {
          readWholeChain(r);
          reads.incrementAndGet();
        }
      }
    }));
    // a JGit opened afresh for every read: it lists the pack directory while packs are being written
    readers.add(reader("jgit-fresh", writing, failures, () -> {
      while (writing.get()) {
        try (Repository r = new FileRepositoryBuilder().setGitDir(repo.resolve(".git").toFile()).build()) {
          readWholeChain(r);
        }
        reads.incrementAndGet();
      }
    }));
    // the user's git
    readers.add(reader("git-cli", writing, failures, () -> {
      while (writing.get()) {
        GitRepos.Result tip = GitRepos.tryGit(repo, "rev-parse", "--verify", "-q", REF);
        if (tip.exitCode() != 0) {
          Thread.sleep(5);
          continue;
        }
        // the commit the ref named a moment ago, not the ref: fsck lists the packs first and then walks,
        // so a checkpoint written in between would be "missing" to it whatever the writer does
        String commit = tip.output().trim();
        for (String[] args : List.of(
            new String[] {"log", "--stat", "--format=%H", commit},
            new String[] {"cat-file", "--batch-check", "--batch-all-objects"},
            new String[] {"fsck", "--connectivity-only", "--no-dangling", "--no-progress", commit})) {
          GitRepos.Result r = GitRepos.tryGit(repo, args);
          if (r.exitCode() != 0 || r.output().contains("error") || r.output().contains("fatal") || r.output().contains("missing")) {
            failures.add("git " + String.join(" ", args) + " -> " + r.exitCode() + ": " + r.output().lines().limit(5).toList());
          }
          reads.incrementAndGet();
        }
      }
    }));
    readers.forEach(Thread::start);

    Snapshotter snap = Snapshotter.open(repo.resolve(".git"), repo, REF, base, Optional.empty(), background, retireAfter);
    try {
      for (int i = 0; i < captures; i++) {
        Files.writeString(repo.resolve("f" + (i % 5) + ".txt"), "version " + i + "\n".repeat(i % 3 + 1));
        Files.writeString(repo.resolve("new" + i + ".txt"), "new file " + i + "\n");
        snap.capture(List.of("f" + (i % 5) + ".txt", "new" + i + ".txt"), i == 0, false, "step " + i);
        Thread.sleep(40);
      }
      // let the last retired packs come due, and one more capture delete them
      snap.awaitPackMerges();
      Thread.sleep(retireAfter.toMillis() + 100);
      Files.writeString(repo.resolve("last.txt"), "last\n");
      snap.capture(List.of("last.txt"), false, false, "last");
      snap.awaitPackMerges();
      Thread.sleep(retireAfter.toMillis() + 100);
      Files.writeString(repo.resolve("last.txt"), "really last\n");
      snap.capture(List.of("last.txt"), false, false, "really last");
      snap.awaitPackMerges();
    } finally {
      writing.set(false);
      for (Thread t : readers) {
        t.join(TimeUnit.SECONDS.toMillis(60));
      }
      snap.close();
    }

    assertEquals(List.of(), failures);
    List<String> problems = logged.list.stream()
        .filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
        .filter(e -> e.getLoggerName().startsWith("org.eclipse.jgit") || e.getLoggerName().startsWith("dev.warden.checkpoint"))
        .map(e -> e.getLevel() + " [" + e.getLoggerName() + "] " + e.getFormattedMessage()).toList();
    assertEquals(List.of(), problems);
    assertTrue(reads.get() > 20, "the readers read while packs were written: " + reads.get());
    assertEquals(String.valueOf(captures + 2), GitRepos.git(repo, "rev-list", "--count", base.name() + ".." + REF));
    assertEquals("", GitRepos.git(repo, "fsck", "--no-progress", "--no-dangling", "--full", "--strict"));
    // merged-away packs are gone once retired: what is on disk is what the store still counts as its own
    try (Stream<Path> packs = Files.list(repo.resolve(".git/objects/pack"))) {
      long onDisk = packs.filter(p -> p.toString().endsWith(".pack")).count();
      assertTrue(onDisk <= 3 * (PackStore.FAN_IN - 1) + 1, "packs on disk: " + onDisk);
    }
  }

  private interface Body {
    void run() throws Exception;
  }

  private static Thread reader(String name, AtomicBoolean writing, List<String> failures, Body body) {
    Thread t = new Thread(() -> {
      try {
        body.run();
      } catch (Exception | AssertionError e) {
        failures.add(name + ": " + e);
      }
    }, "reader-" + name);
    t.setDaemon(true);
    return t;
  }

  /** Every commit of the chain, and every tree and blob of each (what a user's history view reads). */
  private static void readWholeChain(Repository r) throws IOException {
    ObjectId tip = r.resolve(REF);
    if (tip == null) {
      return;
    }
    try (ObjectReader reader = r.newObjectReader(); RevWalk walk = new RevWalk(reader)) {
      walk.markStart(walk.parseCommit(tip));
      for (RevCommit c : walk) {
        try (TreeWalk tw = new TreeWalk(reader)) {
          tw.addTree(c.getTree());
          tw.setRecursive(true);
          while (tw.next()) {
            String text = new String(reader.open(tw.getObjectId(0), Constants.OBJ_BLOB).getBytes(), StandardCharsets.UTF_8);
            if (tw.getPathString().startsWith("new") && !text.startsWith("new file")) {
              throw new AssertionError(tw.getPathString() + " in " + c.name() + " reads '" + text + "'");
            }
          }
        }
      }
    }
  }
}
