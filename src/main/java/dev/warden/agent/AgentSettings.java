package dev.warden.agent;

import com.typesafe.config.Config;
import java.time.Duration;

/** {@code warden.agent}: how Warden talks to a connected agent. */
public record AgentSettings(
    Duration heartbeatInterval, Duration heartbeatTimeout, Duration ackDeadline, int ackTries, int logLinesKept,
    Duration reservationTimeout) {

  public static AgentSettings fromConfig(Config warden) {
    Config c = warden.getConfig("agent");
    AgentSettings settings = new AgentSettings(
        c.getDuration("heartbeat-interval"), c.getDuration("heartbeat-timeout"), c.getDuration("ack-deadline"),
        c.getInt("ack-tries"), c.getInt("log-lines-kept"), c.getDuration("reservation-timeout"));
    if (settings.ackTries < 1) {
      throw new com.typesafe.config.ConfigException.BadValue("warden.agent.ack-tries", "must be at least 1");
    }
    if (settings.heartbeatTimeout.compareTo(settings.heartbeatInterval) <= 0) {
      throw new com.typesafe.config.ConfigException.BadValue("warden.agent.heartbeat-timeout", "must be longer than heartbeat-interval");
    }
    return settings;
  }
}
