package dev.warden.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import dev.warden.auth.TokenRegistry;
import dev.warden.daemon.WardenConfig;
import dev.warden.daemon.WardenDaemon;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real Warden daemon in this JVM (real HTTP on a free port, real database, real git), with one
 * token per role, and a plain HTTP client to talk to it as a user would.
 */
public final class RunningDaemon implements AutoCloseable {

  public static final String ADMIN = "admin-token";
  public static final String APPROVER = "approver-token";
  public static final String AGENT = "agent-token";
  public static final String VIEWER = "viewer-token";

  private static final ObjectMapper JSON = new ObjectMapper();
  private final WardenDaemon daemon;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final String base;

  private RunningDaemon(WardenDaemon daemon) {
    this.daemon = daemon;
    this.base = "http://127.0.0.1:" + daemon.httpAddress().getPort();
  }

  /** Settings for a daemon on {@code dataDir}; {@code dbUrl} empty means embedded H2 there. */
  public static Config config(Path dataDir, String dbUrl, String dbUser, String dbPassword, List<Path> allowedRoots, boolean withTokens) {
    Config config = ConfigFactory.empty()
        .withValue("warden.data-dir", ConfigValueFactory.fromAnyRef(dataDir.toString()))
        .withValue("warden.http.port", ConfigValueFactory.fromAnyRef(0))
        .withValue("akka.remote.artery.canonical.port", ConfigValueFactory.fromAnyRef(0))
        .withValue("warden.database.url", ConfigValueFactory.fromAnyRef(dbUrl))
        .withValue("warden.database.user", ConfigValueFactory.fromAnyRef(dbUser))
        .withValue("warden.database.password", ConfigValueFactory.fromAnyRef(dbPassword))
        .withValue("warden.repositories.allowed-roots",
            ConfigValueFactory.fromIterable(allowedRoots.stream().map(Path::toString).toList()))
        .withValue("akka.coordinated-shutdown.run-by-jvm-shutdown-hook", ConfigValueFactory.fromAnyRef("off"));
    if (withTokens) {
      config = config.withValue("warden.auth.tokens", ConfigValueFactory.fromIterable(List.of(
          token("ops", "admin", ADMIN), token("lead", "approver", APPROVER),
          token("claude", "agent", AGENT), token("dashboard", "viewer", VIEWER))));
    }
    return config;
  }

  private static Map<String, String> token(String name, String role, String secret) {
    return Map.of("name", name, "role", role, "sha256", TokenRegistry.sha256Hex(secret));
  }

  public static RunningDaemon start(Config config) {
    return new RunningDaemon(WardenDaemon.start(WardenConfig.load(config)));
  }

  public WardenDaemon daemon() {
    return daemon;
  }

  /** A response as the client saw it. */
  public record Response(int status, String contentType, String body, HttpResponse<String> raw) {
    public JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (IOException e) {
        throw new AssertionError("not JSON: " + body, e);
      }
    }

    /** Asserts a problem+json error with this status naming {@code field} (null: no field). */
    public Response assertProblem(int expectedStatus, String field) {
      assertEquals(expectedStatus, status, body);
      assertEquals("application/problem+json", contentType, body);
      JsonNode problem = json();
      assertEquals(expectedStatus, problem.get("status").asInt(), body);
      if (field != null) {
        assertEquals(field, problem.path("field").asText(null), body);
      }
      return this;
    }
  }

  public Response get(String path, String token) {
    return send(request(path, token).GET());
  }

  public Response post(String path, String token, String body) {
    return send(request(path, token).POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json"));
  }

  public Response delete(String path, String token) {
    return send(request(path, token).DELETE());
  }

  private HttpRequest.Builder request(String path, String token) {
    HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
    if (token != null) {
      builder.header("Authorization", "Bearer " + token);
    }
    return builder;
  }

  public Response send(HttpRequest.Builder request) {
    try {
      HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
      String type = response.headers().firstValue("Content-Type").orElse("");
      return new Response(response.statusCode(), type.split(";")[0].trim(), response.body(), response);
    } catch (IOException e) {
      throw new AssertionError("request failed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Waits until {@code GET /health/ready} is 200 (cluster Up, database reachable). */
  public RunningDaemon awaitReady() {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    Response last = null;
    while (System.nanoTime() < deadline) {
      last = get("/health/ready", null);
      if (last.status() == 200) {
        return this;
      }
      sleep(100);
    }
    throw new AssertionError("daemon not ready within 30 s: " + (last == null ? "no answer" : last.body()));
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    daemon.stop().toCompletableFuture().orTimeout(60, TimeUnit.SECONDS).join();
  }
}
