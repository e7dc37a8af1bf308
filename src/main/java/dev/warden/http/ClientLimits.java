package dev.warden.http;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.time.Duration;

/**
 * {@code warden.http}'s bounds on what a client may send or hold: the length of a free-text field
 * (reasons, descriptions, answers), the Retry-After of a 429, and how long and how many connections
 * may stay open without having sent a request.
 */
public record ClientLimits(int maxTextBytes, Duration retryAfter, Duration firstRequestTimeout, int maxNewConnections) {

  public static ClientLimits fromConfig(Config warden) {
    Config c = warden.getConfig("http");
    long text = c.getBytes("max-text-bytes");
    if (text < 80 || text > 1024 * 1024) {
      throw new ConfigException.BadValue("warden.http.max-text-bytes", "must be between 80 bytes and 1 MiB");
    }
    Duration retryAfter = c.getDuration("retry-after");
    if (retryAfter.toSeconds() < 1) {
      throw new ConfigException.BadValue("warden.http.retry-after", "must be at least 1s");
    }
    Duration firstRequest = c.getDuration("first-request-timeout");
    if (firstRequest.isNegative() || firstRequest.isZero()) {
      throw new ConfigException.BadValue("warden.http.first-request-timeout", "must be positive");
    }
    int maxNew = c.getInt("max-new-connections");
    if (maxNew < 1) {
      throw new ConfigException.BadValue("warden.http.max-new-connections", "must be at least 1");
    }
    return new ClientLimits((int) text, retryAfter, firstRequest, maxNew);
  }
}
