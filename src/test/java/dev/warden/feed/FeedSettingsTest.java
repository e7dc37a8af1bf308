package dev.warden.feed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** {@code warden.feed} as shipped, and a bad value stopping startup with its key named. */
class FeedSettingsTest {

  private static Config warden(String overrides) {
    return ConfigFactory.parseString(overrides).withFallback(ConfigFactory.parseResources("application.conf")).resolve()
        .getConfig("warden");
  }

  @Test
  void theShippedDefaults() {
    FeedSettings settings = FeedSettings.fromConfig(warden(""));
    assertEquals(1000, settings.subscriberBuffer());
    assertEquals(Duration.ofSeconds(15), settings.keepAlive());
    assertEquals(500, settings.replayBatch());
    assertEquals(256, settings.hubBuffer());
    assertEquals(512, settings.maxSubscribers());
    assertEquals(128, settings.maxSubscribersPerToken());
    assertEquals(4096, settings.maxMessageBytes());
  }

  @Test
  void aBadValueNamesItsKey() {
    ConfigException bad = assertThrows(ConfigException.class, () -> FeedSettings.fromConfig(warden("warden.feed.hub-buffer = 100")));
    assertTrue(bad.getMessage().contains("warden.feed.hub-buffer"), bad.getMessage());
    bad = assertThrows(ConfigException.class, () -> FeedSettings.fromConfig(warden("warden.feed.subscriber-buffer = 0")));
    assertTrue(bad.getMessage().contains("warden.feed.subscriber-buffer"), bad.getMessage());
    bad = assertThrows(ConfigException.class, () -> FeedSettings.fromConfig(warden("warden.feed.max-subscribers-per-token = 600")));
    assertTrue(bad.getMessage().contains("warden.feed.max-subscribers-per-token"), bad.getMessage());
  }
}
