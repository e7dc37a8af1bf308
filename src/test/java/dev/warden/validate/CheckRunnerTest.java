package dev.warden.validate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warden.git.GitCli;
import dev.warden.process.Bubblewrap;
import dev.warden.process.SandboxPolicy;
import dev.warden.process.SandboxRules;
import dev.warden.testing.GitRepos;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real processes: timeouts, whole-group kills, bounded output, argv without a shell; and the same
 * through real bubblewrap, with a hostile check in a throwaway worktree of a real repository whose
 * data directory holds a token and a journal.
 */
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

  // ---- sandboxed ----

  /** A repository, a data directory with a token and a journal, and a throwaway worktree in its scratch space. */
  private record Sandboxed(Path repo, Path data, ThrowawayWorktree worktree, CheckRunner runner, CheckSandbox.Scope scope)
      implements AutoCloseable {
    @Override
    public void close() {
      worktree.close();
    }
  }

  private Sandboxed sandboxed(SandboxRules rules) throws Exception {
    assertTrue(Bubblewrap.availability().usable(), "bubblewrap must work on this machine: " + Bubblewrap.availability().problem());
    Path repo = GitRepos.create(dir.resolve("repo"));
    Path data = Files.createDirectories(dir.resolve("data"));
    Files.writeString(data.resolve("admin.token"), "wdn_admin_secret_0123456789\n");
    Files.createDirectories(data.resolve("db"));
    Files.writeString(data.resolve("db").resolve("warden.mv.db"), "journal_secret_rows\n");
    Path config = Files.writeString(dir.resolve("warden.conf"), "warden.database.password = \"db_password_secret\"\n");
    GitCli git = new GitCli("git", Duration.ofSeconds(30));
    ThrowawayWorktree worktree = ThrowawayWorktree.create(git, repo.resolve(".git"), GitRepos.git(repo, "rev-parse", "main"),
        data.resolve("scratch"));
    SandboxPolicy policy = new SandboxPolicy(SandboxPolicy.Settings.defaults(), data, List.of(config));
    CheckRunner runner = new CheckRunner(CheckRunner.Settings.defaults(), CheckSandbox.of(policy));
    return new Sandboxed(repo, data, worktree, runner, CheckSandbox.Scope.of(repo.resolve(".git"), rules));
  }

  /** The interface names in a /proc/net/dev listing. */
  private static List<String> interfaces(String procNetDev) {
    return procNetDev.lines().filter(l -> l.matches("\\s*[\\w.@-]+:\\s+\\d.*")).map(l -> l.strip().split(":")[0]).toList();
  }

  private static SandboxRules network(boolean on) {
    return new SandboxRules(Optional.empty(), Optional.of(on), List.of(), List.of(), Optional.empty());
  }

  @Test
  void aSandboxedCheckCannotMoveMainWriteHooksOrConfigReadWardensSecretsOrWriteOutsideItsWorktree() throws Exception {
    try (Sandboxed s = sandboxed(SandboxRules.defaults())) {
      Path gitDir = s.repo().resolve(".git");
      String mainBefore = GitRepos.git(s.repo(), "rev-parse", "main");
      String configBefore = Files.readString(gitDir.resolve("config"));
      // the project's own directory: a real filesystem outside the worktree (temp dirs are the sandbox's private /tmp)
      Path outside = Path.of(System.getProperty("user.dir"), "target", "warden-check-was-here-" + System.nanoTime());
      String script = String.join("\n",
          "echo built > build.out && echo WROTE_WORKTREE",
          "git status --porcelain && echo STATUS_OK",
          "git diff --stat HEAD && echo DIFF_OK",
          "git add build.out && echo ADDED",
          "git -C " + s.repo() + " update-ref -d refs/heads/main && echo MOVED_MAIN",
          "git -C " + s.repo() + " update-ref refs/heads/evil HEAD && echo MADE_REF",
          "echo 'touch /tmp/pwned' > " + gitDir.resolve("hooks/pre-commit") + " && echo WROTE_HOOK",
          "git -C " + s.repo() + " config core.hooksPath /tmp/evil && echo WROTE_CONFIG",
          "cat " + s.data().resolve("admin.token"),
          "cat " + s.data().resolve("db/warden.mv.db"),
          "cat " + dir.resolve("warden.conf"),
          "echo x > " + outside + " && echo WROTE_OUTSIDE",
          "echo x > $HOME/.warden-check-was-here && echo WROTE_HOME",
          "echo \"token=[$WARDEN_TOKEN]\"",
          "id -u",
          "exit 0");

      CheckResult result = s.runner().run("hostile", List.of("sh", "-c", script), s.worktree().path(), Duration.ofSeconds(60),
          s.scope());

      String out = result.output();
      assertEquals(0, result.exitCode(), out);
      assertTrue(out.contains("WROTE_WORKTREE"), out);
      assertTrue(out.contains("STATUS_OK") && out.contains("?? build.out"), "git status works read-only: " + out);
      assertTrue(out.contains("DIFF_OK"), "git diff works read-only: " + out);
      assertFalse(out.contains("ADDED"), "git add needs to write the index, in the read-only git dir: " + out);
      for (String denied : List.of("MOVED_MAIN", "MADE_REF", "WROTE_HOOK", "WROTE_CONFIG", "WROTE_OUTSIDE", "WROTE_HOME")) {
        assertFalse(out.contains(denied), denied + " must fail: " + out);
      }
      for (String secret : List.of("wdn_admin_secret", "journal_secret_rows", "db_password_secret")) {
        assertFalse(out.contains(secret), secret + " must not be readable: " + out);
      }
      assertTrue(out.contains("Read-only file system"), "the denials are in the output: " + out);
      assertTrue(out.contains("No such file or directory"), "hidden files are missing: " + out);
      assertTrue(out.contains("token=[]"), out);
      assertEquals(mainBefore, GitRepos.git(s.repo(), "rev-parse", "main"));
      assertFalse(GitRepos.branches(s.repo()).contains("evil"));
      assertFalse(Files.exists(gitDir.resolve("hooks/pre-commit")));
      assertEquals(configBefore, Files.readString(gitDir.resolve("config")));
      assertFalse(Files.exists(outside));
      assertTrue(Files.exists(s.worktree().path().resolve("build.out")), "the worktree itself is writable");
      assertTrue(result.sandbox().startsWith("sandbox: writable " + s.worktree().path().toRealPath()), result.sandbox());
      assertTrue(result.sandbox().contains(s.data().toString()) && result.sandbox().contains("network off"), result.sandbox());
    }
  }

  @Test
  void aSandboxedChecksTmpIsPrivateAndItsNetworkIsOnlyLoopbackUnlessThePlanAllowsIt() throws Exception {
    Path hostFile = Files.writeString(Files.createTempFile("warden-host-", ".txt"), "host file\n");
    try (Sandboxed s = sandboxed(SandboxRules.defaults())) {
      String marker = "warden-private-tmp-" + System.nanoTime();
      CheckResult result = s.runner().run("tmp", List.of("sh", "-c",
          "echo inside > /tmp/" + marker + " && cat /tmp/" + marker + "; cat " + hostFile + "; cat /proc/net/dev"),
          s.worktree().path(), Duration.ofSeconds(30), s.scope());

      String out = result.output();
      assertTrue(out.contains("inside"), "its own /tmp is writable: " + out);
      assertFalse(Files.exists(Path.of("/tmp", marker)), "what it wrote to /tmp stays in the sandbox");
      assertFalse(out.contains("host file"), "the host's /tmp is not visible: " + out);
      assertEquals(List.of("lo"), interfaces(out), out);

      CheckResult online = s.runner().run("net", List.of("sh", "-c", "cat /proc/net/dev"), s.worktree().path(),
          Duration.ofSeconds(30), new CheckSandbox.Scope(s.scope().repoGitDir(), network(true)));
      assertEquals(interfaces(Files.readString(Path.of("/proc/net/dev"))), interfaces(online.output()),
          "sandbox.checkNetwork: the host's interfaces");
      assertTrue(online.sandbox().contains("network on"), online.sandbox());
    } finally {
      Files.deleteIfExists(hostFile);
    }
  }

  @Test
  void exitCodesTimeoutsAndGroupKillsWorkThroughTheSandbox() throws Exception {
    try (Sandboxed s = sandboxed(SandboxRules.defaults())) {
      CheckResult failed = s.runner().run("fails", List.of("sh", "-c", "echo three; exit 3"), s.worktree().path(),
          Duration.ofSeconds(30), s.scope());
      assertEquals(3, failed.exitCode());
      assertTrue(failed.output().contains("three"), failed.output());

      String marker = "warden-sandboxed-hang-" + System.nanoTime();
      long before = System.nanoTime();
      CompletableFuture<CheckResult> hang = CompletableFuture.supplyAsync(() -> {
        try {
          return s.runner().run("hang", List.of("sh", "-c", "sleep 1000 & sleep 1000", marker), s.worktree().path(),
              Duration.ofSeconds(2), s.scope());
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      long pgid = Procs.awaitGroup(marker, 3, Duration.ofSeconds(10)); // bwrap, the sandbox's init, sh and its sleeps
      CheckResult timedOut = hang.get(30, java.util.concurrent.TimeUnit.SECONDS);
      assertTrue(timedOut.timedOut());
      assertNull(timedOut.exitCode());
      assertTrue((System.nanoTime() - before) / 1_000_000 < 15_000, "a 2 s timeout returns within seconds");
      Procs.await(() -> Procs.liveMembers(pgid).isEmpty(), Duration.ofSeconds(5), "no process of sandboxed group " + pgid + " remains");

      String left = "warden-sandboxed-leaves-" + System.nanoTime();
      CheckResult leaves = s.runner().run("leaves", List.of("sh", "-c", "sleep 1000 & echo started", left), s.worktree().path(),
          Duration.ofSeconds(60), s.scope());
      assertEquals(0, leaves.exitCode());
      assertTrue(leaves.durationMs() < 30_000, "did not wait for the background sleep");
      Procs.await(() -> Procs.groupOf(left).isEmpty(), Duration.ofSeconds(5), "the background sleep is gone");
    }
  }

  @Test
  void interruptingASandboxedCheckKillsItsWholeGroup() throws Exception {
    try (Sandboxed s = sandboxed(SandboxRules.defaults())) {
      String marker = "warden-sandboxed-interrupt-" + System.nanoTime();
      CompletableFuture<Throwable> outcome = new CompletableFuture<>();
      Thread thread = new Thread(() -> {
        try {
          s.runner().run("interrupted", List.of("sh", "-c", "sleep 1000 & sleep 1000", marker), s.worktree().path(),
              Duration.ofSeconds(600), s.scope());
          outcome.complete(null);
        } catch (Throwable t) {
          outcome.complete(t);
        }
      });
      thread.start();
      long pgid = Procs.awaitGroup(marker, 3, Duration.ofSeconds(10));

      thread.interrupt();

      assertTrue(outcome.get(30, java.util.concurrent.TimeUnit.SECONDS) instanceof InterruptedException);
      Procs.await(() -> Procs.liveMembers(pgid).isEmpty(), Duration.ofSeconds(5), "group " + pgid + " gone");
    }
  }

  @Test
  void withoutBubblewrapAutoRunsUnsandboxedAndSaysWhyWhileRequiredRunsNothingAndFails() throws Exception {
    Bubblewrap.Availability missing = new Bubblewrap.Availability(Optional.empty(), "bwrap not found (test)");
    Path data = Files.createDirectories(dir.resolve("data"));
    SandboxPolicy.Settings defaults = SandboxPolicy.Settings.defaults();
    CheckRunner auto = new CheckRunner(CheckRunner.Settings.defaults(),
        CheckSandbox.of(new SandboxPolicy(defaults, data, List.of()), () -> missing, dir));
    CheckRunner required = new CheckRunner(CheckRunner.Settings.defaults(), CheckSandbox.of(new SandboxPolicy(
        new SandboxPolicy.Settings(SandboxPolicy.Mode.REQUIRED, defaults.agentHomeWritable(), defaults.hidden()), data, List.of()),
        () -> missing, dir));
    Path ran = dir.resolve("ran");

    CheckResult unsandboxed = auto.run("auto", List.of("touch", ran.toString()), dir, Duration.ofSeconds(30));
    assertTrue(unsandboxed.passed(), unsandboxed.output());
    assertTrue(Files.exists(ran));
    assertEquals("unsandboxed: bwrap not found (test)", unsandboxed.sandbox());

    Files.delete(ran);
    CheckResult refused = required.run("required", List.of("touch", ran.toString()), dir, Duration.ofSeconds(30));
    assertFalse(refused.passed());
    assertEquals(126, refused.exitCode());
    assertFalse(Files.exists(ran), "nothing ran");
    assertTrue(refused.output().contains("warden.sandbox.mode is \"required\"") && refused.output().contains("bwrap not found (test)"),
        refused.output());
    assertEquals("unsandboxed: bwrap not found (test)", refused.sandbox());
  }
}
