package dev.warden.policy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds the current {@link Policy} read from one policy file, for the whole daemon; readers call
 * {@link #current()} from any thread. Created once at boot, from the configured path.
 *
 * <ul>
 *   <li>At construction: a missing file gives {@link Policy#defaults()} (everything high) and a log
 *       line; a bad file throws, so the daemon does not start on a policy the operator did not mean.
 *   <li>{@link #reloadIfChanged()} re-reads the file when its modification time, size or identity
 *       (inode) changed. A bad file keeps the last good policy, logs, and is reported by
 *       {@link #lastError()} until a good file replaces it; it is not re-read until it changes again.
 *       A file that disappears falls back to the defaults, as at start: stricter, never looser. An
 *       empty file (caught half-saved) is reported and skipped like a bad one.
 *   <li>{@link #startWatching} polls. It does not use a {@code WatchService}: the daemon's one inotify
 *       instance belongs to the watchdog, and one file polled every few seconds costs nothing.
 * </ul>
 */
public final class PolicyStore {

  private static final Logger log = LoggerFactory.getLogger(PolicyStore.class);

  /** What the file looked like when last read; null fields: the file was missing. */
  private record Stamp(Instant modified, long size, Object fileKey) {
    static final Stamp MISSING = new Stamp(null, -1, null);
  }

  private record State(Policy policy, Instant loadedAt, Optional<String> lastError, Stamp stamp) {}

  private final Path file;
  private volatile State state;

  /** Loads {@code file}; throws {@link PolicyFile.InvalidPolicyException} when it exists and is bad. */
  public PolicyStore(Path file) {
    this.file = Objects.requireNonNull(file, "file");
    Stamp stamp = stamp();
    if (stamp == Stamp.MISSING) {
      log.info("no policy file at {}: every change is tier high until one is written", file);
      state = new State(Policy.defaults(), Instant.now(), Optional.empty(), stamp);
    } else {
      Policy policy = PolicyFile.parse(file);
      log.info("policy loaded from {}: {} rules", file, policy.rules().size());
      state = new State(policy, Instant.now(), Optional.empty(), stamp);
    }
  }

  public Path file() {
    return file;
  }

  /** The policy in force: the last good file's, or the defaults when there is no file. */
  public Policy current() {
    return state.policy();
  }

  /** When {@link #current()} was loaded. */
  public Instant loadedAt() {
    return state.loadedAt();
  }

  /** Why the file on disk is not in force, while it is bad; empty when the file in force is the file on disk. */
  public Optional<String> lastError() {
    return state.lastError();
  }

  /**
   * Re-reads the file if it changed since the last look; returns whether a new policy is in force.
   * Never throws for a bad file (see the class comment).
   */
  public synchronized boolean reloadIfChanged() {
    State before = state;
    Stamp stamp = stamp();
    if (stamp.equals(before.stamp())) {
      return false;
    }
    if (stamp == Stamp.MISSING) {
      log.warn("policy file {} is gone: every change is tier high until it is back", file);
      state = new State(Policy.defaults(), Instant.now(), Optional.empty(), stamp);
      return true;
    }
    if (stamp.size() == 0) {
      // caught between truncate and write (an editor saving in place): an empty file is never taken
      // as "no rules"; the next poll sees the content
      state = new State(before.policy(), before.loadedAt(), Optional.of(file + " is empty; keeping the last good policy"), stamp);
      log.warn("policy file {} is empty (being saved?); keeping the policy loaded at {}", file, before.loadedAt());
      return false;
    }
    try {
      Policy policy = PolicyFile.parse(file);
      state = new State(policy, Instant.now(), Optional.empty(), stamp);
      log.info("policy reloaded from {}: {} rules", file, policy.rules().size());
      return true;
    } catch (PolicyFile.InvalidPolicyException e) {
      state = new State(before.policy(), before.loadedAt(), Optional.of(e.getMessage()), stamp);
      log.warn("{}; keeping the policy loaded at {}", e.getMessage(), before.loadedAt());
      return false;
    }
  }

  /**
   * Polls the file every {@code interval} on {@code scheduler} until the returned future is cancelled.
   * A failure of one poll is logged and the next poll still runs.
   */
  public ScheduledFuture<?> startWatching(ScheduledExecutorService scheduler, Duration interval) {
    if (interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("interval must be positive: " + interval);
    }
    long ms = interval.toMillis();
    return scheduler.scheduleWithFixedDelay(() -> {
      try {
        reloadIfChanged();
      } catch (RuntimeException e) {
        log.warn("checking the policy file {} failed: {}", file, e.toString());
      }
    }, ms, ms, TimeUnit.MILLISECONDS);
  }

  private Stamp stamp() {
    try {
      BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
      return new Stamp(a.lastModifiedTime().toInstant(), a.size(), a.fileKey());
    } catch (NoSuchFileException e) {
      return Stamp.MISSING;
    } catch (IOException e) {
      // unreadable metadata: a distinct stamp so that parse() reports why
      return new Stamp(Instant.EPOCH, -2, e.toString());
    }
  }
}
