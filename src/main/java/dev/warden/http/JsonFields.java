package dev.warden.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.Rejection;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Reads request bodies field by field so every rejection names the exact field (dotted path, e.g.
 * {@code plan.limits.maxChangedLines}) and what was wrong with it. Strict: unknown keys and wrong
 * types are errors, never coerced.
 */
public final class JsonFields {

  private final ObjectNode node;
  private final String path;

  private JsonFields(ObjectNode node, String path) {
    this.node = node;
    this.path = path;
  }

  /** Parses a whole body, which must be one JSON object; an empty body reads as {@code {}} when allowed. */
  public static JsonFields parseObject(ObjectMapper mapper, String body, boolean emptyAllowed) {
    if (body.isBlank()) {
      if (emptyAllowed) {
        return new JsonFields(mapper.createObjectNode(), "");
      }
      throw Rejection.invalid("body", "a JSON object is required");
    }
    JsonNode parsed;
    try {
      parsed = mapper.readTree(body);
    } catch (IOException e) {
      throw Rejection.invalid("body", "is not valid JSON: " + firstLine(e.getMessage()));
    }
    if (parsed == null || !parsed.isObject()) {
      throw Rejection.invalid("body", "must be a JSON object");
    }
    return new JsonFields((ObjectNode) parsed, "");
  }

  /** Rejects any key not in {@code allowed}. */
  public JsonFields onlyKeys(Set<String> allowed) {
    Iterator<String> names = node.fieldNames();
    while (names.hasNext()) {
      String name = names.next();
      if (!allowed.contains(name)) {
        throw Rejection.invalid(pathOf(name), "is not a known field (known: " + String.join(", ", allowed.stream().sorted().toList()) + ")");
      }
    }
    return this;
  }

  public String requiredText(String key) {
    return optionalText(key).orElseThrow(() -> Rejection.invalid(pathOf(key), "is required"));
  }

  public Optional<String> optionalText(String key) {
    JsonNode value = present(key);
    if (value == null) {
      return Optional.empty();
    }
    if (!value.isTextual()) {
      throw wrongType(key, "a string", value);
    }
    return Optional.of(value.textValue());
  }

  public Optional<Boolean> optionalBoolean(String key) {
    JsonNode value = present(key);
    if (value == null) {
      return Optional.empty();
    }
    if (!value.isBoolean()) {
      throw wrongType(key, "true or false", value);
    }
    return Optional.of(value.booleanValue());
  }

  public Optional<Long> optionalPositiveLong(String key) {
    JsonNode value = present(key);
    if (value == null) {
      return Optional.empty();
    }
    if (!value.isIntegralNumber() || !value.canConvertToLong()) {
      throw value.isNumber() ? Rejection.invalid(pathOf(key), "must be a whole number, got " + value.asText())
          : wrongType(key, "a whole number", value);
    }
    long number = value.longValue();
    if (number <= 0) {
      throw Rejection.invalid(pathOf(key), "must be greater than 0, got " + number);
    }
    return Optional.of(number);
  }

  public Optional<Long> optionalNonNegativeLong(String key) {
    JsonNode value = present(key);
    if (value == null) {
      return Optional.empty();
    }
    if (!value.isIntegralNumber() || !value.canConvertToLong() || value.longValue() < 0) {
      throw Rejection.invalid(pathOf(key), "must be a whole number, 0 or more, got " + value.asText());
    }
    return Optional.of(value.longValue());
  }

  public Optional<List<String>> optionalStrings(String key) {
    JsonNode value = present(key);
    if (value == null) {
      return Optional.empty();
    }
    if (!value.isArray()) {
      throw wrongType(key, "an array of strings", value);
    }
    List<String> strings = new ArrayList<>();
    for (int i = 0; i < value.size(); i++) {
      JsonNode element = value.get(i);
      if (!element.isTextual()) {
        throw Rejection.invalid(pathOf(key) + "[" + i + "]", "must be a string");
      }
      strings.add(element.textValue());
    }
    return Optional.of(strings);
  }

  public Optional<JsonFields> optionalObject(String key) {
    JsonNode value = present(key);
    if (value == null) {
      return Optional.empty();
    }
    if (!value.isObject()) {
      throw wrongType(key, "an object", value);
    }
    return Optional.of(new JsonFields((ObjectNode) value, pathOf(key)));
  }

  public Optional<List<JsonFields>> optionalObjects(String key) {
    JsonNode value = present(key);
    if (value == null) {
      return Optional.empty();
    }
    if (!value.isArray()) {
      throw wrongType(key, "an array of objects", value);
    }
    List<JsonFields> objects = new ArrayList<>();
    for (int i = 0; i < value.size(); i++) {
      JsonNode element = value.get(i);
      if (!element.isObject()) {
        throw Rejection.invalid(pathOf(key) + "[" + i + "]", "must be an object");
      }
      objects.add(new JsonFields((ObjectNode) element, pathOf(key) + "[" + i + "]"));
    }
    return Optional.of(objects);
  }

  /** The dotted path of {@code key} inside this object, as rejections name it. */
  public String pathOf(String key) {
    return path.isEmpty() ? key : path + "." + key;
  }

  /** A JSON null counts as absent. */
  private JsonNode present(String key) {
    JsonNode value = node.get(key);
    return value == null || value.isNull() ? null : value;
  }

  private Rejection wrongType(String key, String expected, JsonNode actual) {
    return Rejection.invalid(pathOf(key), "must be " + expected + ", got " + actual.getNodeType().name().toLowerCase());
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "";
    }
    int newline = message.indexOf('\n');
    return newline < 0 ? message : message.substring(0, newline);
  }
}
