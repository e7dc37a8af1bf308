package dev.warden.apply;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.time.Duration;
import dev.warden.plan.Tier;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/** {@code warden.apply}: how proposals land and how long things wait. */
public record ApplySettings(
    MergeEngine.Mode mode,
    int maxRetries,
    Duration proposeWait,
    Duration verdictPoll,
    Duration deferredRetry,
    Duration historyRetention,
    long diffMaxBytes,
    Duration idleStop,
    Set<Tier> separationOfDuties,
    CheckedOutTargets.Policy checkedOutTarget) {

  public ApplySettings {
    separationOfDuties = separationOfDuties.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(separationOfDuties));
  }

  /** Updating a checked-out target's working tree (the default). */
  public ApplySettings(MergeEngine.Mode mode, int maxRetries, Duration proposeWait, Duration verdictPoll, Duration deferredRetry,
      Duration historyRetention, long diffMaxBytes, Duration idleStop, Set<Tier> separationOfDuties) {
    this(mode, maxRetries, proposeWait, verdictPoll, deferredRetry, historyRetention, diffMaxBytes, idleStop, separationOfDuties,
        CheckedOutTargets.Policy.UPDATE);
  }

  /** With separation of duties for the high tier only (the default). */
  public ApplySettings(MergeEngine.Mode mode, int maxRetries, Duration proposeWait, Duration verdictPoll, Duration deferredRetry,
      Duration historyRetention, long diffMaxBytes, Duration idleStop) {
    this(mode, maxRetries, proposeWait, verdictPoll, deferredRetry, historyRetention, diffMaxBytes, idleStop, Set.of(Tier.HIGH));
  }

  /** Whether the proposer of a proposal of {@code tier} is barred from approving it. */
  public boolean separates(Tier tier) {
    return separationOfDuties.contains(tier);
  }

  public static ApplySettings fromConfig(Config warden) {
    Config c = warden.getConfig("apply");
    MergeEngine.Mode mode = switch (c.getString("mode").toLowerCase(Locale.ROOT)) {
      case "merge" -> MergeEngine.Mode.MERGE;
      case "squash" -> MergeEngine.Mode.SQUASH;
      default -> throw new ConfigException.BadValue("warden.apply.mode", "must be \"merge\" or \"squash\", got \"" + c.getString("mode") + "\"");
    };
    int retries = c.getInt("max-retries");
    if (retries < 0 || retries > 100) {
      throw new ConfigException.BadValue("warden.apply.max-retries", "must be between 0 and 100");
    }
    return new ApplySettings(mode, retries, positive(c, "propose-wait"), positive(c, "verdict-poll"), positive(c, "deferred-retry"),
        positive(c, "history-retention"), c.getBytes("diff-max-bytes"), positive(c, "idle-stop"), separation(c), checkedOutTarget(c));
  }

  private static CheckedOutTargets.Policy checkedOutTarget(Config c) {
    String value = c.hasPath("checked-out-target") ? c.getString("checked-out-target") : "update";
    return switch (value.toLowerCase(Locale.ROOT)) {
      case "update" -> CheckedOutTargets.Policy.UPDATE;
      case "wait" -> CheckedOutTargets.Policy.WAIT;
      default -> throw new ConfigException.BadValue("warden.apply.checked-out-target", "must be \"update\" or \"wait\", got \""
          + value + "\"");
    };
  }

  private static Set<Tier> separation(Config c) {
    Set<Tier> tiers = EnumSet.noneOf(Tier.class);
    for (Tier tier : Tier.values()) {
      String key = "separation-of-duties." + tier.label();
      try {
        if (c.getBoolean(key)) {
          tiers.add(tier);
        }
      } catch (ConfigException.Missing e) {
        throw new ConfigException.BadValue("warden.apply." + key, "is required (true or false)");
      } catch (ConfigException.WrongType e) {
        throw new ConfigException.BadValue("warden.apply." + key, "must be true or false");
      }
    }
    return tiers;
  }

  /** Defaults for tests of the entity alone. */
  public static ApplySettings defaults() {
    return new ApplySettings(MergeEngine.Mode.SQUASH, 3, Duration.ofSeconds(10), Duration.ofSeconds(1), Duration.ofSeconds(30),
        Duration.ofDays(90), 2L << 20, Duration.ofMinutes(2));
  }

  private static Duration positive(Config c, String key) {
    Duration d = c.getDuration(key);
    if (d.isNegative() || d.isZero()) {
      throw new ConfigException.BadValue("warden.apply." + key, "must be a positive duration");
    }
    return d;
  }
}
