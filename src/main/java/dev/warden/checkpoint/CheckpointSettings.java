package dev.warden.checkpoint;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;

/** {@code warden.checkpoint}. */
public record CheckpointSettings(int fullScanEvery, long diffMaxBytes, int changesKeptPerCheckpoint) {

  public static CheckpointSettings fromConfig(Config warden) {
    Config c = warden.getConfig("checkpoint");
    int every = c.getInt("full-scan-every");
    if (every < 1) {
      throw new ConfigException.BadValue("warden.checkpoint.full-scan-every", "must be at least 1");
    }
    return new CheckpointSettings(every, c.getBytes("diff-max-bytes"), c.getInt("changes-kept-per-checkpoint"));
  }
}
