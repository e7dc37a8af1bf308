package dev.warden.checkpoint;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.time.Duration;

/**
 * {@code warden.checkpoint}. {@code startWait}: how long a checkpoint, rollback or promotion asked of a
 * chain that is not started yet waits for its start (a feature just created has its chain started
 * right after it is recorded) before it is refused.
 */
public record CheckpointSettings(int fullScanEvery, long diffMaxBytes, int changesKeptPerCheckpoint, Duration startWait) {

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
    return new CheckpointSettings(every, c.getBytes("diff-max-bytes"), c.getInt("changes-kept-per-checkpoint"), startWait);
  }
}
