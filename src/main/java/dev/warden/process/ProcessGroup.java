package dev.warden.process;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A command running in its own session and process group, so that everything it spawns can be
 * paused, continued and killed as one: this is how the wrapper pauses an agent that knows nothing
 * about Warden.
 *
 * <p>Java's {@code ProcessBuilder} cannot create a process group, so the command is started
 * through util-linux {@code setsid}. A child of the JVM is never a group leader, so {@code setsid}
 * calls setsid(2) and execs the command in place: the pid Java knows is the command's pid, its
 * process group id and its session id. That is checked in {@code /proc/<pid>/stat} rather than
 * assumed; should {@code setsid} ever fork instead, {@code --wait} keeps its exit status ours and
 * the group leader is found among its children.
 *
 * <p>Signals go to the whole group through {@code kill(1)} (argv, no shell), the only way a JVM
 * without native code can signal a process group. Processes that leave the group themselves
 * (setsid, setpgid: daemons, some terminal multiplexers) are out of its reach.
 */
public final class ProcessGroup {

  /** How long {@link #stop()} waits for every member to be seen stopped. */
  private static final Duration STOP_CONFIRMATION = Duration.ofSeconds(1);
  /** How long {@link #start} waits for setsid to have created the session. */
  private static final Duration SESSION_SETUP = Duration.ofSeconds(2);
  private static final Path PROC = Path.of("/proc");

  private final Process process;
  private final long pgid;

  private ProcessGroup(Process process, long pgid) {
    this.process = process;
    this.pgid = pgid;
  }

  /** Starts {@code command} in {@code directory} in a new session; stdin from /dev/null, stdout and stderr piped. */
  public static ProcessGroup start(List<String> command, Path directory) throws IOException {
    return start(command, directory, ProcessBuilder.Redirect.from(new File("/dev/null")));
  }

  /** Starts {@code command} in {@code directory} in a new session, stdin as given, stdout and stderr piped. */
  public static ProcessGroup start(List<String> command, Path directory, ProcessBuilder.Redirect stdin) throws IOException {
    return start(command, directory, stdin, Optional.empty(), false);
  }

  /**
   * Starts {@code command} in {@code directory} in a new session with exactly {@code environment}
   * (nothing inherited), stdin as given, stdout and stderr piped. This is how the wrapper starts the
   * agent (see {@code AgentCommand.agentEnvironment}).
   */
  public static ProcessGroup start(List<String> command, Path directory, ProcessBuilder.Redirect stdin,
      Map<String, String> environment) throws IOException {
    return start(command, directory, stdin, Optional.of(Map.copyOf(environment)), false);
  }

  /**
   * Starts {@code command} in {@code directory} in a new session with exactly {@code environment}
   * (nothing inherited), stdin from /dev/null, and stderr merged into {@link #stdout()} so that the
   * two interleave as they would on a terminal and one reader drains both. This is how checks run.
   */
  public static ProcessGroup startMerged(List<String> command, Path directory, Map<String, String> environment)
      throws IOException {
    return start(command, directory, ProcessBuilder.Redirect.from(new File("/dev/null")),
        Optional.of(Map.copyOf(environment)), true);
  }

  private static ProcessGroup start(List<String> command, Path directory, ProcessBuilder.Redirect stdin,
      Optional<Map<String, String>> environment, boolean mergeStderr) throws IOException {
    if (command.isEmpty() || command.get(0).isBlank()) {
      throw new IllegalArgumentException("no command to run");
    }
    List<String> argv = new ArrayList<>();
    argv.add(Tools.SETSID.path());
    argv.add("--wait");
    argv.addAll(command);
    ProcessBuilder builder = new ProcessBuilder(argv).directory(directory.toFile()).redirectInput(stdin)
        .redirectErrorStream(mergeStderr);
    environment.ifPresent(env -> {
      builder.environment().clear();
      builder.environment().putAll(env);
    });
    Process process = builder.start();
    try {
      return new ProcessGroup(process, awaitSession(process));
    } catch (IOException | RuntimeException e) {
      process.destroyForcibly();
      throw e;
    }
  }

  /**
   * The id of the new session's leader: polls until setsid(2) has happened. A command that exits
   * before it could be seen leaves nothing to signal, and setsid execs in place, so its pid is taken.
   * An interrupt meanwhile does not abandon this short wait — the command and whatever it already
   * started would be left running with nobody holding their group — it stays in the thread's flag,
   * for the caller to end the group as a whole.
   */
  private static long awaitSession(Process process) throws IOException {
    long pid = process.pid();
    long deadline = System.nanoTime() + SESSION_SETUP.toNanos();
    boolean interrupted = false;
    try {
      while (true) {
        Optional<Stat> stat = Stat.of(pid);
        if (stat.isPresent() && stat.get().session() == pid) {
          return pid; // exec'd in place: the usual case
        }
        // setsid forked (only when it was itself a group leader): its child leads the new session
        Optional<Long> forked = process.toHandle().children()
            .map(ProcessHandle::pid)
            .filter(child -> Stat.of(child).map(s -> s.session() == child).orElse(false))
            .findFirst();
        if (forked.isPresent()) {
          return forked.get();
        }
        if (!process.isAlive() || stat.isEmpty() || stat.get().isGone()) {
          return pid;
        }
        if (System.nanoTime() > deadline) {
          throw new IOException("setsid did not start a new session for pid " + pid + " within " + SESSION_SETUP.toMillis() + " ms");
        }
        try {
          Thread.sleep(1);
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** The command's pid (the group leader in the usual case). */
  public long pid() {
    return process.pid();
  }

  /** The process group (and session) id: every process the command starts shares it unless it leaves. */
  public long pgid() {
    return pgid;
  }

  public InputStream stdout() {
    return process.getInputStream();
  }

  public InputStream stderr() {
    return process.getErrorStream();
  }

  /** Whether the command itself is still running (group members it left behind do not count). */
  public boolean isAlive() {
    return process.isAlive();
  }

  /**
   * SIGSTOP to the whole group, then waits until every member is seen stopped in /proc (kill(2)
   * only queues the signal: members are still seen running for a while after it returns). Returns
   * whether that was confirmed; a process in uninterruptible sleep stops only when it leaves it.
   */
  public boolean stop() {
    signal("STOP");
    long deadline = System.nanoTime() + STOP_CONFIRMATION.toNanos();
    while (true) {
      if (isStopped(pgid)) {
        return true;
      }
      if (System.nanoTime() > deadline) {
        return false;
      }
      pause(Duration.ofMillis(1));
    }
  }

  /** SIGCONT to the whole group. */
  public void cont() {
    signal("CONT");
  }

  /**
   * Ends the whole group: SIGTERM then SIGCONT (a stopped process must run to act on SIGTERM; sent
   * in this order it runs nothing before the signal is pending), SIGKILL to what is left after
   * {@code grace}. Returns the command's exit code.
   */
  public int terminate(Duration grace) throws InterruptedException {
    if (process.isAlive() || hasLiveMembers()) {
      signal("TERM");
      signal("CONT");
      long deadline = System.nanoTime() + grace.toNanos();
      while ((process.isAlive() || hasLiveMembers()) && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      if (process.isAlive() || hasLiveMembers()) {
        signal("KILL");
      }
    }
    return process.waitFor();
  }

  /** Waits for the command to exit; its exit code, or 128 + the signal that ended it, as shells report. */
  public int waitFor() throws InterruptedException {
    return process.waitFor();
  }

  /** Waits at most {@code timeout} for the command itself to exit; whether it did. */
  public boolean waitFor(Duration timeout) throws InterruptedException {
    return process.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  /** Whether any process of the group, the command or anything it left behind, is still alive. */
  public boolean hasLiveMembers() {
    return !members().isEmpty();
  }

  /** The pids of the group's live (not zombie) members. */
  public List<Long> livePids() {
    return members().stream().map(Stat::pid).toList();
  }

  /**
   * Whether nothing in group {@code pgid} can run: every live member is stopped, or is a vfork
   * parent (dash vforks for plain commands) waiting uninterruptibly in the kernel for a child that
   * is itself a stopped member, and that cannot run before the child does.
   */
  public static boolean isStopped(long pgid) {
    return members(pgid).stream().allMatch(s -> s.isStopped() || s.state() == 'D' && waitsForVforkChild(s.pid()));
  }

  private static boolean waitsForVforkChild(long pid) {
    try {
      String wchan = Files.readString(PROC.resolve(Long.toString(pid)).resolve("wchan"));
      return wchan.contains("clone") || wchan.contains("fork"); // kernel_clone, wait_for_vfork_done, _do_fork
    } catch (IOException e) {
      return false;
    }
  }

  private List<Stat> members() {
    return members(pgid);
  }

  private static List<Stat> members(long pgid) {
    List<Stat> members = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(PROC)) {
      for (Path entry : entries) {
        String name = entry.getFileName().toString();
        if (!name.isEmpty() && Character.isDigit(name.charAt(0))) {
          Stat.of(Long.parseLong(name))
              .filter(s -> s.pgrp() == pgid && !s.isGone())
              .ifPresent(members::add);
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot list /proc: " + e.getMessage(), e);
    }
    return members;
  }

  /** kill -s SIG -- -PGID; false when no process of the group was there to receive it. */
  private boolean signal(String signal) {
    if (pgid <= 1) {
      throw new IllegalStateException("refusing to signal process group " + pgid);
    }
    try {
      Process kill = new ProcessBuilder(Tools.KILL.path(), "-s", signal, "--", "-" + pgid)
          .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
          .redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .redirectError(ProcessBuilder.Redirect.DISCARD)
          .start();
      return kill.waitFor() == 0;
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + Tools.KILL.path() + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while signalling process group " + pgid, e);
    }
  }

  private static void pause(Duration duration) {
    try {
      Thread.sleep(duration.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  /** The fields of /proc/<pid>/stat we need. */
  public record Stat(long pid, char state, long ppid, long pgrp, long session) {

    public static Optional<Stat> of(long pid) {
      String text;
      try {
        text = Files.readString(PROC.resolve(Long.toString(pid)).resolve("stat"));
      } catch (IOException e) {
        return Optional.empty(); // gone, or never was
      }
      // "pid (comm) state ppid pgrp session ...": comm may hold spaces and parentheses
      int close = text.lastIndexOf(')');
      if (close < 0 || close + 2 > text.length()) {
        return Optional.empty();
      }
      String[] fields = text.substring(close + 2).split(" ");
      if (fields.length < 4 || fields[0].isEmpty()) {
        return Optional.empty();
      }
      return Optional.of(new Stat(pid, fields[0].charAt(0), Long.parseLong(fields[1]), Long.parseLong(fields[2]),
          Long.parseLong(fields[3])));
    }

    public boolean isGone() {
      return state == 'Z' || state == 'X' || state == 'x';
    }

    public boolean isStopped() {
      return state == 'T' || state == 't';
    }
  }

  /** The two util-linux / procps programs we rely on, found once. */
  public enum Tools {
    SETSID("setsid", "/usr/bin/setsid", "/bin/setsid"),
    KILL("kill", "/bin/kill", "/usr/bin/kill");

    private final String name;
    private final List<String> usual;
    private volatile String resolved;

    Tools(String name, String... usual) {
      this.name = name;
      this.usual = List.of(usual);
    }

    /** The program's path; throws naming the program when it is nowhere to be found. */
    public String path() {
      String path = resolved;
      if (path == null) {
        path = find().orElseThrow(() -> new IllegalStateException(
            "'" + name + "' not found in " + usual + " or on PATH (Debian: apt-get install util-linux procps)"));
        resolved = path;
      }
      return path;
    }

    public boolean available() {
      try {
        path();
        return true;
      } catch (IllegalStateException e) {
        return false;
      }
    }

    private Optional<String> find() {
      return dev.warden.process.Executables.find(name, usual).map(Path::toString);
    }
  }
}
