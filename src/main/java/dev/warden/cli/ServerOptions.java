package dev.warden.cli;

import dev.warden.cli.Cli.UsageError;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * Which Warden a command-line client talks to, and the bearer token it shows: {@code --server URL},
 * else {@code $WARDEN_URL}, else {@code http://127.0.0.1:$WARDEN_HTTP_PORT} (the port the daemon
 * started from the same environment listens on), else {@value #DEFAULT_SERVER}; {@code --token T}, else
 * {@code $WARDEN_TOKEN}, else {@code ./data/admin.token} (the bootstrap admin token, for someone
 * working where the daemon runs). Shared by {@code warden agent} and the approvals and feature
 * commands. {@code tokenSource} says where the token came from, for error messages; the token itself
 * is never printed.
 */
record ServerOptions(URI server, String token, String tokenSource) {

  static final String DEFAULT_SERVER = "http://127.0.0.1:8420";

  /** {@code --server} and {@code --token} as given on the command line, before the environment fills in. */
  static final class Given {
    @Option(names = "--server", paramLabel = "URL", description = {"Warden's base URL (default: $WARDEN_URL,",
        "else http://127.0.0.1:$WARDEN_HTTP_PORT, else " + DEFAULT_SERVER + ")"})
    private String server;

    @Option(names = "--token", paramLabel = "TOKEN",
        description = {"a token with the role the command needs", "(default: $WARDEN_TOKEN, else ./data/admin.token)"})
    private String token;

    ServerOptions resolve(Map<String, String> env, Path cwd) throws UsageError {
      Cli.given("--server", server);
      Cli.given("--token", token);
      URI uri = server(server, env);
      if (token != null) {
        return new ServerOptions(uri, token, "--token");
      }
      Optional<String> fromEnv = nonBlank(env.get("WARDEN_TOKEN"));
      if (fromEnv.isPresent()) {
        return new ServerOptions(uri, fromEnv.get().strip(), "WARDEN_TOKEN");
      }
      Path file = cwd.resolve("data").resolve("admin.token");
      return new ServerOptions(uri, tokenFile(file), file.toString());
    }
  }

  @Override
  public String toString() { // never the token
    return "ServerOptions[server=" + server + ", tokenSource=" + tokenSource + "]";
  }

  private static URI server(String given, Map<String, String> env) throws UsageError {
    Optional<String> port = nonBlank(env.get("WARDEN_HTTP_PORT")).map(String::strip);
    String text = given != null ? given : nonBlank(env.get("WARDEN_URL"))
        .or(() -> port.map(p -> "http://127.0.0.1:" + p)).orElse(DEFAULT_SERVER);
    String origin = given != null ? "--server" : nonBlank(env.get("WARDEN_URL")).isPresent() ? "WARDEN_URL"
        : port.isPresent() ? "WARDEN_HTTP_PORT" : "the default server";
    if (origin.equals("WARDEN_HTTP_PORT") && !port.get().matches("[0-9]{1,5}")) {
      throw new UsageError("WARDEN_HTTP_PORT '" + port.get() + "' is not a port number (or set WARDEN_URL, or pass --server URL)");
    }
    try {
      URI uri = new URI(text.endsWith("/") ? text.substring(0, text.length() - 1) : text);
      if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null
          || uri.getRawQuery() != null || uri.getRawFragment() != null) {
        throw new UsageError(origin + " '" + text + "' must be an http:// or https:// URL such as " + DEFAULT_SERVER);
      }
      return uri;
    } catch (URISyntaxException e) {
      throw new UsageError(origin + " '" + text + "' is not a URL: " + e.getReason());
    }
  }

  private static String tokenFile(Path file) throws UsageError {
    if (!Files.isRegularFile(file)) {
      throw new UsageError("no token: pass --token, set WARDEN_TOKEN, or run where data/admin.token is");
    }
    try {
      String token = Files.readString(file, StandardCharsets.UTF_8).strip();
      if (token.isEmpty()) {
        throw new UsageError(file + " is empty");
      }
      return token;
    } catch (IOException e) {
      throw new UsageError("cannot read " + file + ": " + e.getMessage());
    }
  }

  private static Optional<String> nonBlank(String value) {
    return Optional.ofNullable(value).filter(v -> !v.isBlank());
  }

  static String article(String word) {
    return "aeiou".indexOf(word.charAt(0)) >= 0 ? "an" : "a";
  }
}
