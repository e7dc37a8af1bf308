package dev.warden.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A client of the live feed ({@code GET /api/v1/events}) over a real WebSocket, as a dashboard would
 * be. Events are queued as they arrive (each line of a batched message on its own); a client opened {@code paused} reads nothing from the socket
 * until {@link #resume()}, like a browser tab that froze.
 */
public final class FeedClient implements AutoCloseable {

  /** Queued after the last message when the server closes the connection. */
  public static final JsonNode CLOSED = new ObjectMapper().createObjectNode().put("type", "(closed)");

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient SHARED = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private final WebSocket socket;
  private final BlockingQueue<JsonNode> received;
  private final JsonMessages messages;

  private FeedClient(WebSocket socket, BlockingQueue<JsonNode> received, JsonMessages messages) {
    this.socket = socket;
    this.received = received;
    this.messages = messages;
  }

  /**
   * Connects to {@code /api/v1/events?<query>}; {@code bearer} goes in the Authorization header when
   * not null. Throws {@link ExecutionException} wrapping {@link WebSocketHandshakeException} when refused.
   */
  public static FeedClient connect(int port, String query, String bearer, boolean paused) throws Exception {
    BlockingQueue<JsonNode> queue = new LinkedBlockingQueue<>();
    // a message is one event, or with batch=true one event per line: read both as lines
    JsonMessages messages = JsonMessages.lines(queue::add);
    WebSocket.Listener listener = new WebSocket.Listener() {

      @Override
      public void onOpen(WebSocket webSocket) {
        if (!paused) {
          webSocket.request(Long.MAX_VALUE);
        }
      }

      @Override
      public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
        messages.onText(data, last);
        return null;
      }

      @Override
      public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
        queue.add(CLOSED);
        return null;
      }

      @Override
      public void onError(WebSocket webSocket, Throwable error) {
        queue.add(CLOSED);
      }
    };
    WebSocket.Builder builder = SHARED.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5));
    if (bearer != null) {
      builder.header("Authorization", "Bearer " + bearer);
    }
    String suffix = query.isEmpty() ? "" : "?" + query;
    WebSocket socket = builder.buildAsync(URI.create("ws://127.0.0.1:" + port + "/api/v1/events" + suffix), listener)
        .get(10, TimeUnit.SECONDS);
    return new FeedClient(socket, queue, messages);
  }

  public static FeedClient connect(int port, String query, String bearer) throws Exception {
    return connect(port, query, bearer, false);
  }

  /** The HTTP status of a refused handshake, or -1 when the feed accepted it. */
  public static int refusedStatus(int port, String query, String bearer) throws Exception {
    try (FeedClient client = connect(port, query, bearer)) {
      return -1;
    } catch (ExecutionException e) {
      if (e.getCause() instanceof WebSocketHandshakeException refused) {
        return refused.getResponse().statusCode();
      }
      throw e;
    }
  }

  /** The next message (or {@link #CLOSED}) within {@code millis}, else null. */
  public JsonNode poll(long millis) throws InterruptedException {
    return received.poll(millis, TimeUnit.MILLISECONDS);
  }

  /** The most events one message has carried (more than 1 only with {@code batch=true}). */
  public int mostEventsPerMessage() {
    return messages.mostLines();
  }

  /** Sends a text message (the feed reads and ignores what clients send, up to its limit). */
  public void send(String text) {
    socket.sendText(text, true).join();
  }

  /** Starts reading a paused client: everything the socket holds arrives. */
  public void resume() {
    socket.request(Long.MAX_VALUE);
  }

  @Override
  public void close() {
    socket.abort();
  }
}
