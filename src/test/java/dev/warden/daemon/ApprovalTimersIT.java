package dev.warden.daemon;

import static dev.warden.daemon.ApprovalFlowContract.await;
import static dev.warden.daemon.ApprovalFlowContract.awaitStatus;
import static dev.warden.daemon.ApprovalFlowContract.create;
import static dev.warden.daemon.ApprovalFlowContract.decisions;
import static dev.warden.daemon.ApprovalFlowContract.propose;
import static dev.warden.daemon.ApprovalFlowContract.repository;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueFactory;
import dev.warden.testing.RunningDaemon;
import dev.warden.testing.RunningDaemon.Response;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Time in the approval flow: expiry is a timer that a restart does not lose, a medium proposal can
 * be approved before its window ends, and finished proposals leave the queue after the retention.
 */
class ApprovalTimersIT {

  @TempDir Path tmp;

  private RunningDaemon start() throws Exception {
    Path policy = tmp.resolve("policy.conf");
    Files.writeString(policy, """
        rules = [ { paths = "src/**", tier = medium }, { paths = "**", tier = high } ]
        tiers { medium { review-window = 1h }, expiry = 10s }
        """);
    Config config = RunningDaemon.config(tmp.resolve("data"), "", "", "", List.of(tmp.resolve("repos")), true)
        .withValue("warden.policy.file", ConfigValueFactory.fromAnyRef(policy.toString()))
        .withValue("warden.apply.history-retention", ConfigValueFactory.fromAnyRef("3s"));
    return RunningDaemon.start(config).awaitReady();
  }

  @Test
  void expirySurvivesARestartAndFinishedProposalsLeaveTheQueue() throws Exception {
    Path repo = repository(tmp.resolve("repos/app"));
    try (RunningDaemon daemon = start()) {
      Path worktree = Path.of(create(daemon, repo, "waits", null));
      Files.writeString(worktree.resolve("x.txt"), "x\n");
      JsonNode proposed = propose(daemon, "waits", "nobody looks").json();
      assertEquals("high", proposed.get("tier").asText());
      assertEquals("proposed", proposed.get("status").asText());
    }
    try (RunningDaemon daemon = start()) {
      // nobody asks about it: the remembered applier re-arms its expiry by itself after the restart
      // read by id, not from the queue: an expired proposal leaves the queue 3 s later (history-retention),
      // which a slow restart on a loaded machine can already have passed
      await("the proposal expired after the restart", 30_000, () -> daemon.get("/api/v1/approvals/waits.1", RunningDaemon.VIEWER)
          .json().get("status").asText().equals("expired"));
      JsonNode expired = daemon.get("/api/v1/approvals/waits.1", RunningDaemon.VIEWER).json();
      assertEquals(List.of("expire by policy"), decisions(expired));
      await("the feature back at work", 10_000, () -> daemon.get("/api/v1/features/waits", RunningDaemon.VIEWER).json()
          .get("status").asText().equals("active"));

      // medium, approved by a person long before its one-hour window ends
      Path src = Path.of(create(daemon, repo, "early", null));
      Files.createDirectories(src.resolve("src"));
      Files.writeString(src.resolve("src/e.txt"), "e\n");
      assertEquals("medium", propose(daemon, "early", "early bird").json().get("tier").asText());
      Response approved = daemon.post("/api/v1/approvals/early.1/approve", RunningDaemon.APPROVER, "{}");
      assertTrue(approved.json().get("approved").asBoolean(), approved.body());
      awaitStatus(daemon, "early.1", "applied", 30_000);

      // three seconds after they finished both leave the queue; each can still be read by id
      await("the finished proposals pruned from the queue", 15_000,
          () -> daemon.get("/api/v1/approvals", RunningDaemon.VIEWER).json().get("count").asInt() == 0);
      assertEquals(200, daemon.get("/api/v1/approvals/early.1", RunningDaemon.VIEWER).status());
      assertEquals(200, daemon.get("/api/v1/approvals/waits.1", RunningDaemon.VIEWER).status());
    }
  }
}
