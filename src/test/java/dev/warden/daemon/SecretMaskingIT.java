package dev.warden.daemon;

import static dev.warden.daemon.ApprovalFlowContract.create;
import static dev.warden.daemon.ApprovalFlowContract.propose;
import static dev.warden.daemon.ApprovalFlowContract.repository;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueFactory;
import dev.warden.testing.GitRepos;
import dev.warden.testing.RunningDaemon;
import dev.warden.testing.RunningDaemon.Response;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Secrets in what a viewer reads: a checkpoint's diff, a comparison and a proposal's diff show
 * {@code «secret:<rule> masked»} where a key was; an approver or admin reads them raw with
 * {@code ?raw=true}, a viewer or agent asking so gets 403. A check's output that prints a key is masked too.
 */
class SecretMaskingIT {

  @TempDir Path tmp;

  /** Fake but well-formed: found by the scanner (src/test/resources/secrets/planted/). */
  private static final String KEY_ID = "AKIAPNXZAEHSJL4OA8J0";
  private static final String SECRET_KEY = "sb+gZ79MUc4iI8WpsMBx8lpTPrfglP56JYz01aS0";
  private static final String KEY_BODY_LINE = "MIIEowIBAAKCAQEAcahdb53ruWEPIQoEBD0Enh/QMW2jdl10n9OV44CJz7uiBD8i";
  private static final String PRIVATE_KEY = "-----BEGIN RSA PRIVATE KEY-----\n" + KEY_BODY_LINE + "\n"
      + "WopKIYr8o91l/DYu6Sit4w2Otz95GSql2d1hZ9IblnmIIyfZfJ6Ig84ypUZAFTZc\n"
      + "-----END RSA PRIVATE KEY-----\n";
  private static final String CREDENTIALS = "aws_access_key_id = " + KEY_ID + "\naws_secret_access_key = " + SECRET_KEY + "\n"
      + PRIVATE_KEY;
  private static final List<String> SECRETS = List.of(KEY_ID, SECRET_KEY, KEY_BODY_LINE);

  private RunningDaemon start() throws Exception {
    Path policy = tmp.resolve("policy.conf");
    Files.writeString(policy, "rules = [ { paths = \"**\", tier = high } ]\ntiers { high { approvers = 2 } }\n");
    Config config = RunningDaemon.config(tmp.resolve("data"), "", "", "", List.of(tmp.resolve("repos")), true)
        .withValue("warden.policy.file", ConfigValueFactory.fromAnyRef(policy.toString()));
    return RunningDaemon.start(config).awaitReady();
  }

  @Test
  void aViewerReadsEveryDiffMaskedAndOnlyAnApproverOrAdminReadsItRaw() throws Exception {
    Path repo = repository(tmp.resolve("repos/app"));
    // main already holds credentials: a change next to them shows them as context lines (and the
    // proposal is valid, a secret the base already held being no new finding)
    GitRepos.git(repo, "checkout", "-q", "main");
    Files.createDirectories(repo.resolve("deploy"));
    Files.writeString(repo.resolve("deploy/creds.env"), "region = eu-west-1\n" + CREDENTIALS + "owner = ops\n");
    GitRepos.git(repo, "add", "deploy/creds.env");
    GitRepos.git(repo, "-c", "user.email=t@example.com", "-c", "user.name=Test", "commit", "-q", "-m", "credentials");
    GitRepos.git(repo, "checkout", "-q", "other");

    try (RunningDaemon daemon = start()) {
      // a feature's worktree gets a new file with an AWS key and a private key
      Path leaky = Path.of(create(daemon, repo, "leaky", null));
      Files.createDirectories(leaky.resolve("config"));
      Files.writeString(leaky.resolve("config/keys.env"), "# keys for the demo\n" + CREDENTIALS);
      Response taken = daemon.post("/api/v1/features/leaky/checkpoint", RunningDaemon.AGENT, "");
      assertEquals(201, taken.status(), taken.body());
      long seq = taken.json().get("seq").asLong();

      // against the base: the watchdog may have taken a checkpoint of the new file before this one
      String diffPath = "/api/v1/features/leaky/checkpoints/" + seq + "/diff?against=base";
      Response diff = daemon.get(diffPath, RunningDaemon.VIEWER);
      assertMasked(diff, diff.body(), 3);
      assertTrue(diff.body().contains("+aws_access_key_id = «secret:aws-access-key-id masked»\n"), diff.body());
      assertTrue(diff.body().contains("+-----BEGIN RSA PRIVATE KEY-----\n+«secret:private-key masked»\n"
          + "+«secret:private-key masked»\n+-----END RSA PRIVATE KEY-----\n"), diff.body());
      assertMasked(daemon.get(diffPath + "&raw=false", RunningDaemon.AGENT), null, 3);
      Response previous = daemon.get("/api/v1/features/leaky/checkpoints/" + seq + "/diff", RunningDaemon.VIEWER);
      assertEquals(200, previous.status(), previous.body());
      assertNoSecret(previous);
      assertTrue(previous.raw().headers().firstValue("Warden-Secrets-Masked").isPresent(), previous.raw().headers().toString());

      String comparePath = "/api/v1/features/leaky/checkpoints/compare?from=0&to=" + seq;
      Response compare = daemon.get(comparePath, RunningDaemon.VIEWER);
      assertMasked(compare, compare.json().get("diff").asText(), 3);
      assertEquals("config/keys.env", compare.json().get("files").get(0).get("path").asText(), compare.body());

      // raw: approver and admin only
      assertRaw(daemon.get(diffPath + "&raw=true", RunningDaemon.APPROVER), null, 3);
      assertRaw(daemon.get(comparePath + "&raw=true", RunningDaemon.ADMIN), daemon.get(comparePath + "&raw=true",
          RunningDaemon.ADMIN).json().get("diff").asText(), 3);
      for (String token : List.of(RunningDaemon.VIEWER, RunningDaemon.AGENT)) {
        assertNoSecret(daemon.get(diffPath + "&raw=true", token).assertProblem(403, "raw"));
        assertNoSecret(daemon.get(comparePath + "&raw=true", token).assertProblem(403, "raw"));
      }
      daemon.get(diffPath + "&raw=yes", RunningDaemon.APPROVER).assertProblem(400, "raw");

      // a proposal touching the lines around the base's credentials: they show as context, masked
      // its check prints the file: the verdict shows the output masked
      Path tidy = Path.of(create(daemon, repo, "tidy", "{\"checks\":[{\"name\":\"show\",\"argv\":[\"cat\",\"deploy/creds.env\"]}]}"));
      Files.writeString(tidy.resolve("deploy/creds.env"), "region = eu-north-1\n" + CREDENTIALS + "owner = platform\n");
      Response proposed = propose(daemon, "tidy", "move region");
      assertEquals(201, proposed.status(), proposed.body());
      String proposalDiff = "/api/v1/approvals/" + proposed.json().get("id").asText() + "/diff";
      Response masked = daemon.get(proposalDiff, RunningDaemon.VIEWER);
      assertMasked(masked, masked.body(), 3);
      assertTrue(masked.body().contains("\n-region = eu-west-1\n+region = eu-north-1\n aws_access_key_id = «secret:aws-access-key-id masked»\n"),
          masked.body());
      assertTrue(masked.body().contains("\n-owner = ops\n+owner = platform"), masked.body());
      assertRaw(daemon.get(proposalDiff + "?raw=true", RunningDaemon.APPROVER), null, 3);
      assertNoSecret(daemon.get(proposalDiff + "?raw=true", RunningDaemon.VIEWER).assertProblem(403, "raw"));
      assertNoSecret(daemon.get(proposalDiff + "?raw=true", RunningDaemon.AGENT).assertProblem(403, "raw"));

      long checkpoint = proposed.json().get("checkpoint").get("seq").asLong();
      String verdictPath = "/api/v1/features/tidy/checkpoints/" + checkpoint + "/validation";
      ApprovalFlowContract.await("the check's output", 30_000, () -> daemon.get(verdictPath, RunningDaemon.VIEWER).json()
          .path("checks").size() > 0);
      Response verdict = daemon.get(verdictPath, RunningDaemon.VIEWER);
      assertEquals(200, verdict.status(), verdict.body());
      assertNoSecret(verdict);
      JsonNode show = verdict.json().get("checks").get(0);
      assertEquals("show", show.get("name").asText(), verdict.body());
      assertTrue(show.get("outputHead").asText().startsWith("region = eu-north-1\naws_access_key_id = «secret:aws-access-key-id masked»\n"),
          verdict.body());
    }
  }

  private static void assertMasked(Response response, String text, int secrets) {
    assertEquals(200, response.status(), response.body());
    assertNoSecret(response);
    assertTrue((text == null ? response.body() : text).contains("«secret:"), response.body());
    assertEquals(String.valueOf(secrets), response.raw().headers().firstValue("Warden-Secrets-Masked").orElse(null));
    assertFalse(response.raw().headers().firstValue("Warden-Secrets-Raw").isPresent());
  }

  private static void assertRaw(Response response, String text, int secrets) {
    assertEquals(200, response.status(), response.body());
    for (String secret : SECRETS) {
      assertTrue((text == null ? response.body() : text).contains(secret), "raw shows " + secret + ": " + response.body());
    }
    assertFalse(response.body().contains("«secret:"), response.body());
    assertEquals(String.valueOf(secrets), response.raw().headers().firstValue("Warden-Secrets-Raw").orElse(null));
    assertFalse(response.raw().headers().firstValue("Warden-Secrets-Masked").isPresent());
    assertEquals("no-store", response.raw().headers().firstValue("Cache-Control").orElse(null));
  }

  private static void assertNoSecret(Response response) {
    for (String secret : SECRETS) {
      assertFalse(response.body().contains(secret), "shows " + secret + ": " + response.body());
      assertFalse(response.body().contains(secret.replace("/", "\\/")), "shows " + secret + ": " + response.body());
    }
  }
}
