package dev.warden.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.function.Consumer;

/** Assembles a WebSocket's text frames into JSON messages for a test client. */
public final class JsonMessages {

  private static final ObjectMapper JSON = new ObjectMapper();
  private final StringBuilder partial = new StringBuilder();
  private final Consumer<JsonNode> sink;

  public JsonMessages(Consumer<JsonNode> sink) {
    this.sink = sink;
  }

  /** One frame of a text message; the whole message goes to the sink with its last frame. */
  public void onText(CharSequence data, boolean last) {
    partial.append(data);
    if (last) {
      try {
        sink.accept(JSON.readTree(partial.toString()));
      } catch (IOException e) {
        throw new IllegalStateException("not JSON: " + partial, e);
      }
      partial.setLength(0);
    }
  }
}
