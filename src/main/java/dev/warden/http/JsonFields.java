package dev.warden.http;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.Rejection;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
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

  /**
   * Parses a whole body, which must be one JSON object; an empty body reads as {@code {}} when allowed.
   * Strict beyond JSON's grammar: nothing may follow the object, no object may repeat a key, and no
   * string (value or key) may hold a lone UTF-16 surrogate or NUL; each refusal names the field.
   */
  public static JsonFields parseObject(ObjectMapper mapper, String body, boolean emptyAllowed) {
    if (body.isBlank()) {
      if (emptyAllowed) {
        return new JsonFields(mapper.createObjectNode(), "");
      }
      throw Rejection.invalid("body", "a JSON object is required");
    }
    JsonNode parsed;
    try (JsonParser parser = mapper.getFactory().createParser(body)) {
      parser.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
      try {
        parsed = mapper.readTree(parser);
      } catch (IOException e) {
        // a repeated key, or a raw control character inside a string: the field is known; else the body
        String message = String.valueOf(e.getMessage());
        boolean inField = message.startsWith("Duplicate field") || message.startsWith("Illegal unquoted character");
        throw Rejection.invalid(inField ? pathAt(parser.getParsingContext(), true) : "body",
            "is not valid JSON: " + firstLine(message));
      }
      if (parsed == null || !parsed.isObject()) {
        throw Rejection.invalid("body", "must be a JSON object");
      }
      JsonToken trailing;
      try {
        trailing = parser.nextToken();
      } catch (IOException e) {
        trailing = JsonToken.NOT_AVAILABLE;
      }
      if (trailing != null) {
        throw Rejection.invalid("body", "has content after the JSON object (at character " + parser.currentLocation().getCharOffset()
            + "); send exactly one object");
      }
    } catch (IOException e) {
      throw Rejection.invalid("body", "is not valid JSON: " + firstLine(e.getMessage()));
    }
    checkStrings(parsed, "");
    return new JsonFields((ObjectNode) parsed, "");
  }

  /**
   * Refuses a body that is not valid UTF-8 (a stray byte like 0xff, an overlong form, an encoded
   * surrogate), naming the field whose text holds the first bad byte; else the decoded text.
   * Decoding with replacement characters would silently change what the caller sent.
   */
  public static String decodeUtf8(byte[] bytes) {
    CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(bytes);
    CharBuffer out = CharBuffer.allocate(bytes.length);
    CoderResult result = decoder.decode(in, out, true);
    if (result.isUnderflow()) {
      result = decoder.flush(out);
    }
    if (result.isError()) {
      int offset = in.position();
      out.flip();
      String field = fieldBefore(out.toString());
      throw Rejection.invalid(field, "is not valid UTF-8: byte 0x" + String.format("%02x", bytes[offset] & 0xff)
          + " at offset " + offset + " of the body; send UTF-8 text");
    }
    out.flip();
    return out.toString();
  }

  /** The field whose text {@code prefix} (a body cut at a bad byte) ends inside, found by parsing as far as it goes. */
  private static String fieldBefore(String prefix) {
    try (JsonParser parser = PREFIX_FACTORY.createParser(prefix)) {
      JsonToken last = null;
      try {
        for (JsonToken token = parser.nextToken(); token != null; token = parser.nextToken()) {
          if (token == JsonToken.VALUE_STRING) {
            parser.getText(); // a string's text is read lazily: read it here, where the cut is
          }
          last = token;
        }
      } catch (IOException e) {
        // the cut, inside a string: the context says where
      }
      JsonStreamContext context = parser.getParsingContext();
      // in an object, the cut is in a value right after its key, or else in a key: then name the object
      return pathAt(context, !context.inObject() || last == JsonToken.FIELD_NAME);
    } catch (IOException e) {
      return "body";
    }
  }

  private static final com.fasterxml.jackson.core.JsonFactory PREFIX_FACTORY = new com.fasterxml.jackson.core.JsonFactory();

  /** The dotted path ({@code plan.checks[0].argv}) of where a parser stands; {@code body} at the top. */
  private static String pathAt(JsonStreamContext context, boolean withCurrentName) {
    List<String> segments = new ArrayList<>();
    for (JsonStreamContext c = context; c != null && !c.inRoot(); c = c.getParent()) {
      if (c == context && c.inObject() && !withCurrentName) {
        continue;
      }
      if (c.inArray()) {
        segments.add(0, "[" + Math.max(c.getCurrentIndex(), 0) + "]");
      } else if (c.getCurrentName() != null) {
        segments.add(0, "." + printable(c.getCurrentName()));
      }
    }
    String path = String.join("", segments);
    if (path.startsWith(".")) {
      path = path.substring(1);
    }
    return path.isEmpty() || path.startsWith("[") ? "body" + path : path;
  }

  /**
   * What is wrong with the first string or key of {@code node} that holds a lone surrogate or NUL
   * ({@code field 'path' contains ...}), for JSON read elsewhere than a request body (agent messages).
   */
  public static Optional<String> badString(JsonNode node) {
    try {
      checkStrings(node, "");
      return Optional.empty();
    } catch (Rejection rejection) {
      return Optional.of("field '" + rejection.field().orElse("body") + "' " + rejection.getMessage());
    }
  }

  /**
   * Every key and string value, depth first: a lone surrogate (half of a UTF-16 pair, which no
   * UTF-8 text can carry and the journal cannot store) or a NUL is refused, naming its path.
   */
  private static void checkStrings(JsonNode node, String path) {
    if (node.isTextual()) {
      String problem = stringProblem(node.textValue());
      if (problem != null) {
        throw Rejection.invalid(path.isEmpty() ? "body" : path, problem);
      }
    } else if (node.isObject()) {
      Iterator<java.util.Map.Entry<String, JsonNode>> fields = node.fields();
      while (fields.hasNext()) {
        var field = fields.next();
        String fieldPath = path.isEmpty() ? printable(field.getKey()) : path + "." + printable(field.getKey());
        String problem = stringProblem(field.getKey());
        if (problem != null) {
          throw Rejection.invalid(fieldPath, "the key " + problem);
        }
        checkStrings(field.getValue(), fieldPath);
      }
    } else if (node.isArray()) {
      for (int i = 0; i < node.size(); i++) {
        checkStrings(node.get(i), (path.isEmpty() ? "body" : path) + "[" + i + "]");
      }
    }
  }

  /** Why {@code text} cannot be accepted (a lone surrogate, a NUL), or null. */
  static String stringProblem(String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == 0) {
        return "contains NUL (\\u0000) at character " + i + "; text may not hold NUL";
      }
      if (Character.isHighSurrogate(c)) {
        if (i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
          i++;
          continue;
        }
        return "contains a lone surrogate (" + escape(c) + ") at character " + i + "; send valid Unicode";
      }
      if (Character.isLowSurrogate(c)) {
        return "contains a lone surrogate (" + escape(c) + ") at character " + i + "; send valid Unicode";
      }
    }
    return null;
  }

  /** {@code text} with lone surrogates and control characters written as a backslash-u escape ({@code \\u} and four hex digits), safe to echo back. */
  public static String printable(String text) {
    StringBuilder out = new StringBuilder(text.length());
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
        out.append(c).append(text.charAt(++i));
      } else if (Character.isSurrogate(c) || Character.isISOControl(c)) {
        out.append(escape(c));
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }

  private static String escape(char c) {
    return String.format("\\u%04x", (int) c);
  }

  /** Rejects any key not in {@code allowed}. */
  public JsonFields onlyKeys(Set<String> allowed) {
    Iterator<String> names = node.fieldNames();
    while (names.hasNext()) {
      String name = names.next();
      if (!allowed.contains(name)) {
        throw Rejection.invalid(pathOf(name), allowed.isEmpty() ? "is not a known field (this request takes no fields: send no body, or {})"
            : "is not a known field (known: " + String.join(", ", allowed.stream().sorted().toList()) + ")");
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
