package dev.warden.testing;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** An agent played by the test over a real WebSocket: it sends what the test says and keeps what it receives. */
public final class ScriptedAgent implements AutoCloseable {

  private static final ObjectMapper JSON = new ObjectMapper();
  private final WebSocket socket;
  private final BlockingQueue<JsonNode> received;
  private final List<JsonNode> seen = new ArrayList<>();
  private final CompletableFuture<Integer> closed;

  private ScriptedAgent(WebSocket socket, BlockingQueue<JsonNode> received, CompletableFuture<Integer> closed) {
    this.socket = socket;
    this.received = received;
    this.closed = closed;
  }

  /** Connects; throws {@link WebSocketHandshakeException} (wrapped) when the server refuses. */
  public static ScriptedAgent connect(int port, String featureId, String token) throws Exception {
    BlockingQueue<JsonNode> queue = new LinkedBlockingQueue<>();
    CompletableFuture<Integer> closed = new CompletableFuture<>();
    WebSocket.Listener listener = new WebSocket.Listener() {
      @Override
      public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
        closed.complete(statusCode);
        return null;
      }

      @Override
      public void onError(WebSocket webSocket, Throwable error) {
        closed.complete(-1);
      }

      private final JsonMessages messages = new JsonMessages(queue::add);

      @Override
      public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
        messages.onText(data, last);
        webSocket.request(1);
        return null;
      }
    };
    WebSocket socket = HttpClient.newHttpClient().newWebSocketBuilder()
        .header("Authorization", "Bearer " + token)
        .connectTimeout(Duration.ofSeconds(5))
        .buildAsync(URI.create("ws://127.0.0.1:" + port + "/api/v1/features/" + featureId + "/agent"), listener)
        .get(10, TimeUnit.SECONDS);
    return new ScriptedAgent(socket, queue, closed);
  }

  /** The HTTP status of a refused handshake, or -1 when it was accepted. */
  public static int refusedStatus(int port, String featureId, String token) throws Exception {
    try (ScriptedAgent agent = connect(port, featureId, token)) {
      return -1;
    } catch (ExecutionException e) {
      if (e.getCause() instanceof WebSocketHandshakeException refused) {
        return refused.getResponse().statusCode();
      }
      throw e;
    }
  }

  public ScriptedAgent send(String json) {
    socket.sendText(json, true).join();
    return this;
  }

  public ScriptedAgent hello(String... capabilities) {
    StringBuilder caps = new StringBuilder();
    for (String c : capabilities) {
      caps.append(caps.length() == 0 ? "" : ",").append('"').append(c).append('"');
    }
    send("{\"type\":\"hello\",\"agent\":\"scripted\",\"version\":\"1\",\"pid\":1,\"capabilities\":[" + caps + "]}");
    expect("welcome", 5);
    return this;
  }

  /** Waits for the next message of {@code type} (others are kept in {@link #seen()}). */
  public JsonNode expect(String type, int seconds) {
    return expect(m -> type.equals(m.path("type").asText()), seconds, type);
  }

  public JsonNode expect(Predicate<JsonNode> match, int seconds, String what) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    try {
      while (System.nanoTime() < deadline) {
        JsonNode next = received.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
        if (next == null) {
          break;
        }
        seen.add(next);
        if (match.test(next)) {
          return next;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    assertNotNull(null, "no " + what + " within " + seconds + " s; saw " + seen);
    return null;
  }

  /** The next message within {@code millis}, or null. */
  public JsonNode poll(long millis) throws InterruptedException {
    JsonNode next = received.poll(millis, TimeUnit.MILLISECONDS);
    if (next != null) {
      seen.add(next);
    }
    return next;
  }

  /** Completes with the close code when Warden closes the connection (-1: it broke off). */
  public CompletableFuture<Integer> closed() {
    return closed;
  }

  public List<JsonNode> seen() {
    return seen;
  }

  @Override
  public void close() {
    try {
      socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(2, TimeUnit.SECONDS);
    } catch (Exception e) {
      socket.abort();
    }
  }

  public CompletableFuture<WebSocket> closeAsync() {
    return socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye");
  }
}
