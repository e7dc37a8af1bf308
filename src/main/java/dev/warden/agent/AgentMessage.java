package dev.warden.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The messages an agent sends in protocol {@code warden.agent.v1} (docs/agent-protocol.md), parsed
 * strictly: a message that cannot be used becomes a {@link Malformed} naming the problem, never an
 * exception, so the connection stays up. Text is bounded: a {@code log} line longer than its limit
 * is cut (and says so), any other text field longer than its limit makes the message malformed.
 */
public sealed interface AgentMessage {

  /**
   * @param sandbox how the wrapper runs the agent: {@code "bubblewrap"} or {@code "none"}; empty when the
   *     agent did not say (an agent speaking the protocol itself, or an older wrapper)
   * @param sandboxReason why there is no sandbox, with {@code "none"}
   */
  record Hello(String agent, String version, Optional<Long> pid, List<String> capabilities, Optional<String> sandbox,
      Optional<String> sandboxReason) implements AgentMessage {
    public boolean canPause() {
      return capabilities.contains("pause");
    }

    /** Whether the agent says it is sandboxed; empty when it did not say. */
    public Optional<Boolean> sandboxed() {
      return sandbox.map(SANDBOX_BUBBLEWRAP::equals);
    }
  }

  String SANDBOX_BUBBLEWRAP = "bubblewrap";
  String SANDBOX_NONE = "none";
  /** A longer {@code sandboxReason} is cut: it is shown on the feature, the feed and the dashboard. */
  int MAX_SANDBOX_REASON = 500;

  record Ack(String id, String state) implements AgentMessage {}

  record Heartbeat() implements AgentMessage {}

  record Log(String stream, String line) implements AgentMessage {}

  record Question(String id, String text) implements AgentMessage {}

  record Propose(String description) implements AgentMessage {}

  record Patch(String diff) implements AgentMessage {}

  /** The agent's command exited with {@code code} (0 to 255; 128+N when signal N ended it): nothing is left to pause. */
  record Exit(int code) implements AgentMessage {}

  /** Not usable: {@code problem} says why, {@code ref} is the offending type or id when known. */
  record Malformed(String problem, String ref) implements AgentMessage {}

  ObjectMapper JSON = new ObjectMapper();

  /** Capabilities a {@code hello} may list. */
  int MAX_CAPABILITIES = 32;

  /** With limits that never bite: for tests of the protocol's shapes. */
  static AgentMessage parse(String text) {
    return parse(text, Integer.MAX_VALUE, Integer.MAX_VALUE);
  }

  /**
   * {@code maxTextBytes} bounds every text field but a log line and a patch's diff (the whole
   * message is bounded by the socket); a log line is cut at {@code logLineMaxBytes}.
   */
  static AgentMessage parse(String text, int maxTextBytes, int logLineMaxBytes) {
    JsonNode node;
    try {
      node = JSON.readTree(text);
    } catch (IOException e) {
      return new Malformed("not valid JSON", null);
    }
    if (node == null || !node.isObject()) {
      return new Malformed("a message must be a JSON object", null);
    }
    // a lone surrogate or NUL would reach an event (a question, a proposal) the journal cannot store
    java.util.Optional<String> badString = dev.warden.http.JsonFields.badString(node);
    if (badString.isPresent()) {
      return new Malformed(badString.get(), node.path("type").isTextual() ? dev.warden.http.JsonFields.printable(node.get("type").textValue()) : null);
    }
    JsonNode typeNode = node.get("type");
    if (typeNode == null || !typeNode.isTextual()) {
      return new Malformed("field 'type' is required and must be a string", null);
    }
    String type = typeNode.textValue();
    try {
      return switch (type) {
        case "hello" -> {
          Optional<String> sandbox = optionalText(node, "sandbox");
          if (sandbox.isPresent() && !sandbox.get().equals(SANDBOX_BUBBLEWRAP) && !sandbox.get().equals(SANDBOX_NONE)) {
            throw new BadField("field 'sandbox' must be \"bubblewrap\" or \"none\"");
          }
          Optional<String> reason = optionalText(node, "sandboxReason")
              .map(r -> r.length() > MAX_SANDBOX_REASON ? r.substring(0, MAX_SANDBOX_REASON) + "…" : r);
          yield new Hello(within(text(node, "agent"), "agent", maxTextBytes),
              within(optionalText(node, "version").orElse(""), "version", maxTextBytes),
              optionalLong(node, "pid"), capabilities(strings(node, "capabilities"), maxTextBytes), sandbox, reason);
        }
        case "ack" -> {
          String state = text(node, "state");
          if (!state.equals("paused") && !state.equals("running")) {
            throw new BadField("field 'state' must be \"paused\" or \"running\"");
          }
          yield new Ack(within(text(node, "id"), "id", maxTextBytes), state);
        }
        case "heartbeat" -> new Heartbeat();
        case "log" -> {
          String stream = optionalText(node, "stream").orElse("stdout");
          if (!stream.equals("stdout") && !stream.equals("stderr")) {
            throw new BadField("field 'stream' must be \"stdout\" or \"stderr\"");
          }
          yield new Log(stream, cutLine(text(node, "line"), logLineMaxBytes));
        }
        case "question" -> new Question(within(text(node, "id"), "id", maxTextBytes), within(text(node, "text"), "text", maxTextBytes));
        case "propose" -> new Propose(within(optionalText(node, "description").orElse(""), "description", maxTextBytes));
        case "patch" -> new Patch(text(node, "diff"));
        case "exit" -> {
          long code = optionalLong(node, "code").orElseThrow(() -> new BadField("field 'code' is required"));
          if (!node.get("code").canConvertToLong() || code < 0 || code > 255) { // 2^64+4 must not pass as 4
            throw new BadField("field 'code' must be an exit status from 0 to 255");
          }
          yield new Exit((int) code);
        }
        default -> {
          String shown = dev.warden.http.TextLimits.cut(type, 200);
          yield new Malformed("unknown message type '" + shown + "'", shown);
        }
      };
    } catch (BadField e) {
      return new Malformed(type + ": " + e.getMessage(), type); // a known type: short
    }
  }

  /** A line over the limit keeps its start and says how long it was. */
  static String cutLine(String line, int maxBytes) {
    if (!dev.warden.http.TextLimits.exceeds(line, maxBytes)) {
      return line;
    }
    return dev.warden.http.TextLimits.cut(line, maxBytes) + " [cut: the line had " + dev.warden.http.TextLimits.utf8Length(line)
        + " bytes, the limit is " + maxBytes + "]";
  }

  private static String within(String value, String field, int maxBytes) {
    if (dev.warden.http.TextLimits.exceeds(value, maxBytes)) {
      throw new BadField("field '" + field + "' is longer than the limit of " + maxBytes + " bytes");
    }
    return value;
  }

  private static List<String> capabilities(List<String> capabilities, int maxTextBytes) {
    if (capabilities.size() > MAX_CAPABILITIES) {
      throw new BadField("field 'capabilities' lists more than " + MAX_CAPABILITIES + " entries");
    }
    capabilities.forEach(c -> within(c, "capabilities", maxTextBytes));
    return capabilities;
  }

  private static String text(JsonNode node, String field) {
    return optionalText(node, field).orElseThrow(() -> new BadField("field '" + field + "' is required"));
  }

  private static Optional<String> optionalText(JsonNode node, String field) {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      return Optional.empty();
    }
    if (!value.isTextual()) {
      throw new BadField("field '" + field + "' must be a string");
    }
    return Optional.of(value.textValue());
  }

  private static Optional<Long> optionalLong(JsonNode node, String field) {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      return Optional.empty();
    }
    if (!value.isIntegralNumber()) {
      throw new BadField("field '" + field + "' must be a whole number");
    }
    return Optional.of(value.longValue());
  }

  private static List<String> strings(JsonNode node, String field) {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      return List.of();
    }
    if (!value.isArray()) {
      throw new BadField("field '" + field + "' must be an array of strings");
    }
    List<String> strings = new ArrayList<>();
    for (JsonNode element : value) {
      if (!element.isTextual()) {
        throw new BadField("field '" + field + "' must be an array of strings");
      }
      strings.add(element.textValue());
    }
    return List.copyOf(strings);
  }

  /** A field of a known message is missing or has the wrong type. */
  final class BadField extends RuntimeException {
    BadField(String message) {
      super(message, null, false, false);
    }
  }

  // ---- what Warden sends ----

  static String welcome(String feature, long heartbeatMs) {
    ObjectNode node = message("welcome");
    node.put("feature", feature);
    node.put("protocol", "warden.agent.v1");
    node.put("heartbeatMs", heartbeatMs);
    return node.toString();
  }

  static String pause(String id, String reason, long deadlineMs) {
    ObjectNode node = message("pause");
    node.put("id", id);
    node.put("reason", reason);
    node.put("deadlineMs", deadlineMs);
    return node.toString();
  }

  static String resume(String id) {
    ObjectNode node = message("resume");
    node.put("id", id);
    return node.toString();
  }

  static String text(String text) {
    ObjectNode node = message("message");
    node.put("text", text);
    return node.toString();
  }

  /** A person's note to the agent: a {@code message} whose optional {@code from} names the person's token. */
  static String text(String text, String from) {
    ObjectNode node = message("message");
    node.put("text", text);
    node.put("from", from);
    return node.toString();
  }

  static String answer(String id, String text) {
    ObjectNode node = message("answer");
    node.put("id", id);
    node.put("text", text);
    return node.toString();
  }

  static String error(String problem, String ref) {
    ObjectNode node = message("error");
    node.put("message", problem);
    if (ref != null) {
      node.put("ref", ref);
    }
    return node.toString();
  }

  static String rollback(long checkpoint, List<String> paths) {
    ObjectNode node = message("rollback");
    node.put("checkpoint", checkpoint);
    ArrayNode array = node.putArray("paths");
    paths.forEach(array::add);
    return node.toString();
  }

  /** One violation as the agent sees it. */
  record ViolationNote(String rule, String path, String severity, String message) {}

  static String violation(Optional<Long> checkpoint, String severity, List<ViolationNote> violations, String action) {
    ObjectNode node = message("violation");
    if (checkpoint.isPresent()) {
      node.put("checkpoint", checkpoint.get());
    } else {
      node.putNull("checkpoint");
    }
    node.put("severity", severity);
    ArrayNode array = node.putArray("violations");
    for (ViolationNote v : violations) {
      ObjectNode item = array.addObject();
      item.put("rule", v.rule());
      item.put("path", v.path());
      item.put("severity", v.severity());
      item.put("message", v.message());
    }
    node.put("action", action);
    return node.toString();
  }

  private static ObjectNode message(String type) {
    ObjectNode node = JSON.createObjectNode();
    node.put("type", type);
    return node;
  }
}
