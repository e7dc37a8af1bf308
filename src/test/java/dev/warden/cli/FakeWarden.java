package dev.warden.cli;

import static akka.http.javadsl.server.Directives.complete;
import static akka.http.javadsl.server.Directives.concat;
import static akka.http.javadsl.server.Directives.get;
import static akka.http.javadsl.server.Directives.handleWebSocketMessages;
import static akka.http.javadsl.server.Directives.optionalHeaderValueByName;
import static akka.http.javadsl.server.Directives.path;
import static akka.http.javadsl.server.Directives.pathEnd;
import static akka.http.javadsl.server.Directives.pathPrefix;

import akka.Done;
import akka.NotUsed;
import akka.actor.typed.ActorSystem;
import akka.http.javadsl.Http;
import akka.http.javadsl.ServerBinding;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.ws.Message;
import akka.http.javadsl.model.ws.TextMessage;
import akka.http.javadsl.server.PathMatchers;
import akka.http.javadsl.server.Route;
import akka.stream.BoundedSourceQueue;
import akka.stream.Materializer;
import akka.stream.SystemMaterializer;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Just enough of Warden for the wrapper: {@code GET /api/v1/features/{id}} answering the
 * worktree, {@code GET .../sandbox} answering a sandbox with only the worktree writable, and the agent WebSocket, which answers {@code hello} with {@code welcome}, records
 * everything it receives, and lets a test send {@code pause}/{@code resume} or drop the
 * connection. A real Akka HTTP server on a free port.
 */
final class FakeWarden implements AutoCloseable {

  static final String FEATURE = "login-form";
  static final String TOKEN = "agent-token";
  /** The run token the fake issues: the agent socket takes only this one, as the real Warden's takes only agent tokens. */
  static final String RUN_TOKEN = "wrt_fake-run-token";
  private final AtomicInteger issuedRunTokens = new AtomicInteger();
  private final AtomicInteger revokedRunTokens = new AtomicInteger();
  private static final ObjectMapper JSON = new ObjectMapper();

  private final ActorSystem<?> system;
  private final Materializer materializer;
  private final Path worktree;
  private final ServerBinding binding;
  private final BlockingQueue<Session> sessions = new LinkedBlockingQueue<>();
  private final AtomicInteger refusedUpgrades = new AtomicInteger();
  /** When not 0, agent upgrades are answered with this status instead. */
  volatile int upgradeStatus;
  volatile long heartbeatMs = 5_000;

  FakeWarden(ActorSystem<?> system, Path worktree) throws Exception {
    this.system = system;
    this.materializer = SystemMaterializer.get(system).materializer();
    this.worktree = worktree;
    this.binding = Http.get(system).newServerAt("127.0.0.1", 0).bind(route()).toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  String url() {
    return "http://127.0.0.1:" + binding.localAddress().getPort();
  }

  /** The next agent connection, in the order they came. */
  Session nextSession() throws InterruptedException {
    Session session = sessions.poll(10, TimeUnit.SECONDS);
    if (session == null) {
      throw new AssertionError("no agent connected");
    }
    return session;
  }

  boolean anySession() {
    return !sessions.isEmpty();
  }

  int issuedRunTokens() {
    return issuedRunTokens.get();
  }

  int revokedRunTokens() {
    return revokedRunTokens.get();
  }

  int refusedUpgrades() {
    return refusedUpgrades.get();
  }

  @Override
  public void close() {
    binding.unbind().toCompletableFuture().join();
  }

  private Route route() {
    return pathPrefix("api", () -> pathPrefix("v1", () -> pathPrefix("features", () ->
        pathPrefix(PathMatchers.segment(), id -> concat(
            pathEnd(() -> get(() -> authorized(() -> id.equals(FEATURE)
                ? complete(StatusCodes.OK, HttpEntities.create(ContentTypes.APPLICATION_JSON,
                    JSON.createObjectNode().put("id", id).put("status", "active").put("worktree", worktree.toString()).toString()))
                : complete(StatusCodes.NOT_FOUND, problem("no feature " + id))))),
            path("sandbox", () -> get(() -> authorized(() -> id.equals(FEATURE)
                ? complete(StatusCodes.OK, HttpEntities.create(ContentTypes.APPLICATION_JSON, sandboxSpec()))
                : complete(StatusCodes.NOT_FOUND, problem("no feature " + id))))),
            path("agent-token", () -> concat(
                akka.http.javadsl.server.Directives.post(() -> authorized(() -> akka.http.javadsl.server.Directives.entity(
                    akka.http.javadsl.unmarshalling.Unmarshaller.entityToString(), body -> {
                  issuedRunTokens.incrementAndGet();
                  return complete(StatusCodes.CREATED, HttpEntities.create(ContentTypes.APPLICATION_JSON, JSON.createObjectNode()
                      .put("token", RUN_TOKEN).put("name", "run:" + id + ":fake").put("feature", id)
                      .put("expiresAt", java.time.Instant.now().plus(Duration.ofHours(1)).toString()).toString()));
                }))),
                akka.http.javadsl.server.Directives.delete(() -> authorized(RUN_TOKEN, () -> {
                  revokedRunTokens.incrementAndGet();
                  return complete(StatusCodes.NO_CONTENT);
                })))),
            path("agent", () -> authorized(RUN_TOKEN, () -> {
              if (!id.equals(FEATURE)) {
                return complete(StatusCodes.NOT_FOUND, problem("no feature " + id));
              }
              if (upgradeStatus != 0) {
                refusedUpgrades.incrementAndGet();
                return complete(StatusCodes.get(upgradeStatus), problem("refused by the test"));
              }
              return handleWebSocketMessages(new Session().flow());
            })))))));
  }

  /** The sandbox as Warden describes it: the worktree writable, nothing else; tests may replace it. */
  volatile String sandbox;

  private String sandboxSpec() {
    return sandbox != null ? sandbox : JSON.createObjectNode().put("workdir", worktree.toString())
        .<com.fasterxml.jackson.databind.node.ObjectNode>set("writable", JSON.createArrayNode())
        .<com.fasterxml.jackson.databind.node.ObjectNode>set("hidden", JSON.createArrayNode())
        .<com.fasterxml.jackson.databind.node.ObjectNode>set("readOnly", JSON.createArrayNode())
        .<com.fasterxml.jackson.databind.node.ObjectNode>set("mounts", JSON.createArrayNode())
        .put("network", true).toString();
  }

  private static Route authorized(Supplier<Route> inner) {
    return authorized(TOKEN, inner);
  }

  private static Route authorized(String token, Supplier<Route> inner) {
    return optionalHeaderValueByName("Authorization", header -> header.equals(Optional.of("Bearer " + token))
        ? inner.get()
        : complete(StatusCodes.UNAUTHORIZED, problem("a valid bearer token is required")));
  }

  private static akka.http.javadsl.model.RequestEntity problem(String detail) {
    return HttpEntities.create(ContentTypes.APPLICATION_JSON, JSON.createObjectNode().put("detail", detail).toString());
  }

  /** One agent connection. */
  final class Session {
    private final BlockingQueue<JsonNode> inbox = new LinkedBlockingQueue<>();
    private final List<JsonNode> received = Collections.synchronizedList(new ArrayList<>());
    final CompletableFuture<Void> ended = new CompletableFuture<>();
    private volatile BoundedSourceQueue<Message> outbox;

    Flow<Message, Message, NotUsed> flow() {
      Sink<Message, CompletionStage<Done>> in = Flow.<Message>create()
          .mapAsync(1, message -> message.isText()
              ? message.asTextMessage().toStrict(3_000, materializer).thenApply(strict -> strict.text())
              : message.asBinaryMessage().getStreamedData().runWith(Sink.ignore(), materializer).thenApply(done -> ""))
          .toMat(Sink.foreach(this::receive), Keep.right());
      Source<Message, BoundedSourceQueue<Message>> out = Source.<Message>queue(64).mapMaterializedValue(queue -> {
        outbox = queue;
        sessions.add(this);
        return queue;
      });
      // ended once everything the agent sent has been recorded
      return Flow.fromSinkAndSourceCoupledMat(in, out, (recorded, queue) -> {
        recorded.whenComplete((done, failure) -> ended.complete(null));
        return NotUsed.getInstance();
      });
    }

    private void receive(String text) throws Exception {
      JsonNode message = JSON.readTree(text);
      received.add(message);
      inbox.add(message);
      if ("hello".equals(message.path("type").asText())) {
        send(JSON.createObjectNode().put("type", "welcome").put("feature", FEATURE).put("protocol", "warden.agent.v1")
            .put("heartbeatMs", heartbeatMs).toString());
      }
    }

    void send(String json) {
      outbox.offer(TextMessage.create(json));
    }

    /** The same message, in two frames. */
    void sendInTwoFrames(String json) {
      int half = json.length() / 2;
      outbox.offer(TextMessage.create(Source.from(List.of(json.substring(0, half), json.substring(half)))));
    }

    /** Warden goes away: the server closes this connection. */
    void drop() {
      outbox.complete();
    }

    /** The next message of {@code type} (others received meanwhile are skipped, but kept in {@link #received()}). */
    JsonNode await(String type) throws InterruptedException {
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (true) {
        JsonNode message = inbox.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        if (message == null) {
          throw new AssertionError("no '" + type + "' arrived; received " + received());
        }
        if (type.equals(message.path("type").asText())) {
          return message;
        }
      }
    }

    /** Everything received so far, in order. */
    List<JsonNode> received() {
      synchronized (received) {
        return List.copyOf(received);
      }
    }

    List<String> types() {
      return received().stream().map(m -> m.path("type").asText()).toList();
    }

    /** The {@code line}s of the {@code log} messages of {@code stream}, in order. */
    List<String> logLines(String stream) {
      return received().stream()
          .filter(m -> "log".equals(m.path("type").asText()) && stream.equals(m.path("stream").asText()))
          .map(m -> m.path("line").asText())
          .toList();
    }

    void awaitEnd() throws Exception {
      ended.get(10, TimeUnit.SECONDS);
    }
  }
}
