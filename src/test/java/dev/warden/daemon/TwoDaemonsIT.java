package dev.warden.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warden.testing.DaemonProcess;
import dev.warden.testing.RunningDaemon;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A second daemon on the same host, started as an operator would: only {@code WARDEN_HTTP_PORT} and
 * {@code WARDEN_DATA_DIR} differ (no {@code WARDEN_CLUSTER_PORT}: a lone node takes a free cluster
 * port). A taken HTTP port or a data directory in use stops a daemon at once with one line naming the
 * setting to change, and the running one carries on.
 */
class TwoDaemonsIT {

  @TempDir Path tmp;

  @org.junit.jupiter.api.BeforeEach
  void directories() throws Exception {
    Files.createDirectories(tmp.resolve("a"));
    Files.createDirectories(tmp.resolve("b"));
  }

  /** The environment of a daemon started by hand: no cluster port set. */
  private static Map<String, String> asAnOperatorWould() {
    Map<String, String> environment = new HashMap<>();
    environment.put("WARDEN_CLUSTER_PORT", null);
    return environment;
  }

  @Test
  void twoDaemonsThatDifferOnlyInHttpPortAndDataDirBothBecomeReady() throws Exception {
    try (DaemonProcess first = DaemonProcess.start(tmp.resolve("a/data"), "", asAnOperatorWould());
        DaemonProcess second = DaemonProcess.start(tmp.resolve("b/data"), "", asAnOperatorWould())) {
      assertTrue(first.isAlive() && second.isAlive());
      assertEquals(200, features(first.port()), "the first still answers");
      assertEquals(200, features(second.port()));
      for (Path data : List.of(tmp.resolve("a/data"), tmp.resolve("b/data"))) {
        Path lock = data.resolve(DataDirLock.FILE);
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(lock)));
        assertTrue(Files.readString(lock).strip().matches("[0-9]+"), "the holder's pid, for the message");
      }
      for (DaemonProcess daemon : List.of(first, second)) {
        String log = daemon.output();
        assertFalse(log.contains("AskTimeoutException"), "no ask-timeout warning at start: " + log);
        assertFalse(log.contains("\u001b["), "no terminal colour codes: " + log);
      }
    }
  }

  @Test
  void aTakenHttpPortOrADataDirInUseStopsTheSecondDaemonAtOnceNamingTheSetting() throws Exception {
    Path dataDir = tmp.resolve("a/data");
    try (DaemonProcess running = DaemonProcess.start(dataDir, "", asAnOperatorWould())) {
      Path fresh = tmp.resolve("c/data");
      Failed portTaken = serve(Map.of("WARDEN_HTTP_PORT", Integer.toString(running.port()), "WARDEN_DATA_DIR", fresh.toString()));
      assertEquals(1, portTaken.exit, portTaken.output);
      assertEquals(List.of("warden: the HTTP port " + running.port() + " on 127.0.0.1 is taken (another Warden?): set"
          + " WARDEN_HTTP_PORT (warden.http.port) to a free port"), portTaken.lines(), portTaken.output);
      assertFalse(Files.exists(fresh), "nothing written before the port was found taken");

      Failed inUse = serve(Map.of("WARDEN_HTTP_PORT", Integer.toString(freePort()), "WARDEN_DATA_DIR", dataDir.toString()));
      assertEquals(1, inUse.exit, inUse.output);
      assertEquals(1, inUse.lines().size(), inUse.output);
      String line = inUse.lines().get(0);
      assertTrue(line.startsWith("warden: the data directory " + dataDir.toRealPath() + " is in use by another Warden (process "),
          line);
      assertTrue(line.endsWith(": set WARDEN_DATA_DIR (warden.data-dir) to another directory, or stop that one"), line);

      assertTrue(running.isAlive());
      assertEquals(200, features(running.port()), "the running daemon is untouched");
    }
    // stopped: the directory is free again
    try (DaemonProcess again = DaemonProcess.start(dataDir, "", asAnOperatorWould())) {
      assertEquals(200, features(again.port()));
    }
  }

  private record Failed(int exit, String output) {
    List<String> lines() {
      return output.lines().filter(l -> !l.isBlank()).toList();
    }
  }

  /** {@code warden serve} with this environment, expected to stop by itself within 30 s. */
  private Failed serve(Map<String, String> environment) throws Exception {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
        "-cp", System.getProperty("java.class.path"), "dev.warden.Main", "serve"));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().remove("WARDEN_CLUSTER_PORT");
    builder.environment().remove("WARDEN_DB_URL");
    builder.environment().remove("WARDEN_CONFIG");
    builder.environment().putAll(environment);
    builder.directory(tmp.toFile());
    Process process = builder.start();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("still running after 30 s: " + new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }
    return new Failed(process.exitValue(), new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
  }

  private static int features(int port) throws Exception {
    HttpResponse<String> answer = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + port + "/api/v1/features")).header("Authorization", "Bearer " + RunningDaemon.VIEWER).build(),
        HttpResponse.BodyHandlers.ofString());
    return answer.statusCode();
  }

  private static int freePort() throws Exception {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
