package dev.warden.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The wrapper's side of {@code warden.agent.v1} (docs/agent-protocol.md): the JSON it sends, and a
 * readable line for each note Warden sends that a person at the terminal should see.
 */
final class AgentProtocol {

  static final String PROTOCOL = "warden.agent.v1";
  static final String HEARTBEAT = "{\"type\":\"heartbeat\"}";

  private static final ObjectMapper JSON = new ObjectMapper();

  private AgentProtocol() {}

  static String hello(String agent, String version, long pid) {
    ObjectNode hello = message("hello").put("agent", agent).put("version", version).put("pid", pid);
    hello.putArray("capabilities").add("pause");
    return write(hello);
  }

  /** {@code hello} with {@code sandbox}: "bubblewrap", or "none" and {@code sandboxReason}. */
  static String hello(String agent, String version, long pid, String sandbox, Optional<String> sandboxReason) {
    ObjectNode hello = message("hello").put("agent", agent).put("version", version).put("pid", pid);
    hello.putArray("capabilities").add("pause");
    hello.put("sandbox", sandbox);
    sandboxReason.ifPresent(reason -> hello.put("sandboxReason", reason));
    return write(hello);
  }

  static String ack(String id, String state) {
    return write(message("ack").put("id", id).put("state", state));
  }

  static String log(String stream, String line) {
    return write(message("log").put("stream", stream).put("line", line));
  }

  /** The command exited with {@code code}: sent before the connection closes, so Warden does not wait for an ack. */
  static String exit(int code) {
    return write(message("exit").put("code", code));
  }

  /** A question of the command's, relayed from {@code warden ask} ({@link AskChannel}). */
  static String question(String id, String text) {
    return write(message("question").put("id", id).put("text", text));
  }

  static String propose(String description) {
    return write(message("propose").put("description", description));
  }

  /** One JSON object, or empty when the text is not one. */
  static Optional<JsonNode> parse(String text) {
    try {
      JsonNode node = JSON.readTree(text);
      return node != null && node.isObject() ? Optional.of(node) : Optional.empty();
    } catch (JsonProcessingException e) {
      return Optional.empty();
    }
  }

  /** The message's {@code type}, or "" when it has none. */
  static String type(JsonNode message) {
    return text(message, "type").orElse("");
  }

  static Optional<String> text(JsonNode message, String field) {
    JsonNode value = message.get(field);
    return value != null && value.isTextual() ? Optional.of(value.textValue()) : Optional.empty();
  }

  /** What the operator should read about {@code violation}, {@code rollback}, {@code message}, {@code answer}, {@code error}. */
  static String describe(JsonNode message) {
    String type = type(message);
    return switch (type) {
      case "message" -> text(message, "from").map(from -> from + " writes: ").orElse("") + text(message, "text").orElse("(empty message)");
      case "answer" -> "answer to " + text(message, "id").orElse("?") + ": " + text(message, "text").orElse("");
      case "error" -> "Warden reports an error: " + text(message, "message").orElse("(no message)")
          + text(message, "ref").map(ref -> " (about '" + ref + "')").orElse("");
      case "rollback" -> rollback(message);
      case "violation" -> violation(message);
      default -> "ignoring a message of unknown type '" + type + "': " + message;
    };
  }

  private static String rollback(JsonNode message) {
    List<String> paths = strings(message.get("paths"));
    return "files were rolled back to checkpoint " + scalar(message.get("checkpoint")) + ": "
        + (paths.isEmpty() ? "everything" : String.join(", ", paths));
  }

  private static String violation(JsonNode message) {
    StringBuilder line = new StringBuilder("violation")
        .append(message.hasNonNull("checkpoint") ? " at checkpoint " + scalar(message.get("checkpoint")) : "")
        .append(" (").append(text(message, "severity").orElse("?"))
        .append(", action ").append(text(message, "action").orElse("none")).append(")");
    JsonNode violations = message.get("violations");
    if (violations instanceof ArrayNode array) {
      for (JsonNode v : array) {
        line.append("; ").append(text(v, "rule").orElse("?"));
        text(v, "path").ifPresent(path -> line.append(" ").append(path));
        text(v, "message").ifPresent(text -> line.append(": ").append(text));
      }
    }
    return line.toString();
  }

  private static List<String> strings(JsonNode array) {
    List<String> strings = new ArrayList<>();
    if (array instanceof ArrayNode elements) {
      elements.forEach(e -> strings.add(e.asText()));
    }
    return strings;
  }

  private static String scalar(JsonNode value) {
    return value == null || value.isNull() ? "?" : value.asText();
  }

  private static ObjectNode message(String type) {
    return JSON.createObjectNode().put("type", type);
  }

  private static String write(ObjectNode node) {
    try {
      return JSON.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write " + node.get("type") + " message", e);
    }
  }
}
