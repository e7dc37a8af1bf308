package dev.warden.agent;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.time.Duration;

/**
 * {@code warden.agent}: how Warden talks to a connected agent, and how much of what an agent sends
 * it holds: a message's size, a log line's length, the log kept per feature (lines and bytes), the
 * length of the other text fields, and the agent connections one token may hold.
 */
public record AgentSettings(
    Duration heartbeatInterval, Duration heartbeatTimeout, Duration ackDeadline, int ackTries, int logLinesKept,
    Duration reservationTimeout, long maxMessageBytes, int logLineMaxBytes, long logBytesKept, int maxTextBytes,
    int maxConnectionsPerToken, int maxOpenQuestions) {

  public static AgentSettings fromConfig(Config warden) {
    Config c = warden.getConfig("agent");
    AgentSettings settings = new AgentSettings(
        c.getDuration("heartbeat-interval"), c.getDuration("heartbeat-timeout"), c.getDuration("ack-deadline"),
        c.getInt("ack-tries"), c.getInt("log-lines-kept"), c.getDuration("reservation-timeout"),
        c.getBytes("max-message-bytes"), bytesAsInt(c, "log-line-max-bytes"), c.getBytes("log-bytes-kept"),
        bytesAsInt(c, "max-text-bytes"), c.getInt("max-connections-per-token"), c.getInt("max-open-questions"));
    if (settings.ackTries < 1) {
      throw new ConfigException.BadValue("warden.agent.ack-tries", "must be at least 1");
    }
    if (settings.heartbeatTimeout.compareTo(settings.heartbeatInterval) <= 0) {
      throw new ConfigException.BadValue("warden.agent.heartbeat-timeout", "must be longer than heartbeat-interval");
    }
    if (settings.logLinesKept < 1) {
      throw new ConfigException.BadValue("warden.agent.log-lines-kept", "must be at least 1");
    }
    if (settings.maxMessageBytes < 1024 || settings.maxMessageBytes > 64L * 1024 * 1024) {
      throw new ConfigException.BadValue("warden.agent.max-message-bytes", "must be between 1 KiB and 64 MiB");
    }
    if (settings.logLineMaxBytes < 80) {
      throw new ConfigException.BadValue("warden.agent.log-line-max-bytes", "must be at least 80 bytes");
    }
    if (settings.logBytesKept < settings.logLineMaxBytes) {
      throw new ConfigException.BadValue("warden.agent.log-bytes-kept", "must be at least log-line-max-bytes");
    }
    if (settings.maxTextBytes < 80) {
      throw new ConfigException.BadValue("warden.agent.max-text-bytes", "must be at least 80 bytes");
    }
    if (settings.maxConnectionsPerToken < 1) {
      throw new ConfigException.BadValue("warden.agent.max-connections-per-token", "must be at least 1");
    }
    if (settings.maxOpenQuestions < 1) {
      throw new ConfigException.BadValue("warden.agent.max-open-questions", "must be at least 1");
    }
    return settings;
  }

  private static int bytesAsInt(Config c, String key) {
    long value = c.getBytes(key);
    if (value > Integer.MAX_VALUE / 2) {
      throw new ConfigException.BadValue("warden.agent." + key, "is too large");
    }
    return (int) value;
  }
}
