package dev.warden.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Lenient reading of Warden's JSON answers for the command line: a field that is missing, null, blank
 * or of an unexpected type is simply absent, and fields the client does not know are ignored, so a
 * daemon a version ahead or behind never breaks the output. Times read as people read them.
 */
final class Answer {

  private Answer() {}

  /** A scalar field (string, number or boolean) as text, following nested objects; empty when absent or blank. */
  static Optional<String> field(JsonNode node, String... path) {
    JsonNode value = node;
    for (String name : path) {
      value = value == null ? null : value.get(name);
    }
    return value != null && value.isValueNode() && !value.isNull() && !value.asText().isBlank()
        ? Optional.of(value.asText()) : Optional.empty();
  }

  /** A field for a table cell: "-" when absent. */
  static String cell(JsonNode node, String... path) {
    return field(node, path).orElse("-");
  }

  /** An object field; empty when absent or not an object. */
  static Optional<JsonNode> object(JsonNode node, String name) {
    JsonNode value = node.get(name);
    return value != null && value.isObject() ? Optional.of(value) : Optional.empty();
  }

  /** The elements of an array field; none when it is absent or not an array. */
  static List<JsonNode> elements(JsonNode node, String name) {
    List<JsonNode> elements = new ArrayList<>();
    JsonNode array = node.get(name);
    if (array != null && array.isArray()) {
      array.forEach(elements::add);
    }
    return elements;
  }

  /** The scalar elements of an array field, as text. */
  static List<String> strings(JsonNode node, String name) {
    return elements(node, name).stream().filter(e -> e.isValueNode() && !e.isNull()).map(JsonNode::asText).toList();
  }

  /** An ISO-8601 time field; empty when absent or unreadable. */
  static Optional<Instant> instant(JsonNode node, String name) {
    return field(node, name).flatMap(text -> {
      try {
        return Optional.of(OffsetDateTime.parse(text).toInstant());
      } catch (DateTimeParseException e) {
        return Optional.empty();
      }
    });
  }

  /** A time field to the second, {@code 2026-11-21T12:00:00Z}; as Warden wrote it when it cannot be read. */
  static Optional<String> stamp(JsonNode node, String name) {
    return instant(node, name).map(at -> at.truncatedTo(ChronoUnit.SECONDS).toString()).or(() -> field(node, name));
  }

  /** A time field as {@code 2026-11-21T12:00:00Z (2h ago)}; as Warden wrote it when it cannot be read. */
  static Optional<String> when(JsonNode node, String name, Instant now) {
    return when(node, name, "", now);
  }

  /** The same with {@code words} after the time: {@code 2026-11-21T12:00:00Z by alice (2h ago)}. */
  static Optional<String> when(JsonNode node, String name, String words, Instant now) {
    return instant(node, name)
        .map(at -> at.truncatedTo(ChronoUnit.SECONDS) + words + " (" + relative(at, now) + ")")
        .or(() -> field(node, name).map(raw -> raw + words));
  }

  /** {@code 3h ago} or {@code in 3h}. */
  static String relative(Instant at, Instant now) {
    Duration delta = Duration.between(now, at);
    return delta.isNegative() ? span(delta.negated()) + " ago" : "in " + span(delta);
  }

  /** How long ago a time field was, for a table: {@code 3h}; "-" when absent. */
  static String age(JsonNode node, String name, Instant now) {
    return instant(node, name).map(at -> span(Duration.between(at, now))).orElse("-");
  }

  /** A rough length for people: 42s, 5m, 3h (up to two days), 9d. Negative reads as 0s. */
  static String span(Duration duration) {
    long seconds = Math.max(0, duration.getSeconds());
    if (seconds < 60) {
      return seconds + "s";
    }
    if (seconds < 3600) {
      return seconds / 60 + "m";
    }
    if (seconds < 48 * 3600) {
      return seconds / 3600 + "h";
    }
    return seconds / 86400 + "d";
  }

  /** A commit id cut to 12 hex digits: short enough to read, long enough to be unique in practice. */
  static String shortSha(String sha) {
    return sha.length() > 12 && sha.chars().allMatch(c -> Character.digit(c, 16) >= 0) ? sha.substring(0, 12) : sha;
  }

  static String abbreviate(String text, int max) {
    return text.length() <= max ? text : text.substring(0, max) + "...";
  }
}
