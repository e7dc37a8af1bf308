package dev.warden.policy;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import dev.warden.plan.PathGlob;
import dev.warden.plan.Tier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Reads a policy file into a {@link Policy}. The file is HOCON ({@code conf/policy.conf}), not YAML:
 * Typesafe Config is already on the classpath and YAML would need a new dependency for one file.
 *
 * <pre>
 * rules = [ { paths = "docs/**", tier = low }, { paths = ["src/**", "pom.xml"], tier = medium } ]
 * tiers { medium { review-window = 24h }, high { approvers = 1 }, expiry = 7d }
 * </pre>
 *
 * Strict: every problem is reported, each naming its key path and rule index
 * ({@code rules[2].tier: must be low, medium or high, not 'urgent' (line 4)}); unknown keys are
 * rejected so a typo never silently falls back to a default; globs are checked by
 * {@link PathGlob#compile}. A rule whose {@code paths} is a list becomes one rule per glob, in order,
 * all with the rule's index. The file stands alone: it does not include {@code application.conf}.
 */
public final class PolicyFile {

  private static final Set<String> ROOT_KEYS = Set.of("rules", "tiers");
  private static final Set<String> RULE_KEYS = Set.of("paths", "tier");
  private static final Set<String> TIERS_KEYS = Set.of("medium", "high", "expiry");
  private static final Set<String> MEDIUM_KEYS = Set.of("review-window");
  private static final Set<String> HIGH_KEYS = Set.of("approvers");

  /** A policy file that cannot be read or is not valid; {@link #problems()} lists each problem. */
  public static final class InvalidPolicyException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final transient List<String> problems;

    InvalidPolicyException(Path file, List<String> problems) {
      super("policy file " + file + ": " + String.join("; ", problems));
      this.problems = List.copyOf(problems);
    }

    /** Each problem, starting with its key path ({@code rules[1].paths: ...}). */
    public List<String> problems() {
      return problems;
    }
  }

  private PolicyFile() {}

  /** Parses {@code file}; throws {@link InvalidPolicyException} naming every problem. */
  public static Policy parse(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new InvalidPolicyException(file, List.of("not a readable regular file"));
    }
    ConfigObject root;
    try {
      root = ConfigFactory.parseFile(file.toFile(),
              ConfigParseOptions.defaults().setSyntax(ConfigSyntax.CONF).setAllowMissing(false))
          .resolve()
          .root();
    } catch (ConfigException e) {
      throw new InvalidPolicyException(file, List.of("syntax: " + e.getMessage()));
    }
    List<String> problems = new ArrayList<>();
    unknownKeys(root, "", ROOT_KEYS, problems);
    List<Policy.Rule> rules = rules(root.get("rules"), problems);
    Policy defaults = Policy.defaults();
    Duration review = defaults.mediumReviewWindow();
    int approvers = defaults.highApprovers();
    Duration expiry = defaults.expiry();
    ConfigObject tiers = object(root.get("tiers"), "tiers", problems);
    if (tiers != null) {
      unknownKeys(tiers, "tiers.", TIERS_KEYS, problems);
      ConfigObject medium = object(tiers.get("medium"), "tiers.medium", problems);
      if (medium != null) {
        unknownKeys(medium, "tiers.medium.", MEDIUM_KEYS, problems);
        Duration d = duration(medium.get("review-window"), "tiers.medium.review-window", false, problems);
        review = d != null ? d : review;
      }
      ConfigObject high = object(tiers.get("high"), "tiers.high", problems);
      if (high != null) {
        unknownKeys(high, "tiers.high.", HIGH_KEYS, problems);
        ConfigValue v = high.get("approvers");
        if (v != null) {
          if (v.valueType() == ConfigValueType.NUMBER && v.unwrapped() instanceof Integer n && n >= 1) {
            approvers = n;
          } else {
            problems.add("tiers.high.approvers: must be a whole number, at least 1, not " + shown(v) + line(v));
          }
        }
      }
      Duration d = duration(tiers.get("expiry"), "tiers.expiry", true, problems);
      expiry = d != null ? d : expiry;
    }
    if (!problems.isEmpty()) {
      throw new InvalidPolicyException(file, problems);
    }
    return new Policy(rules, review, approvers, expiry);
  }

  private static List<Policy.Rule> rules(ConfigValue value, List<String> problems) {
    List<Policy.Rule> rules = new ArrayList<>();
    if (value == null) {
      return rules;
    }
    if (!(value instanceof ConfigList list)) {
      problems.add("rules: must be a list of { paths, tier } objects, not " + shown(value) + line(value));
      return rules;
    }
    for (int i = 0; i < list.size(); i++) {
      String key = "rules[" + i + "]";
      ConfigValue element = list.get(i);
      if (!(element instanceof ConfigObject rule)) {
        problems.add(key + ": must be an object { paths = \"...\", tier = low | medium | high }, not " + shown(element)
            + line(element));
        continue;
      }
      unknownKeys(rule, key + ".", RULE_KEYS, problems);
      Tier tier = null;
      ConfigValue t = rule.get("tier");
      if (t == null) {
        problems.add(key + ".tier: missing (low, medium or high)" + line(rule));
      } else if (t.valueType() != ConfigValueType.STRING || Tier.fromLabel((String) t.unwrapped()).isEmpty()) {
        problems.add(key + ".tier: must be low, medium or high, not " + shown(t) + line(t));
      } else {
        tier = Tier.fromLabel((String) t.unwrapped()).orElseThrow();
      }
      List<PathGlob> globs = globs(rule.get("paths"), key + ".paths", rule, problems);
      if (tier != null) {
        for (PathGlob glob : globs) {
          rules.add(new Policy.Rule(i, glob, tier));
        }
      }
    }
    return rules;
  }

  /** "paths": one glob or a non-empty list of globs. */
  private static List<PathGlob> globs(ConfigValue value, String key, ConfigObject rule, List<String> problems) {
    List<PathGlob> globs = new ArrayList<>();
    if (value == null) {
      problems.add(key + ": missing (a glob such as \"src/**\", or a list of them)" + line(rule));
    } else if (value.valueType() == ConfigValueType.STRING) {
      glob(value, key, globs, problems);
    } else if (value instanceof ConfigList list && !list.isEmpty()) {
      for (int j = 0; j < list.size(); j++) {
        glob(list.get(j), key + "[" + j + "]", globs, problems);
      }
    } else {
      problems.add(key + ": must be a glob or a non-empty list of globs, not " + shown(value) + line(value));
    }
    return globs;
  }

  private static void glob(ConfigValue value, String key, List<PathGlob> out, List<String> problems) {
    if (value.valueType() != ConfigValueType.STRING) {
      problems.add(key + ": must be a glob in quotes, not " + shown(value) + line(value));
      return;
    }
    try {
      out.add(PathGlob.compile((String) value.unwrapped()));
    } catch (IllegalArgumentException e) {
      problems.add(key + ": " + e.getMessage() + line(value));
    }
  }

  private static ConfigObject object(ConfigValue value, String key, List<String> problems) {
    if (value == null) {
      return null;
    }
    if (value instanceof ConfigObject o) {
      return o;
    }
    problems.add(key + ": must be an object { ... }, not " + shown(value) + line(value));
    return null;
  }

  private static Duration duration(ConfigValue value, String key, boolean positive, List<String> problems) {
    if (value == null) {
      return null;
    }
    Duration d;
    try {
      // a bare number is milliseconds in HOCON; a policy of milliseconds is always a mistake
      if (value.valueType() != ConfigValueType.STRING) {
        throw new ConfigException.WrongType(value.origin(), key, "duration", value.valueType().name());
      }
      d = ConfigFactory.empty().withValue("d", value).getDuration("d");
    } catch (ConfigException e) {
      problems.add(key + ": must be a duration with a unit such as 30m, 24h or 7d, not " + shown(value) + line(value));
      return null;
    }
    if (d.isNegative() || (positive && d.isZero())) {
      problems.add(key + ": must be " + (positive ? "positive" : "zero or more") + ", not " + shown(value) + line(value));
      return null;
    }
    return d;
  }

  private static void unknownKeys(ConfigObject object, String prefix, Set<String> known, List<String> problems) {
    for (String k : object.keySet()) {
      if (!known.contains(k)) {
        problems.add(prefix + k + ": unknown key (known here: " + String.join(", ", known.stream().sorted().toList()) + ")"
            + line(object.get(k)));
      }
    }
  }

  private static String shown(ConfigValue value) {
    return switch (value.valueType()) {
      case STRING -> "'" + value.unwrapped() + "'";
      case OBJECT -> "an object";
      case LIST -> "a list";
      case NULL -> "null";
      default -> String.valueOf(value.unwrapped());
    };
  }

  private static String line(ConfigValue value) {
    int line = value.origin().lineNumber();
    return line > 0 ? " (line " + line + ")" : "";
  }
}
