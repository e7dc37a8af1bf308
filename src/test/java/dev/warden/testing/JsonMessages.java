package dev.warden.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.function.Consumer;

/**
 * Assembles a WebSocket's text frames into JSON messages for a test client: one JSON value per
 * message, or (for the feed's {@code batch=true}) one per line of a message.
 */
public final class JsonMessages {

  private static final ObjectMapper JSON = new ObjectMapper();
  private final StringBuilder partial = new StringBuilder();
  private final Consumer<JsonNode> sink;
  private final boolean lines;
  private volatile int mostLines;

  public JsonMessages(Consumer<JsonNode> sink) {
    this(sink, false);
  }

  private JsonMessages(Consumer<JsonNode> sink, boolean lines) {
    this.sink = sink;
    this.lines = lines;
  }

  /** Messages of JSON lines: each line goes to the sink on its own. */
  public static JsonMessages lines(Consumer<JsonNode> sink) {
    return new JsonMessages(sink, true);
  }

  /** One frame of a text message; the whole message goes to the sink with its last frame. */
  public void onText(CharSequence data, boolean last) {
    partial.append(data);
    if (last) {
      String message = partial.toString();
      partial.setLength(0);
      if (!lines) {
        sink.accept(parse(message));
        return;
      }
      String[] each = message.split("\n", -1);
      mostLines = Math.max(mostLines, each.length);
      for (String line : each) {
        sink.accept(parse(line));
      }
    }
  }

  /** The most JSON lines one message has carried so far. */
  public int mostLines() {
    return mostLines;
  }

  private static JsonNode parse(String text) {
    try {
      return JSON.readTree(text);
    } catch (IOException e) {
      throw new IllegalStateException("not JSON: " + text, e);
    }
  }
}
