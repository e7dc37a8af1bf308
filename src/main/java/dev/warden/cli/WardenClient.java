package dev.warden.cli;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.Map;

/**
 * Requests to Warden's HTTP API for the command-line clients, one at a time, with the bearer token of
 * a {@link ServerOptions}: plain JDK HTTP, no actor system, so a command starts fast. A 2xx answer is
 * returned as its text; any other status becomes a {@link Problem} carrying what Warden's
 * problem+json says, and a request that could not be made becomes {@link Unreachable}.
 */
final class WardenClient {

  /** Warden answers within its ask timeout (10 s) or with 503; this only catches a daemon that hangs. */
  static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);

  private static final Map<Integer, String> REASONS = Map.ofEntries(
      Map.entry(400, "Bad Request"), Map.entry(401, "Unauthorized"), Map.entry(403, "Forbidden"),
      Map.entry(404, "Not Found"), Map.entry(405, "Method Not Allowed"), Map.entry(409, "Conflict"),
      Map.entry(413, "Content Too Large"), Map.entry(422, "Unprocessable Content"), Map.entry(429, "Too Many Requests"),
      Map.entry(500, "Internal Server Error"), Map.entry(502, "Bad Gateway"), Map.entry(503, "Service Unavailable"),
      Map.entry(504, "Gateway Timeout"));

  /** Warden answered with a status other than 2xx. */
  static final class Problem extends Exception {
    private final int status;
    private final String title;
    private final String detail;

    Problem(int status, String title, String detail) {
      super(detail.isBlank() ? "Warden answered " + status + " " + title : detail + " (" + status + " " + title + ")");
      this.status = status;
      this.title = title;
      this.detail = detail;
    }

    int status() {
      return status;
    }

    String title() {
      return title;
    }

    /** The problem's {@code detail}, or "" when Warden sent none. */
    String detail() {
      return detail;
    }

    /** Warden refused the request (4xx), as opposed to failing at it (5xx). */
    boolean refused() {
      return status >= 400 && status < 500;
    }
  }

  /** No answer: the daemon is not running, not at this URL, or hangs. */
  static final class Unreachable extends Exception {
    Unreachable(String message) {
      super(message);
    }
  }

  private final HttpClient http;
  private final ServerOptions warden;

  WardenClient(HttpClient http, ServerOptions warden) {
    this.http = http;
    this.warden = warden;
  }

  static HttpClient httpClient() {
    return HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(AgentLink.CONNECT_TIMEOUT)
        .build();
  }

  /** {@code GET path}; {@code path} starts with '/' and is already encoded. */
  String get(String path) throws Problem, Unreachable, InterruptedException {
    return send(request(path).GET());
  }

  /** {@code POST path} with a JSON body. */
  String post(String path, String json) throws Problem, Unreachable, InterruptedException {
    return send(request(path).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)));
  }

  /** {@code DELETE path}. */
  String delete(String path) throws Problem, Unreachable, InterruptedException {
    return send(request(path).DELETE());
  }

  /** The same server with another bearer token (the wrapper's run token). */
  WardenClient withToken(String token) {
    return new WardenClient(http, new ServerOptions(warden.server(), token, "the run token"));
  }

  private HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(URI.create(warden.server() + path))
        .header("Authorization", "Bearer " + warden.token())
        .header("Accept", "application/json, application/problem+json")
        .timeout(REQUEST_TIMEOUT);
  }

  private String send(HttpRequest.Builder request) throws Problem, Unreachable, InterruptedException {
    HttpResponse<String> response;
    try {
      response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (HttpTimeoutException e) {
      if (e instanceof HttpConnectTimeoutException) {
        throw new Unreachable("cannot reach Warden at " + warden.server() + " (connection timed out)");
      }
      throw new Unreachable("no answer from Warden at " + warden.server() + " within " + REQUEST_TIMEOUT.toSeconds() + " s");
    } catch (IOException e) {
      throw new Unreachable("cannot reach Warden at " + warden.server() + " (" + AgentLink.describe(e) + ")");
    }
    int status = response.statusCode();
    if (status / 100 == 2) {
      return response.body();
    }
    var problem = AgentProtocol.parse(response.body());
    String title = problem.flatMap(json -> AgentProtocol.text(json, "title")).filter(t -> !t.isBlank())
        .orElse(REASONS.getOrDefault(status, "HTTP error"));
    String detail = problem.flatMap(json -> AgentProtocol.text(json, "detail")).orElse("");
    throw new Problem(status, title, detail);
  }
}
