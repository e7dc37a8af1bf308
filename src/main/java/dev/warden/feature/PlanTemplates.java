package dev.warden.feature;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValueType;
import dev.warden.Rejection;
import dev.warden.http.JsonFields;
import dev.warden.plan.Plan;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Named plans the operator defines in {@code warden.plan-templates}: the way an agent-role caller
 * gets a feature with checks or a test command (which run code), since it may not write those
 * itself. Each template is a plan in the API's JSON shape, read and checked at start (a bad one
 * stops startup naming the key); {@code POST /api/v1/features} with {@code "planTemplate": "name"}
 * uses it. Config only, on purpose: whoever can edit the daemon's config already holds every key,
 * and there is no API write path to protect.
 */
public final class PlanTemplates {

  private final Map<String, Plan> templates;

  public PlanTemplates(Map<String, Plan> templates) {
    this.templates = Map.copyOf(templates);
  }

  public static PlanTemplates none() {
    return new PlanTemplates(Map.of());
  }

  /** Reads {@code warden.plan-templates}; throws naming the template and field of a bad one. */
  public static PlanTemplates fromConfig(Config warden, ObjectMapper mapper) {
    Map<String, Plan> templates = new TreeMap<>();
    if (!warden.hasPath("plan-templates")) {
      return none();
    }
    Config section = warden.getConfig("plan-templates");
    for (String name : section.root().keySet()) {
      String key = "warden.plan-templates." + name;
      if (!FeatureId.isValid(name)) {
        throw new ConfigException.BadValue(key, "template names are lowercase slugs (like feature ids)");
      }
      if (section.root().get(name).valueType() != ConfigValueType.OBJECT) {
        throw new ConfigException.BadValue(key, "must be a plan object");
      }
      String json = section.getConfig(com.typesafe.config.ConfigUtil.quoteString(name)).root().render(ConfigRenderOptions.concise());
      try {
        templates.put(name, FeatureJson.plan(JsonFields.parseObject(mapper, json, true)));
      } catch (Rejection e) {
        throw new ConfigException.BadValue(key, e.field().map(f -> f + ": ").orElse("") + e.getMessage());
      }
    }
    return new PlanTemplates(templates);
  }

  public Optional<Plan> get(String name) {
    return Optional.ofNullable(templates.get(name));
  }

  /** Every template by name, sorted. */
  public Map<String, Plan> all() {
    return new TreeMap<>(templates);
  }
}
