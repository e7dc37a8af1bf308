package dev.warden.checkpoint;

import akka.serialization.jackson.JacksonMigration;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Snapshots written before the chain's state was bounded (and moved to {@link CheckpointsState}):
 * class {@code Checkpoints$State} with every record ({@code {"setup": ..., "checkpoints": [...]}}).
 * Read as a {@link CheckpointsState.Started} that keeps the count and the newest
 * {@link CheckpointsState#RECENT_KEPT} records. An old snapshot always has a
 * setup: a chain's first event is its ChainStarted, and commands that come before it are stashed.
 * Registered under {@code akka.serialization.jackson.migrations} (serialization.conf).
 */
public final class CheckpointsStateMigration extends JacksonMigration {

  @Override
  public int currentVersion() {
    return 2;
  }

  @Override
  public String transformClassName(int fromVersion, String className) {
    return CheckpointsState.Started.class.getName();
  }

  @Override
  public JsonNode transform(int fromVersion, JsonNode json) {
    if (fromVersion >= 2 || !json.has("checkpoints")) {
      return json;
    }
    JsonNode all = json.get("checkpoints");
    ArrayNode recent = JsonNodeFactory.instance.arrayNode();
    int size = all.size();
    for (int i = Math.max(0, size - CheckpointsState.RECENT_KEPT); i < size; i++) {
      recent.add(all.get(i));
    }
    ObjectNode started = JsonNodeFactory.instance.objectNode();
    started.set("setup", json.get("setup"));
    started.put("count", size);
    started.set("recent", recent);
    return started;
  }
}
