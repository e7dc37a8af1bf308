package dev.warden.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warden.testing.GitRepos;
import dev.warden.testing.RunningDaemon;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code warden agent} against the real daemon prints a person's note ({@code POST .../message}) to its stderr, naming the writer. */
class AgentMessageWrapperIT {

  @TempDir Path tmp;

  @Test
  void aPersonsNoteIsPrintedOnTheWrappersStderrWithTheWritersName() throws Exception {
    Path repos = Files.createDirectories(tmp.resolve("repos"));
    try (RunningDaemon daemon = RunningDaemon.start(RunningDaemon.config(tmp.resolve("data"), "", "", "", List.of(repos), true)).awaitReady()) {
      Path repo = GitRepos.create(repos.resolve("note-check"));
      assertEquals(201, daemon.post("/api/v1/features", RunningDaemon.AGENT,
          "{\"id\":\"note-check\",\"repo\":\"" + repo + "\",\"target\":\"main\"}").status());
      Map<String, String> env = new HashMap<>(System.getenv());
      env.put("WARDEN_URL", "http://127.0.0.1:" + daemon.daemon().httpAddress().getPort());
      env.put("WARDEN_TOKEN", RunningDaemon.AGENT);
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      AgentCommand wrapper = new AgentCommand(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
          new PrintStream(err, true, StandardCharsets.UTF_8), env, tmp, AgentCommand.Tuning.defaults());
      CompletableFuture<Integer> run = CompletableFuture.supplyAsync(
          () -> wrapper.execute(new String[] {"--feature", "note-check", "--", "sh", "-c", "sleep 8"}));

      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(6);
      while (System.nanoTime() < deadline
          && !daemon.get("/api/v1/features/note-check/agent", RunningDaemon.VIEWER).json().path("connected").asBoolean()) {
        Thread.sleep(50);
      }
      RunningDaemon.Response sent = daemon.post("/api/v1/features/note-check/message", RunningDaemon.APPROVER,
          "{\"text\":\"please keep the public API as it is\"}");
      assertEquals(202, sent.status(), sent.body() + "; wrapper said: " + err.toString(StandardCharsets.UTF_8));

      deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (System.nanoTime() < deadline && !err.toString(StandardCharsets.UTF_8).contains("lead writes: please keep the public API as it is")) {
        Thread.sleep(50);
      }
      String stderr = err.toString(StandardCharsets.UTF_8);
      assertTrue(stderr.contains("lead writes: please keep the public API as it is"), stderr);
      run.get(60, TimeUnit.SECONDS);
    }
  }
}
