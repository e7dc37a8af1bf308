package dev.warden.validate;

import dev.warden.process.ProcessGroup;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one check command the way the validator needs it: argv exactly as given (never a shell), in
 * its own session and process group ({@link ProcessGroup}), stdin from /dev/null, stdout and stderr
 * interleaved into one bounded capture, and a timeout that ends the whole group, children and
 * grandchildren included. Blocking: callers run it on a pool thread ({@link CheckPool}).
 *
 * <p>Environment: the daemon's own, minus {@code GIT_*} (an inherited {@code GIT_DIR} or
 * {@code GIT_INDEX_FILE} would point git commands in the check at another repository or index) and
 * minus {@code WARDEN_*} (the daemon's own configuration, which can carry the database password: a
 * check runs code the agent wrote). {@code HOME} is inherited on purpose: build tools find their
 * caches and settings there ({@code ~/.m2}, {@code ~/.gradle}, {@code ~/.npm}), and offline builds
 * fail without them; in a sandbox they are read-only unless the plan's {@code sandbox.writable} names
 * them. An operator sets {@code HOME} (or anything else) through {@link Settings#environment()},
 * which is applied last.
 *
 * <p>Containment is the {@link CheckSandbox}'s: a runner made for plan checks and tests runs every
 * command inside bubblewrap (the whole filesystem read-only but the command's directory, Warden's
 * data and configuration hidden, no network by default); one made with {@link #CheckRunner(Settings)}
 * runs Warden's own commands as they are.
 *
 * <p>Once the command itself exits, whatever it left running in its group is ended too: a
 * background process would hold the output pipe and the throwaway worktree. Processes that leave
 * the group (setsid, daemonizing) are out of reach; if one keeps the output pipe open, the result is
 * returned anyway after a short wait, with what was read until then.
 *
 * <p>Interrupting the calling thread cancels the check: the group is ended (SIGTERM, SIGKILL after
 * the grace) and {@link InterruptedException} thrown. That is how {@link CheckPool} stops running
 * checks.
 */
public final class CheckRunner {

  private static final Logger log = LoggerFactory.getLogger(CheckRunner.class);

  /** How long the group may take to disappear from /proc once it was killed. */
  private static final Duration GROUP_EXIT = Duration.ofSeconds(2);
  /** How long the output reader may take to reach end of stream once the group is gone. */
  private static final Duration READER_EXIT = Duration.ofSeconds(2);

  /** The exit code of a check that was not run because its sandbox could not be made (as a shell's "cannot execute"). */
  static final int NOT_RUN = 126;

  /** Environment variables a check never inherits from the daemon, by prefix. */
  static final List<String> DROPPED_PREFIXES = List.of("GIT_", "WARDEN_");

  /**
   * @param headBytes output kept from the start (64 KiB by default)
   * @param tailBytes output kept from the end (64 KiB by default)
   * @param killGrace time between SIGTERM and SIGKILL when a check is ended
   * @param environment variables set on top of the inherited environment, after the GIT_ and WARDEN_
   *     ones were dropped (e.g. {@code HOME})
   */
  public record Settings(int headBytes, int tailBytes, Duration killGrace, Map<String, String> environment) {
    public static final int DEFAULT_HEAD_BYTES = 64 * 1024;
    public static final int DEFAULT_TAIL_BYTES = 64 * 1024;
    public static final Duration DEFAULT_KILL_GRACE = Duration.ofSeconds(2);

    public Settings {
      if (headBytes < 0 || tailBytes < 0) {
        throw new IllegalArgumentException("output limits must not be negative");
      }
      if (killGrace.isNegative()) {
        throw new IllegalArgumentException("kill grace must not be negative");
      }
      environment = Map.copyOf(environment);
    }

    public static Settings defaults() {
      return new Settings(DEFAULT_HEAD_BYTES, DEFAULT_TAIL_BYTES, DEFAULT_KILL_GRACE, Map.of());
    }
  }

  private final Settings settings;
  private final Map<String, String> environment;
  private final CheckSandbox sandbox;

  /** A runner without a sandbox: for Warden's own commands (git), never for code the agent wrote. */
  public CheckRunner(Settings settings) {
    this(settings, CheckSandbox.none("Warden's own command, no sandbox configured for this runner"));
  }

  /** A runner whose every command runs in {@code sandbox} ({@link CheckSandbox}). */
  public CheckRunner(Settings settings, CheckSandbox sandbox) {
    this.settings = settings;
    this.environment = environment(System.getenv(), settings.environment());
    this.sandbox = sandbox;
  }

  /** {@link #run(String, List, Path, Duration, CheckSandbox.Scope)} with the default scope: no repository, default rules. */
  public CheckResult run(String name, List<String> argv, Path directory, Duration timeout)
      throws IOException, InterruptedException {
    return run(name, argv, directory, timeout, CheckSandbox.Scope.defaults());
  }

  /**
   * Runs {@code argv} in {@code directory} for at most {@code timeout}. A command that cannot be
   * found or executed is a failed check (exit 127 or 126 with setsid's message as output), not an
   * exception; {@link IOException} means the runner itself could not start anything (no setsid, no
   * such directory).
   *
   * <p>With a sandbox ({@link CheckSandbox}), {@code argv} runs inside bubblewrap confined to
   * {@code directory} and {@code scope}; the result's {@link CheckResult#sandbox()} says how, and what
   * the command was denied shows in its output as the system's own errors ({@code Read-only file
   * system}, {@code No such file or directory}). A sandbox that is required but cannot be made gives a
   * failed result (exit 126) saying so, with nothing run.
   */
  public CheckResult run(String name, List<String> argv, Path directory, Duration timeout, CheckSandbox.Scope scope)
      throws IOException, InterruptedException {
    if (argv.isEmpty() || argv.get(0).isBlank()) {
      throw new IllegalArgumentException("check " + name + " has no command");
    }
    if (timeout.isZero() || timeout.isNegative()) {
      throw new IllegalArgumentException("check " + name + " needs a positive timeout, got " + timeout);
    }
    if (Thread.interrupted()) {
      throw new InterruptedException("check " + name + " cancelled before it started");
    }
    long started = System.nanoTime();
    CheckSandbox.Launch launch = sandbox.prepare(argv, directory, scope);
    if (launch.refusal().isPresent()) {
      log.warn("check {}: {}", name, launch.refusal().get());
      return new CheckResult(name, argv, NOT_RUN, false, 0, "warden: " + launch.refusal().get() + "\n", "", 0,
          launch.description());
    }
    BoundedOutput output = new BoundedOutput(settings.headBytes(), settings.tailBytes());
    ProcessGroup group = ProcessGroup.startMerged(launch.argv(), directory, environment);
    Thread reader = output.drain(group.stdout(), "check-output-" + name);
    Integer exitCode = null;
    boolean timedOut = false;
    boolean ended = false;
    try {
      if (group.waitFor(timeout)) {
        exitCode = group.waitFor();
        if (group.hasLiveMembers()) {
          log.debug("check {} exited {} leaving processes in group {}; ending them", name, exitCode, group.pgid());
          group.terminate(settings.killGrace());
        }
      } else {
        timedOut = true;
        log.info("check {} still running after {} ms; ending process group {}", name, timeout.toMillis(), group.pgid());
        group.terminate(settings.killGrace());
      }
      ended = true;
    } finally {
      if (!ended) { // interrupted (cancelled) or something broke: the group must not outlive us
        endQuietly(name, group);
      }
    }
    awaitGone(name, group);
    reader.join(READER_EXIT.toMillis());
    if (reader.isAlive()) {
      log.warn("check {}: a process outside its group still holds the output open; returning what was read", name);
    }
    long durationMs = (System.nanoTime() - started) / 1_000_000;
    return new CheckResult(name, argv, exitCode, timedOut, durationMs, BoundedOutput.text(output.headBytes()),
        BoundedOutput.text(output.tailBytes()), output.droppedBytes(), launch.description());
  }

  /**
   * Ends the group whatever happens to this thread meanwhile; the exception that brought us here
   * propagates afterwards. A further interrupt skips the grace and goes straight to SIGKILL, and is
   * remembered in the thread's flag.
   */
  private void endQuietly(String name, ProcessGroup group) {
    boolean interruptedAgain = false;
    Duration grace = settings.killGrace();
    for (int attempt = 0; attempt < 3; attempt++) {
      try {
        group.terminate(grace);
        break;
      } catch (InterruptedException e) {
        interruptedAgain = true;
        grace = Duration.ZERO;
      } catch (RuntimeException e) {
        log.warn("check {}: could not end process group {}: {}", name, group.pgid(), e.getMessage());
        grace = Duration.ZERO;
      }
    }
    long deadline = System.nanoTime() + GROUP_EXIT.toNanos();
    while (group.hasLiveMembers() && System.nanoTime() < deadline) {
      if (Thread.interrupted()) {
        interruptedAgain = true;
      }
      LockSupport.parkNanos(10_000_000L);
    }
    if (interruptedAgain) {
      Thread.currentThread().interrupt();
    }
  }

  /** SIGKILL is delivered asynchronously: members linger in /proc for a moment after it. */
  private static void awaitGone(String name, ProcessGroup group) throws InterruptedException {
    long deadline = System.nanoTime() + GROUP_EXIT.toNanos();
    while (group.hasLiveMembers()) {
      if (System.nanoTime() > deadline) {
        log.warn("check {}: processes {} of group {} survived SIGKILL (uninterruptible sleep?)", name, group.livePids(),
            group.pgid());
        return;
      }
      Thread.sleep(10);
    }
  }

  /** {@code inherited} without the dropped prefixes, then {@code overrides}. */
  static Map<String, String> environment(Map<String, String> inherited, Map<String, String> overrides) {
    Map<String, String> env = new HashMap<>(inherited);
    env.keySet().removeIf(key -> DROPPED_PREFIXES.stream().anyMatch(key::startsWith));
    env.putAll(overrides);
    return Map.copyOf(env);
  }
}
