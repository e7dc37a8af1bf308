package dev.warden.testing;

import dev.warden.auth.TokenRegistry;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The daemon as its own JVM process (same classpath as the tests), for what an in-process daemon
 * cannot show: being killed with SIGKILL. Output goes to {@code <dataDir>/../daemon-N.log}.
 */
public final class DaemonProcess implements AutoCloseable {

  /** Generous: on a shared 2-core build machine a daemon's JVM can take over a minute to become ready. */
  private static final int READY_WITHIN_SECONDS = 120;
  private static int starts;
  private final Process process;
  private final int port;
  private final Path log;

  private DaemonProcess(Process process, int port, Path log) {
    this.process = process;
    this.port = port;
    this.log = log;
  }

  /** Starts {@code warden serve} on {@code dataDir} (embedded H2) with the test tokens and waits until ready. */
  public static DaemonProcess start(Path dataDir) throws Exception {
    return start(dataDir, "");
  }

  /** As {@link #start(Path)}, with more HOCON settings appended to the daemon's config file. */
  public static DaemonProcess start(Path dataDir, String extraConfig) throws Exception {
    return start(dataDir, extraConfig, List.of("-Xmx512m"), java.util.Map.of());
  }

  /** As {@link #start(Path, String)}, with these JVM options (e.g. a small {@code -Xmx}) instead of {@code -Xmx512m}. */
  public static DaemonProcess start(Path dataDir, String extraConfig, List<String> jvmOptions) throws Exception {
    return start(dataDir, extraConfig, jvmOptions, java.util.Map.of());
  }

  /** As {@link #start(Path, String)}, with more environment variables for the daemon. */
  public static DaemonProcess start(Path dataDir, String extraConfig, java.util.Map<String, String> environment) throws Exception {
    return start(dataDir, extraConfig, List.of("-Xmx512m"), environment);
  }

  /** As {@link #start(Path, String)}, with these JVM options and more environment variables (a null value unsets one). */
  public static DaemonProcess start(Path dataDir, String extraConfig, List<String> jvmOptions,
      java.util.Map<String, String> environment) throws Exception {
    int port = freePort();
    Path config = dataDir.resolveSibling("daemon-test.conf");
    Files.writeString(config, "warden.auth.tokens = [\n"
        + "  { name = ops, role = admin, sha256 = \"" + TokenRegistry.sha256Hex(RunningDaemon.ADMIN) + "\" }\n"
        + "  { name = lead, role = approver, sha256 = \"" + TokenRegistry.sha256Hex(RunningDaemon.APPROVER) + "\" }\n"
        + "  { name = claude, role = agent, sha256 = \"" + TokenRegistry.sha256Hex(RunningDaemon.AGENT) + "\" }\n"
        + "  { name = dashboard, role = viewer, sha256 = \"" + TokenRegistry.sha256Hex(RunningDaemon.VIEWER) + "\" }\n"
        + "]\n" + extraConfig + "\n");
    Path log = dataDir.resolveSibling("daemon-" + (++starts) + ".log");
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmOptions);
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.warden.Main", "serve", "--config", config.toString()));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    builder.environment().put("WARDEN_DATA_DIR", dataDir.toString());
    builder.environment().put("WARDEN_HTTP_PORT", Integer.toString(port));
    builder.environment().put("WARDEN_CLUSTER_PORT", "0");
    builder.environment().remove("WARDEN_DB_URL");
    // a null value unsets the variable (e.g. WARDEN_CLUSTER_PORT, to start as an operator would)
    environment.forEach((name, value) -> {
      if (value == null) {
        builder.environment().remove(name);
      } else {
        builder.environment().put(name, value);
      }
    });
    DaemonProcess daemon = new DaemonProcess(builder.start(), port, log);
    daemon.awaitReady();
    return daemon;
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  /** The config file the daemon was started with ({@code --config}). */
  public static Path configFile(Path dataDir) {
    return dataDir.resolveSibling("daemon-test.conf");
  }

  public int port() {
    return port;
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** What the daemon has written to its output so far. */
  public String output() throws IOException {
    return Files.readString(log);
  }

  private void awaitReady() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(READY_WITHIN_SECONDS);
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new AssertionError("daemon exited with " + process.exitValue() + ": " + Files.readString(log));
      }
      try {
        HttpResponse<String> ready = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health/ready"))
            .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
        if (ready.statusCode() == 200) {
          return;
        }
      } catch (IOException notYet) {
        // not listening yet
      }
      Thread.sleep(200);
    }
    throw new AssertionError("daemon not ready within " + READY_WITHIN_SECONDS + " s: " + Files.readString(log));
  }

  /** SIGKILL: no shutdown hook, no flush, nothing graceful. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      process.destroy();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        kill();
      }
    }
  }
}
