package dev.warden.feed;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.time.Duration;

/** {@code warden.feed}: the live activity feed's buffers, timers and caps, checked at boot. */
public record FeedSettings(int subscriberBuffer, Duration keepAlive, int replayBatch, int hubBuffer,
    Duration restartMinBackoff, Duration restartMaxBackoff, int maxSubscribers, int maxSubscribersPerToken, long maxMessageBytes) {

  public static FeedSettings fromConfig(Config warden) {
    Config c = warden.getConfig("feed");
    FeedSettings settings = new FeedSettings(c.getInt("subscriber-buffer"), c.getDuration("keep-alive"),
        c.getInt("replay-batch"), c.getInt("hub-buffer"), c.getDuration("restart-backoff.min"),
        c.getDuration("restart-backoff.max"), c.getInt("max-subscribers"), c.getInt("max-subscribers-per-token"),
        c.getBytes("max-message-bytes"));
    if (settings.subscriberBuffer < 1) {
      throw new ConfigException.BadValue("warden.feed.subscriber-buffer", "must be at least 1");
    }
    if (settings.keepAlive.isNegative() || settings.keepAlive.isZero()) {
      throw new ConfigException.BadValue("warden.feed.keep-alive", "must be positive");
    }
    if (settings.replayBatch < 1 || settings.replayBatch > 10_000) {
      throw new ConfigException.BadValue("warden.feed.replay-batch", "must be between 1 and 10000");
    }
    if (settings.hubBuffer < 2 || Integer.bitCount(settings.hubBuffer) != 1 || settings.hubBuffer > 4096) {
      throw new ConfigException.BadValue("warden.feed.hub-buffer", "must be a power of two between 2 and 4096");
    }
    if (settings.restartMinBackoff.isNegative() || settings.restartMinBackoff.isZero()
        || settings.restartMaxBackoff.compareTo(settings.restartMinBackoff) < 0) {
      throw new ConfigException.BadValue("warden.feed.restart-backoff", "min must be positive and max not shorter than min");
    }
    if (settings.maxSubscribers < 1) {
      throw new ConfigException.BadValue("warden.feed.max-subscribers", "must be at least 1");
    }
    if (settings.maxSubscribersPerToken < 1 || settings.maxSubscribersPerToken > settings.maxSubscribers) {
      throw new ConfigException.BadValue("warden.feed.max-subscribers-per-token", "must be between 1 and max-subscribers");
    }
    if (settings.maxMessageBytes < 1 || settings.maxMessageBytes > 1024 * 1024) {
      throw new ConfigException.BadValue("warden.feed.max-message-bytes", "must be between 1 byte and 1 MiB");
    }
    return settings;
  }
}
