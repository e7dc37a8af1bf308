package dev.warden.validate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real processes: timeouts, whole-group kills, bounded output, argv without a shell. */
class CheckRunnerTest {

  @TempDir Path dir;

  private final CheckRunner runner = new CheckRunner(CheckRunner.Settings.defaults());

  @Test
  void aHangingCheckIsKilledAtItsTimeoutWithItsChildren() throws Exception {
    // $$ is the shell's pid, which is the group id: setsid execs it in place
    List<String> argv = List.of("sh", "-c", "echo $$; sleep 1000 & sleep 1000");
    long before = System.nanoTime();

    CheckResult result = runner.run("hang", argv, dir, Duration.ofSeconds(1));

    long elapsedMs = (System.nanoTime() - before) / 1_000_000;
    assertTrue(result.timedOut());
    assertNull(result.exitCode(), "killed by Warden: no exit code of its own");
    assertFalse(result.passed());
    assertTrue(elapsedMs < 15_000, "a 1 s timeout returns within seconds, took " + elapsedMs + " ms");
    long pgid = Long.parseLong(result.outputHead().strip());
    Procs.await(() -> Procs.liveMembers(pgid).isEmpty(), Duration.ofSeconds(5), "no process of group " + pgid + " remains");
  }

  @Test
  void backgroundProcessesLeftByAFinishedCheckAreEnded() throws Exception {
    CheckResult result = runner.run("leaves", List.of("sh", "-c", "echo $$; sleep 1000 &"), dir, Duration.ofSeconds(60));

    assertEquals(0, result.exitCode());
    assertFalse(result.timedOut());
    assertTrue(result.durationMs() < 30_000, "did not wait for the background sleep to close the pipe");
    long pgid = Long.parseLong(result.outputHead().strip());
    Procs.await(() -> Procs.liveMembers(pgid).isEmpty(), Duration.ofSeconds(5), "the background sleep is gone");
  }

  @Test
  void hundredMegabytesOfOutputAreCountedButNotKept() throws Exception {
    List<String> argv = List.of("sh", "-c", "head -c 100000000 /dev/zero | tr '\\0' x");

    CheckResult result = runner.run("loud", argv, dir, Duration.ofSeconds(120));

    assertTrue(result.passed(), "exit " + result.exitCode());
    int head = CheckRunner.Settings.DEFAULT_HEAD_BYTES;
    int tail = CheckRunner.Settings.DEFAULT_TAIL_BYTES;
    assertEquals(head, result.outputHead().length());
    assertEquals(tail, result.outputTail().length());
    assertEquals(100_000_000L - head - tail, result.droppedBytes());
    assertTrue(result.outputHead().chars().allMatch(c -> c == 'x'));
    assertTrue(result.outputTail().chars().allMatch(c -> c == 'x'));
    assertTrue(result.output().contains("[... " + (100_000_000L - head - tail) + " bytes not kept ...]"));
  }

  @Test
  void outputLimitsAreConfigurableAndKeepTheRightEnds() throws Exception {
    CheckRunner small = new CheckRunner(new CheckRunner.Settings(10, 8, Duration.ofSeconds(1), Map.of()));

    CheckResult result = small.run("seq", List.of("sh", "-c", "seq 1 1000; echo tail-end >&2"), dir, Duration.ofSeconds(30));

    assertEquals("1\n2\n3\n4\n5\n", result.outputHead());
    assertEquals("ail-end\n", result.outputTail(), "the last 8 bytes, stderr included");
    long total = Files.size(writeSeq()) + "tail-end\n".length();
    assertEquals(total - 10 - 8, result.droppedBytes());
  }

  @Test
  void smallOutputIsKeptWhole() throws Exception {
    CheckRunner small = new CheckRunner(new CheckRunner.Settings(4, 4, Duration.ofSeconds(1), Map.of()));

    CheckResult result = small.run("six", List.of("printf", "abcdef"), dir, Duration.ofSeconds(30));

    assertEquals("abcd", result.outputHead());
    assertEquals("ef", result.outputTail());
    assertEquals(0, result.droppedBytes());
    assertEquals("abcdef", result.output());
  }

  @Test
  void exitCodesPropagate() throws Exception {
    CheckResult failed = runner.run("fails", List.of("sh", "-c", "echo broken >&2; exit 3"), dir, Duration.ofSeconds(30));
    assertEquals(3, failed.exitCode());
    assertFalse(failed.passed());
    assertFalse(failed.timedOut());
    assertEquals("broken\n", failed.outputHead());

    assertTrue(runner.run("ok", List.of("true"), dir, Duration.ofSeconds(30)).passed());

    CheckResult missing = runner.run("missing", List.of("no-such-program-warden"), dir, Duration.ofSeconds(30));
    assertEquals(127, missing.exitCode());
    assertTrue(missing.outputHead().contains("no-such-program-warden"), missing.outputHead());
  }

  @Test
  void argvIsNotInterpretedByAShell() throws Exception {
    String literal = "a; touch pwned $(touch pwned2) `touch pwned3` $HOME * && exit 9";

    CheckResult result = runner.run("literal", List.of("printf", "%s", literal), dir, Duration.ofSeconds(30));

    assertTrue(result.passed());
    assertEquals(literal, result.outputHead());
    assertFalse(Files.exists(dir.resolve("pwned")));
    assertFalse(Files.exists(dir.resolve("pwned2")));
    assertFalse(Files.exists(dir.resolve("pwned3")));
  }

  @Test
  void runsInTheDirectoryWithStdinClosed() throws Exception {
    CheckResult result = runner.run("pwd", List.of("sh", "-c", "pwd; cat; echo done"), dir, Duration.ofSeconds(30));

    assertTrue(result.passed());
    assertEquals(dir.toRealPath() + "\ndone\n", result.outputHead(), "stdin is /dev/null: cat ends at once");
  }

  @Test
  void theEnvironmentLosesGitAndWardenVariablesAndKeepsTheRest() {
    Map<String, String> inherited = Map.of("GIT_DIR", "/elsewhere", "GIT_INDEX_FILE", "/x", "WARDEN_DB_PASSWORD", "secret",
        "HOME", "/home/daemon", "PATH", "/usr/bin", "LANG", "C.UTF-8");

    Map<String, String> env = CheckRunner.environment(inherited, Map.of("HOME", "/var/lib/warden/check-home"));

    assertEquals(Map.of("HOME", "/var/lib/warden/check-home", "PATH", "/usr/bin", "LANG", "C.UTF-8"), env);
  }

  @Test
  void theChecksEnvironmentIsTheOneComputed() throws Exception {
    CheckRunner withExtra = new CheckRunner(
        new CheckRunner.Settings(1 << 20, 0, Duration.ofSeconds(1), Map.of("WARDEN_CHECK_TEST", "given")));

    CheckResult result = withExtra.run("env", List.of("env"), dir, Duration.ofSeconds(30));

    assertEquals(0, result.droppedBytes());
    List<String> lines = result.outputHead().lines().toList();
    assertTrue(lines.contains("WARDEN_CHECK_TEST=given"), "overrides are applied last");
    assertTrue(lines.stream().noneMatch(l -> l.startsWith("GIT_")), lines.toString());
    assertTrue(lines.stream().filter(l -> l.startsWith("WARDEN_")).count() == 1, lines.toString());
  }

  @Test
  void interruptingTheCallerKillsTheGroupAndThrows() throws Exception {
    String marker = "warden-interrupt-" + System.nanoTime();
    CompletableFuture<Throwable> outcome = new CompletableFuture<>();
    Thread thread = new Thread(() -> {
      try {
        runner.run("interrupted", List.of("sh", "-c", "sleep 1000 & sleep 1000", marker), dir, Duration.ofSeconds(600));
        outcome.complete(null);
      } catch (Throwable t) {
        outcome.complete(t);
      }
    });
    thread.start();
    long pgid = Procs.awaitGroup(marker, 2, Duration.ofSeconds(10)); // sh and its sleeps run

    thread.interrupt();

    Throwable thrown;
    try {
      thrown = outcome.get(30, java.util.concurrent.TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw new AssertionError(e);
    }
    assertTrue(thrown instanceof InterruptedException, String.valueOf(thrown));
    Procs.await(() -> Procs.liveMembers(pgid).isEmpty(), Duration.ofSeconds(5), "group " + pgid + " gone");
  }

  private Path writeSeq() throws Exception {
    StringBuilder text = new StringBuilder();
    for (int i = 1; i <= 1000; i++) {
      text.append(i).append('\n');
    }
    return Files.writeString(dir.resolve("seq.txt"), text);
  }
}
