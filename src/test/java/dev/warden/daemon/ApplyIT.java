package dev.warden.daemon;

import static dev.warden.daemon.ApprovalFlowContract.await;
import static dev.warden.daemon.ApprovalFlowContract.awaitStatus;
import static dev.warden.daemon.ApprovalFlowContract.create;
import static dev.warden.daemon.ApprovalFlowContract.landed;
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
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Landing on the target with everything low-tier: concurrent features, conflicts, a failing test, a
 * target someone has checked out, squash mode, rollback, and proposals refused before they exist.
 */
class ApplyIT {

  @TempDir Path tmp;

  private RunningDaemon start(String mode) throws Exception {
    return start(mode, "update");
  }

  private RunningDaemon start(String mode, String checkedOutTarget) throws Exception {
    Path policy = tmp.resolve("policy.conf");
    Files.writeString(policy, "rules = [ { paths = \"**\", tier = low } ]\n");
    Config config = RunningDaemon.config(tmp.resolve("data"), "", "", "", List.of(tmp.resolve("repos")), true)
        .withValue("warden.policy.file", ConfigValueFactory.fromAnyRef(policy.toString()))
        .withValue("warden.apply.mode", ConfigValueFactory.fromAnyRef(mode))
        .withValue("warden.apply.deferred-retry", ConfigValueFactory.fromAnyRef("300ms"))
        .withValue("warden.apply.checked-out-target", ConfigValueFactory.fromAnyRef(checkedOutTarget));
    return RunningDaemon.start(config).awaitReady();
  }

  private static void write(Path worktree, String file, String content) throws Exception {
    Path path = worktree.resolve(file);
    Files.createDirectories(path.getParent());
    Files.writeString(path, content);
  }

  @Test
  void featuresApprovedAtOnceAllLandAndAConflictFailsWithItsPathsLeavingTheTargetAlone() throws Exception {
    Path repo = repository(tmp.resolve("repos/app"));
    try (RunningDaemon daemon = start("merge")) {
      // four features on different files, proposed at the same moment: all land, none lost
      List<String> ids = List.of("f-one", "f-two", "f-three", "f-four");
      for (String id : ids) {
        write(Path.of(create(daemon, repo, id, null)), "docs/" + id + ".md", id + "\n");
      }
      List<CompletableFuture<Response>> proposals = ids.stream()
          .map(id -> CompletableFuture.supplyAsync(() -> propose(daemon, id, "add " + id))).toList();
      for (CompletableFuture<Response> p : proposals) {
        assertEquals(201, p.join().status(), p.join().body());
      }
      for (String id : ids) {
        awaitStatus(daemon, id + ".1", "applied", 60_000);
        assertEquals(id, GitRepos.git(repo, "show", "main:docs/" + id + ".md"));
        assertFalse(landed(repo, id + ".1").isEmpty());
      }
      // each one merged onto what the one before left: main's first-parent line has all four
      assertEquals(4, GitRepos.git(repo, "rev-list", "--first-parent", "--merges", "main").lines().count());

      // two features changing the same line: the first lands, the second fails naming the path
      String before = GitRepos.git(repo, "rev-parse", "main");
      Path x = Path.of(create(daemon, repo, "edit-x", null));
      Path y = Path.of(create(daemon, repo, "edit-y", null));
      write(x, "a.txt", "from x\n");
      write(y, "a.txt", "from y\n");
      assertEquals(201, propose(daemon, "edit-x", "x").status());
      awaitStatus(daemon, "edit-x.1", "applied", 30_000);
      String afterX = GitRepos.git(repo, "rev-parse", "main");
      assertFalse(afterX.equals(before));
      assertEquals(201, propose(daemon, "edit-y", "y").status());
      JsonNode failed = awaitStatus(daemon, "edit-y.1", "failed", 30_000);
      assertEquals("a.txt", failed.get("apply").get("conflicts").get(0).asText(), failed.toString());
      assertTrue(failed.get("apply").get("error").asText().contains("a.txt"), failed.toString());
      assertEquals(afterX, GitRepos.git(repo, "rev-parse", "main"), "a failed apply must leave the target alone");
      assertEquals("from x", GitRepos.git(repo, "show", "main:a.txt"));
      // the feature goes back to work: its agent can resolve and propose again
      await("edit-y back at work", 10_000, () -> daemon.get("/api/v1/features/edit-y", RunningDaemon.VIEWER).json()
          .get("status").asText().equals("active"));
    }
  }

  @Test
  void aTestFailingOnTheMergeWithTheTargetLeavesItAsItWasAndTheProposalFailedWithTheOutput() throws Exception {
    Path repo = repository(tmp.resolve("repos/app"));
    try (RunningDaemon daemon = start("merge")) {
      // the test passes on the feature's own checkpoint (its validation) ...
      Path worktree = Path.of(create(daemon, repo, "broken",
          "{\"test\":{\"argv\":[\"sh\",\"-c\",\"if [ -f late.txt ]; then echo 3 tests failed; exit 3; fi\"]}}"));
      write(worktree, "src/x.txt", "x\n");
      // ... but not on the merge with main, which moved on meanwhile
      GitRepos.git(repo, "checkout", "-q", "main");
      Files.writeString(repo.resolve("late.txt"), "late\n");
      GitRepos.git(repo, "add", "late.txt");
      GitRepos.git(repo, "-c", "user.email=t@example.com", "-c", "user.name=Test", "commit", "-q", "-m", "late");
      GitRepos.git(repo, "checkout", "-q", "other");
      String before = GitRepos.git(repo, "rev-parse", "main");
      Response proposed = propose(daemon, "broken", "break things");
      assertEquals(201, proposed.status(), proposed.body());
      assertEquals("valid", proposed.json().get("validation").get("status").asText());
      JsonNode failed = awaitStatus(daemon, "broken.1", "failed", 30_000);
      assertTrue(failed.get("approved").asBoolean(), "it was approved; the test stopped it");
      JsonNode test = failed.get("tests").get(0);
      assertFalse(test.get("passed").asBoolean());
      assertEquals(3, test.get("exitCode").asInt());
      assertTrue(test.get("output").asText().contains("3 tests failed"), test.toString());
      assertTrue(failed.get("apply").get("error").asText().contains("target is unchanged"), failed.toString());
      assertEquals(before, GitRepos.git(repo, "rev-parse", "main"));
    }
  }

  @Test
  void withCheckedOutTargetWaitATargetCheckedOutByItsUserWaitsThenLandsInSquashModeAndAnAdminCanRollItBack() throws Exception {
    Path repo = GitRepos.create(tmp.resolve("repos/app")).toRealPath(); // main checked out, as users have it
    String before = GitRepos.git(repo, "rev-parse", "main");
    try (RunningDaemon daemon = start("squash", "wait")) {
      Path worktree = Path.of(create(daemon, repo, "sq", "{\"test\":{\"argv\":[\"test\",\"-f\",\"a.txt\"]}}"));
      write(worktree, "b.txt", "b\n");
      assertEquals(201, propose(daemon, "sq", "Add b").status());
      await("the wait explained", 30_000, () -> ApprovalFlowContract.proposal(daemon, "sq.1").path("note").asText()
          .contains("checked out in " + repo));
      JsonNode waiting = ApprovalFlowContract.proposal(daemon, "sq.1");
      assertEquals("approved", waiting.get("status").asText());
      assertEquals(before, GitRepos.git(repo, "rev-parse", "main"), "never moves a branch under the user's working tree");
      GitRepos.git(repo, "checkout", "-q", "other");
      JsonNode applied = awaitStatus(daemon, "sq.1", "applied", 30_000);
      assertTrue(applied.get("tests").get(0).get("passed").asBoolean());
      // squash: one commit on main's head, no merge
      assertEquals(before, GitRepos.git(repo, "rev-parse", "main^1"));
      assertEquals("", GitRepos.git(repo, "rev-list", "--merges", "main"));

      daemon.post("/api/v1/approvals/sq.1/rollback", RunningDaemon.ADMIN, "{}").assertProblem(400, "reason");
      Response reverted = daemon.post("/api/v1/approvals/sq.1/rollback", RunningDaemon.ADMIN, "{\"reason\":\"broke prod\"}");
      assertEquals(200, reverted.status(), reverted.body());
      assertEquals("reverted", reverted.json().get("status").asText());
      assertEquals(reverted.json().get("revert").get("commit").asText(), GitRepos.git(repo, "rev-parse", "main"));
      assertTrue(GitRepos.tryGit(repo, "cat-file", "-e", "main:b.txt").exitCode() != 0, "b.txt is gone again");
      daemon.post("/api/v1/approvals/sq.1/rollback", RunningDaemon.ADMIN, "{\"reason\":\"again\"}").assertProblem(409, null);
    }
  }

  @Test
  void anInvalidCheckpointOrAnOversizedDiffIsRefusedBeforeItBecomesAProposal() throws Exception {
    Path repo = repository(tmp.resolve("repos/app"));
    try (RunningDaemon daemon = start("merge")) {
      Path worktree = Path.of(create(daemon, repo, "sneaky", "{\"forbiddenPaths\":[\"secrets/**\"]}"));
      write(worktree, "secrets/key.txt", "k\n");
      Response refused = propose(daemon, "sneaky", "x");
      refused.assertProblem(422, null);
      assertEquals("invalid", refused.json().get("verdict").asText(), refused.body());
      assertEquals("secrets/key.txt", refused.json().get("violations").get(0).get("path").asText());
      assertEquals(0, daemon.get("/api/v1/approvals", RunningDaemon.VIEWER).json().get("count").asInt());

      Path big = Path.of(create(daemon, repo, "big", "{\"limits\":{\"maxChangedLines\":3}}"));
      write(big, "docs/long.md", "1\n2\n3\n4\n5\n");
      Response tooBig = propose(daemon, "big", "x");
      tooBig.assertProblem(422, null);
      assertEquals("max-changed-lines", tooBig.json().get("violations").get(0).get("rule").asText(), tooBig.body());

      Path idle = Path.of(create(daemon, repo, "idle", null));
      assertTrue(Files.isDirectory(idle));
      propose(daemon, "idle", "nothing").assertProblem(409, null);
      daemon.post("/api/v1/features/nobody/propose", RunningDaemon.AGENT, "{}").assertProblem(404, null);
      daemon.post("/api/v1/features/big/propose", RunningDaemon.VIEWER, "{}").assertProblem(403, null);
    }
  }
}
