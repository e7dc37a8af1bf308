package dev.warden.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.warden.testing.DaemonProcess;
import dev.warden.testing.GitRepos;
import dev.warden.testing.RunningDaemon;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * A plan whose check and test are hostile, on the real daemon process (started with a config file
 * and {@code WARDEN_TOKEN} in its environment, as an operator would): the check, the test on the
 * checkpoint, and the test on the merge while landing each try to move {@code main}, write the
 * repository's hooks and config, read Warden's token file, its journal and its config file, write
 * outside their worktree and print {@code $WARDEN_TOKEN}. Every attempt fails, the results say what
 * the sandbox was and the output shows the denials; {@code main} moves once, by the landing.
 */
class SandboxedChecksIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String TOKEN_FILE_SECRET = "wdn_token_file_secret_7f3a";
  private static final String ENV_SECRET = "wdn_env_secret_91bc";
  private static final String CONFIG_SECRET = "config_file_secret_c0de";

  private final HttpClient http = HttpClient.newHttpClient();

  @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path tmp;

  private JsonNode call(int port, String method, String path, String token, String body, int expected) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(60))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body)).build();
    HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
    assertEquals(expected, response.statusCode(), method + " " + path + " -> " + response.body());
    return JSON.readTree(response.body());
  }

  private JsonNode await(int port, String path, Predicate<JsonNode> done, String what) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    JsonNode last = null;
    while (System.nanoTime() < deadline) {
      HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
          .header("Authorization", "Bearer " + RunningDaemon.VIEWER).build(), HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() == 200) {
        last = JSON.readTree(response.body());
        if (done.test(last)) {
          return last;
        }
      }
      Thread.sleep(100);
    }
    throw new AssertionError(what + " within 60 s; last: " + last);
  }

  /** The hostile script; each attempt prints a marker only when it succeeded. */
  private static String hostile(Path repo, Path data, Path config, Path outside) {
    return String.join("\n",
        "echo built > build.out && echo WROTE_WORKTREE",
        "git status --porcelain >/dev/null && echo GIT_STATUS_OK",
        "git -C " + repo + " update-ref refs/heads/main HEAD && echo MOVED_MAIN",
        "git -C " + repo + " update-ref -d refs/heads/main && echo DELETED_MAIN",
        "echo 'touch /tmp/pwned' > " + repo.resolve(".git/hooks/pre-commit") + " && echo WROTE_HOOK",
        "git -C " + repo + " config core.hooksPath /tmp/evil && echo WROTE_CONFIG",
        "cat " + data.resolve("admin.token"),
        "cat " + data.resolve("db") + "/*",
        "cat " + config,
        "echo x > " + outside + " && echo WROTE_OUTSIDE",
        "echo \"env=[$WARDEN_TOKEN]\"",
        "id",
        "exit 0");
  }

  private static void assertContained(JsonNode result, Path scratch, String what) {
    String output = result.has("output") ? result.get("output").asText()
        : result.get("outputHead").asText() + result.get("outputTail").asText();
    String sandbox = result.get("sandbox").asText();
    assertTrue(result.get("passed").asBoolean(), what + ": " + result);
    assertTrue(sandbox.startsWith("sandbox: writable " + scratch), what + " says where it could write: " + sandbox);
    assertTrue(sandbox.contains("network off"), sandbox);
    assertTrue(output.contains("WROTE_WORKTREE") && output.contains("GIT_STATUS_OK"), what + ": " + output);
    for (String marker : List.of("MOVED_MAIN", "DELETED_MAIN", "WROTE_HOOK", "WROTE_CONFIG", "WROTE_OUTSIDE")) {
      assertFalse(output.contains(marker), what + ": " + marker + " must fail: " + output);
    }
    for (String secret : List.of(TOKEN_FILE_SECRET, ENV_SECRET, CONFIG_SECRET, "H:2,")) {
      assertFalse(output.contains(secret), what + " read " + secret + ": " + output);
    }
    assertTrue(output.contains("env=[]"), output);
    assertTrue(output.contains("Read-only file system"), what + " shows the denied writes: " + output);
    assertTrue(output.contains("No such file or directory"), what + " shows the hidden files missing: " + output);
    assertTrue(output.contains("uid="), output);
  }

  @Test
  void aHostilePlanCheckAndTestCannotMoveMainTouchHooksOrConfigReadSecretsOrWriteOutsideAndSaySo() throws Exception {
    Path repo = GitRepos.create(tmp.resolve("repos/app")).toRealPath();
    GitRepos.git(repo, "checkout", "-q", "other"); // main not checked out: the landing may move it
    Path data = Files.createDirectories(tmp.resolve("data"));
    Files.writeString(data.resolve("admin.token"), TOKEN_FILE_SECRET + "\n");
    Path policy = tmp.resolve("policy.conf");
    Files.writeString(policy, "rules = [ { paths = \"**\", tier = low } ]\n");
    Path outside = Path.of(System.getProperty("user.dir"), "target", "sandboxed-it-" + System.nanoTime());
    Path config = DaemonProcess.configFile(data);
    String script = TextNode.valueOf(hostile(repo, data, config, outside)).toString();
    String plan = "{\"checks\":[{\"name\":\"hostile\",\"argv\":[\"sh\",\"-c\"," + script + "],\"timeoutSeconds\":60}],"
        + "\"test\":{\"argv\":[\"sh\",\"-c\"," + script + "],\"timeoutSeconds\":60}}";
    String mainBefore = GitRepos.git(repo, "rev-parse", "main");
    String configBefore = Files.readString(repo.resolve(".git/config"));
    List<String> hooksBefore = List.of(repo.resolve(".git/hooks").toFile().list());

    try (DaemonProcess daemon = DaemonProcess.start(data, "warden.policy.file = \"" + policy + "\"\n# " + CONFIG_SECRET + "\n",
        Map.of("WARDEN_TOKEN", ENV_SECRET))) {
      int port = daemon.port();
      JsonNode feature = call(port, "POST", "/api/v1/features", RunningDaemon.APPROVER,
          "{\"id\":\"hostile\",\"repo\":\"" + repo + "\",\"target\":\"main\",\"plan\":" + plan + "}", 201);
      Files.writeString(Path.of(feature.get("worktree").asText()).resolve("work.txt"), "work\n");
      long seq = call(port, "POST", "/api/v1/features/hostile/checkpoint", RunningDaemon.AGENT, "", 201).get("seq").asLong();
      JsonNode verdict = await(port, "/api/v1/features/hostile/checkpoints/" + seq + "/validation",
          v -> List.of("valid", "invalid", "degraded").contains(v.get("status").asText()), "a final verdict");
      assertEquals("valid", verdict.get("status").asText(), verdict.toString());
      Path scratch = data.resolve("scratch").toRealPath();
      assertEquals(List.of("hostile", "test"), List.of(verdict.get("checks").get(0).get("name").asText(),
          verdict.get("checks").get(1).get("name").asText()));
      assertContained(verdict.get("checks").get(0), scratch, "the plan's check");
      assertContained(verdict.get("checks").get(1), scratch, "the plan's test");
      assertEquals(mainBefore, GitRepos.git(repo, "rev-parse", "main"), "checks cannot move main");

      // low tier: approved by policy, merged, the test run on the merge, then main moved by Warden alone
      call(port, "POST", "/api/v1/features/hostile/propose", RunningDaemon.AGENT, "{\"description\":\"hostile work\"}", 201);
      JsonNode applied = await(port, "/api/v1/approvals/hostile.1", p -> !p.get("status").asText().matches("proposed|approved"),
          "the proposal settled");
      assertEquals("applied", applied.get("status").asText(), applied.toString());
      assertContained(applied.get("tests").get(0), scratch, "the landing's test");
      String landed = applied.get("apply").get("commit").asText();
      assertEquals(landed, GitRepos.git(repo, "rev-parse", "main"), "main is at the landed commit");
      assertEquals(mainBefore, GitRepos.git(repo, "rev-parse", "main^1"), "and the landing is the only move");
    }
    assertEquals(configBefore, Files.readString(repo.resolve(".git/config")));
    assertEquals(hooksBefore, List.of(repo.resolve(".git/hooks").toFile().list()));
    assertFalse(Files.exists(repo.resolve(".git/hooks/pre-commit")));
    assertFalse(Files.exists(outside));
    assertEquals(List.of("main", "other"), GitRepos.branches(repo).stream().filter(b -> !b.startsWith("warden/")).sorted().toList());
  }
}
