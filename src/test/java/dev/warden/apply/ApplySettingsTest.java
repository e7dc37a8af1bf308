package dev.warden.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;

/** {@code warden.apply.checked-out-target}: update by default, wait on request, anything else refused at startup. */
class ApplySettingsTest {

  private static Config warden(String extra) {
    return ConfigFactory.parseString(extra).withFallback(ConfigFactory.load()).resolve().getConfig("warden");
  }

  @Test
  void aCheckedOutTargetIsUpdatedByDefaultAndWaitsWhenAskedTo() {
    assertEquals(CheckedOutTargets.Policy.UPDATE, ApplySettings.fromConfig(warden("")).checkedOutTarget());
    assertEquals(CheckedOutTargets.Policy.WAIT,
        ApplySettings.fromConfig(warden("warden.apply.checked-out-target = WAIT")).checkedOutTarget());
  }

  @Test
  void anyOtherValueIsRefusedNamingTheKey() {
    ConfigException.BadValue bad = assertThrows(ConfigException.BadValue.class,
        () -> ApplySettings.fromConfig(warden("warden.apply.checked-out-target = force")));
    assertTrue(bad.getMessage().contains("warden.apply.checked-out-target") && bad.getMessage().contains("force"), bad.getMessage());
  }
}
