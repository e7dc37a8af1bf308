package dev.warden.watchdog;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.time.Duration;

/** {@code warden.watchdog}: debounce windows and the fallback scan interval. */
public record WatchdogSettings(Duration quietWindow, Duration maxDelay, Duration degradedScanInterval) {

  public static WatchdogSettings fromConfig(Config warden) {
    Config c = warden.getConfig("watchdog");
    WatchdogSettings settings = new WatchdogSettings(c.getDuration("quiet-window"), c.getDuration("max-delay"),
        c.getDuration("degraded-scan-interval"));
    if (settings.maxDelay.compareTo(settings.quietWindow) < 0) {
      throw new ConfigException.BadValue("warden.watchdog.max-delay", "must not be shorter than quiet-window");
    }
    return settings;
  }
}
