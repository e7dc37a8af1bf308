package dev.warden.git;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs the git executable for the few things JGit cannot do (linked worktrees). Always argv, never a
 * shell; repository hooks are disabled so a supervised repository cannot run code in the daemon;
 * a command that outlives its timeout is killed.
 */
public final class GitCli {

  /** What a finished git command printed. */
  public record Result(int exitCode, String output) {
    public boolean ok() {
      return exitCode == 0;
    }
  }

  private final String executable;
  private final Duration timeout;

  public GitCli(String executable, Duration timeout) {
    this.executable = executable;
    this.timeout = timeout;
  }

  /** Runs {@code git --git-dir=<gitDir> -c core.hooksPath=/dev/null <args>}. */
  public Result run(Path gitDir, List<String> args) {
    List<String> command = new ArrayList<>();
    command.add(executable);
    command.add("--git-dir=" + gitDir);
    command.add("-c");
    command.add("core.hooksPath=/dev/null");
    // a repository's config must not make the daemon run its programs either
    command.add("-c");
    command.add("core.fsmonitor=false");
    command.addAll(args);
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    Map<String, String> env = builder.environment();
    // an inherited GIT_DIR or GIT_WORK_TREE would redirect the command to someone else's repository
    env.keySet().removeIf(key -> key.startsWith("GIT_"));
    env.put("GIT_TERMINAL_PROMPT", "0");
    Process process = null;
    try {
      process = builder.start();
      process.getOutputStream().close();
      OutputReader reader = new OutputReader(process.getInputStream());
      reader.start();
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        kill(process);
        process.waitFor(5, TimeUnit.SECONDS);
        throw new GitFailure("git " + String.join(" ", args) + " did not finish within " + timeout.toSeconds() + " s");
      }
      reader.join(TimeUnit.SECONDS.toMillis(5));
      return new Result(process.exitValue(), reader.text());
    } catch (IOException e) {
      throw new GitFailure("cannot run " + executable + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      if (process != null) {
        kill(process); // nobody waits for it any more: it must not go on changing the repository
      }
      throw new GitFailure("interrupted while running git " + String.join(" ", args));
    }
  }

  /** SIGKILL to git and the git processes it started (worktree add runs a checkout of its own). */
  private static void kill(Process process) {
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
  }

  /** Drains a process's output so it never blocks on a full pipe; keeps the first 64 KiB. */
  private static final class OutputReader extends Thread {
    private static final int LIMIT = 64 * 1024;
    private final InputStream in;
    private final StringBuilder text = new StringBuilder();

    OutputReader(InputStream in) {
      super("git-output");
      setDaemon(true);
      this.in = in;
    }

    @Override
    public void run() {
      byte[] buffer = new byte[8192];
      try {
        int n;
        while ((n = in.read(buffer)) >= 0) {
          synchronized (text) {
            if (text.length() < LIMIT) {
              text.append(new String(buffer, 0, Math.min(n, LIMIT - text.length()), StandardCharsets.UTF_8));
            }
          }
        }
      } catch (IOException ignored) {
        // the process went away; what was read is what there is
      }
    }

    String text() {
      synchronized (text) {
        return text.toString().strip();
      }
    }
  }
}
