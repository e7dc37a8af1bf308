package dev.warden.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real processes, real signals: what the wrapper's pause and Ctrl-C rely on. */
public class ProcessGroupTest {

  private static final String WRITER = "while :; do date >> log.txt; sleep 0.01; done";

  @TempDir Path dir;

  @Test
  void theCommandLeadsItsOwnSessionAndGroup() throws Exception {
    ProcessGroup group = ProcessGroup.start(List.of("sh", "-c", "sleep 1000"), dir);
    try {
      assertEquals(group.pid(), group.pgid(), "setsid execs in place: the command's pid is the group id");
      ProcessGroup.Stat stat = ProcessGroup.Stat.of(group.pid()).orElseThrow();
      assertEquals(group.pgid(), stat.pgrp());
      assertEquals(group.pgid(), stat.session());
      long jvmGroup = ProcessGroup.Stat.of(ProcessHandle.current().pid()).orElseThrow().pgrp();
      assertTrue(jvmGroup != group.pgid(), "not in the JVM's group");
    } finally {
      group.terminate(Duration.ofSeconds(1));
    }
  }

  @Test
  void stopFreezesTheWholeGroupAndContLetsItGoOn() throws Exception {
    Path log = dir.resolve("log.txt");
    ProcessGroup group = ProcessGroup.start(List.of("sh", "-c", WRITER), dir);
    try {
      awaitGrowth(log);

      assertTrue(group.stop(), "every member seen stopped");
      long stoppedAt = Files.size(log);
      Thread.sleep(300);
      assertEquals(stoppedAt, Files.size(log), "no writes while the group is stopped");
      assertTrue(group.isAlive());

      group.cont();
      awaitGrowth(log);
    } finally {
      group.terminate(Duration.ofSeconds(1));
    }
  }

  @Test
  void terminateKillsGrandchildrenToo() throws Exception {
    ProcessGroup group = ProcessGroup.start(List.of("sh", "-c", "sleep 1000 & sleep 1000"), dir);
    await(() -> group.livePids().size() >= 2, "sh and a sleep running"); // hasLiveMembers() below covers any not yet seen here
    List<Long> members = group.livePids();

    int exit = group.terminate(Duration.ofSeconds(5));

    assertEquals(128 + 15, exit, "sh ended by SIGTERM");
    await(() -> members.stream().noneMatch(ProcessGroupTest::alive), "every member of " + members + " gone");
    assertFalse(group.hasLiveMembers());
  }

  @Test
  void terminateReachesAStoppedGroupAndEscalatesToKill() throws Exception {
    // ignores SIGTERM, so only SIGKILL after the grace ends it; stopped first, so SIGCONT is needed too
    ProcessGroup group = ProcessGroup.start(List.of("sh", "-c", "trap '' TERM; touch trapped; while :; do sleep 0.01; done"), dir);
    // a TERM that arrives before the trap is set ends sh at once (seen on a loaded machine)
    await(() -> java.nio.file.Files.exists(dir.resolve("trapped")), "running with TERM ignored");
    assertTrue(group.stop());

    int exit = group.terminate(Duration.ofMillis(200));

    assertEquals(128 + 9, exit);
    await(() -> !group.hasLiveMembers(), "group gone");
  }

  @Test
  void exitCodesPropagate() throws Exception {
    assertEquals(7, ProcessGroup.start(List.of("sh", "-c", "exit 7"), dir).waitFor());
    assertEquals(0, ProcessGroup.start(List.of("true"), dir).waitFor());
    assertEquals(128 + 15, ProcessGroup.start(List.of("sh", "-c", "kill -TERM $$"), dir).waitFor(), "signals as shells report them");
  }

  @Test
  void runsInTheGivenDirectory() throws Exception {
    ProcessGroup group = ProcessGroup.start(List.of("sh", "-c", "pwd"), dir);
    String out = new String(group.stdout().readAllBytes()).strip();
    assertEquals(0, group.waitFor());
    assertEquals(dir.toRealPath().toString(), out);
  }

  @Test
  void anUnknownProgramExits127() throws Exception {
    ProcessGroup group = ProcessGroup.start(List.of("no-such-program-warden"), dir);
    assertEquals(127, group.waitFor(), "setsid reports a program it cannot find as shells do");
  }

  @Test
  void startMergedRunsWithExactlyTheGivenEnvironmentAndStderrInStdout() throws Exception {
    Map<String, String> env = Map.of("PATH", System.getenv("PATH"), "WARDEN_PG_TEST", "yes");
    ProcessGroup group = ProcessGroup.startMerged(
        List.of("sh", "-c", "echo out; echo err >&2; echo \"[$WARDEN_PG_TEST][${HOME-unset}]\""), dir, env);
    String out = new String(group.stdout().readAllBytes());
    assertEquals(0, group.waitFor());
    assertEquals("out\nerr\n[yes][unset]\n", out, "nothing inherited, stderr interleaved with stdout");
    assertEquals(group.pid(), group.pgid(), "still its own session");
  }

  @Test
  void waitForWithATimeoutSaysWhetherTheCommandExited() throws Exception {
    ProcessGroup group = ProcessGroup.start(List.of("sleep", "1000"), dir);
    try {
      assertFalse(group.waitFor(Duration.ofMillis(50)));
    } finally {
      group.terminate(Duration.ofSeconds(1));
    }
    assertTrue(group.waitFor(Duration.ofSeconds(1)));
  }

  private static boolean alive(long pid) {
    return ProcessGroup.Stat.of(pid).map(s -> !s.isGone()).orElse(false);
  }

  public static void awaitGrowth(Path file) throws Exception {
    long before = Files.exists(file) ? Files.size(file) : 0;
    await(() -> {
      try {
        return Files.exists(file) && Files.size(file) > before;
      } catch (java.io.IOException e) {
        return false;
      }
    }, file + " grows");
  }

  public static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting until " + what);
      }
      Thread.sleep(5);
    }
  }
}
