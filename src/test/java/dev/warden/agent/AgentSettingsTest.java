package dev.warden.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;

/** {@code warden.agent}'s limits as shipped, and a bad one stopping startup with its key named. */
class AgentSettingsTest {

  private static Config warden(String overrides) {
    return ConfigFactory.parseString(overrides).withFallback(ConfigFactory.parseResources("application.conf")).resolve()
        .getConfig("warden");
  }

  @Test
  void theShippedLimits() {
    AgentSettings settings = AgentSettings.fromConfig(warden(""));
    assertEquals(1000, settings.logLinesKept());
    assertEquals(256 * 1024, settings.logBytesKept());
    assertEquals(16 * 1024, settings.logLineMaxBytes());
    assertEquals(1024 * 1024, settings.maxMessageBytes());
    assertEquals(8 * 1024, settings.maxTextBytes());
    assertEquals(64, settings.maxConnectionsPerToken());
    assertEquals(20, settings.maxOpenQuestions());
  }

  @Test
  void aBadLimitNamesItsKey() {
    for (String bad : new String[] {"log-bytes-kept = 1k", "max-message-bytes = 100", "max-connections-per-token = 0",
        "log-line-max-bytes = 10", "max-text-bytes = 1", "max-open-questions = 0"}) {
      ConfigException e = assertThrows(ConfigException.class, () -> AgentSettings.fromConfig(warden("warden.agent." + bad)), bad);
      assertTrue(e.getMessage().contains("warden.agent." + bad.split(" ")[0]), e.getMessage());
    }
  }
}
