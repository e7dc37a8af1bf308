package dev.warden.checkpoint;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.time.Duration;

/**
 * {@code warden.checkpoint}. {@code startWait}: how long a checkpoint, rollback or promotion asked of a
 * chain that is not started yet waits for its start (a feature just created has its chain started
 * right after it is recorded) before it is refused. {@code maxFileBytes}: no capture reads a file
 * larger than this (nor the plan's {@code maxFileBytes}, when smaller): see {@link #capFor}.
 */
public record CheckpointSettings(int fullScanEvery, long diffMaxBytes, int changesKeptPerCheckpoint, Duration startWait,
    long maxFileBytes) {

  /** Settings without a cap of their own: only the plan's limit bounds what a capture reads. */
  public CheckpointSettings(int fullScanEvery, long diffMaxBytes, int changesKeptPerCheckpoint, Duration startWait) {
    this(fullScanEvery, diffMaxBytes, changesKeptPerCheckpoint, startWait, Long.MAX_VALUE);
  }

  /** The largest file a capture reads: the smaller of the plan's limit (if any) and {@code max-file-bytes}. */
  public static long capFor(java.util.Optional<Long> planLimit, long setting) {
    return planLimit.filter(limit -> limit >= 0).map(limit -> Math.min(limit, setting)).orElse(setting);
  }

  public long capFor(java.util.Optional<Long> planLimit) {
    return capFor(planLimit, maxFileBytes);
  }

  public static CheckpointSettings fromConfig(Config warden) {
    Config c = warden.getConfig("checkpoint");
    int every = c.getInt("full-scan-every");
    if (every < 1) {
      throw new ConfigException.BadValue("warden.checkpoint.full-scan-every", "must be at least 1");
    }
    Duration startWait = c.getDuration("start-wait");
    if (startWait.isNegative()) {
      throw new ConfigException.BadValue("warden.checkpoint.start-wait", "must not be negative");
    }
    long maxFileBytes = c.getBytes("max-file-bytes");
    if (maxFileBytes < 1) {
      throw new ConfigException.BadValue("warden.checkpoint.max-file-bytes", "must be at least 1 byte");
    }
    return new CheckpointSettings(every, c.getBytes("diff-max-bytes"), c.getInt("changes-kept-per-checkpoint"), startWait,
        maxFileBytes);
  }
}
