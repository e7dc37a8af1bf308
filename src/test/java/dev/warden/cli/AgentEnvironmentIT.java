package dev.warden.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code warden agent} against the real daemon: the agent's connection uses a run token (revoked
 * when the run ends), and the agent process sees no {@code WARDEN_*} variable and not the operator's
 * token anywhere in its environment.
 */
class AgentEnvironmentIT {

  @TempDir Path tmp;

  @Test
  void theAgentSeesNoWardenVariableNorTheOperatorsTokenAndItsRunTokenIsRevokedAtTheEnd() throws Exception {
    Path repos = Files.createDirectories(tmp.resolve("repos"));
    Path data = tmp.resolve("data");
    try (RunningDaemon daemon = RunningDaemon.start(RunningDaemon.config(data, "", "", "", List.of(repos), true)).awaitReady()) {
      Path repo = GitRepos.create(repos.resolve("env-check"));
      assertEquals(201, daemon.post("/api/v1/features", RunningDaemon.AGENT,
          "{\"id\":\"env-check\",\"repo\":\"" + repo + "\",\"target\":\"main\"}").status());
      String server = "http://127.0.0.1:" + daemon.daemon().httpAddress().getPort();

      // the operator's token and Warden's URL come from the environment, as they would from a shell
      Map<String, String> env = new HashMap<>(System.getenv());
      env.put("WARDEN_URL", server);
      env.put("WARDEN_TOKEN", RunningDaemon.AGENT);
      env.put("WARDEN_CONFIG", "/etc/warden/warden.conf");
      env.put("AGENT_SEES_THIS", "yes");
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      AgentCommand wrapper = new AgentCommand(new PrintStream(out, true, StandardCharsets.UTF_8),
          new PrintStream(err, true, StandardCharsets.UTF_8), env, tmp, AgentCommand.Tuning.defaults());
      int exit = wrapper.execute(new String[] {"--feature", "env-check", "--", "sh", "-c", "env > env.txt; env; echo changed > out.txt"});
      String stderr = err.toString(StandardCharsets.UTF_8);
      assertEquals(0, exit, stderr);

      String printed = out.toString(StandardCharsets.UTF_8);
      assertTrue(printed.contains("AGENT_SEES_THIS=yes"), printed);
      assertFalse(printed.contains("WARDEN_"), "a WARDEN_ variable reached the agent:\n" + printed);
      assertFalse(printed.contains(RunningDaemon.AGENT), "the operator's token reached the agent:\n" + printed);
      assertFalse(printed.contains("wrt_"), "the run token reached the agent:\n" + printed);

      // the run's proposal is on record under the run token's name; the token was revoked at the end
      long deadline = System.nanoTime() + 30_000_000_000L;
      JsonNode proposal = null;
      while (System.nanoTime() < deadline) {
        RunningDaemon.Response response = daemon.get("/api/v1/approvals/env-check.1", RunningDaemon.VIEWER);
        if (response.status() == 200) {
          proposal = response.json();
          break;
        }
        Thread.sleep(100);
      }
      assertTrue(proposal != null, "the run was proposed; wrapper said: " + stderr);
      assertTrue(proposal.get("proposedBy").asText().startsWith("run:env-check:"), proposal.toString());
      List<String> revoked = Files.readAllLines(daemon.daemon().dataDir().resolve("revoked-run-tokens"));
      assertEquals(1, revoked.size(), "one run token, revoked when the run ended: " + revoked);
    }
  }
}
