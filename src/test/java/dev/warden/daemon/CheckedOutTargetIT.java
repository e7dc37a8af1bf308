package dev.warden.daemon;

import static dev.warden.daemon.ApprovalFlowContract.await;
import static dev.warden.daemon.ApprovalFlowContract.awaitStatus;
import static dev.warden.daemon.ApprovalFlowContract.create;
import static dev.warden.daemon.ApprovalFlowContract.landed;
import static dev.warden.daemon.ApprovalFlowContract.propose;
import static dev.warden.daemon.ApprovalFlowContract.proposal;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
 * Landing on {@code main} while the user has it checked out in their clone
 * ({@code warden.apply.checked-out-target = update}, the default): the branch, the clone's index and
 * its files move together as with {@code git merge --ff-only}; local edits of other paths stay byte
 * for byte; an edit of a landed path makes the proposal wait, named in its note, until the user
 * reverts or commits it. deferred-retry is long here: what makes it land is the watch of the clone.
 */
class CheckedOutTargetIT {

  @TempDir Path tmp;

  private RunningDaemon start() throws Exception {
    Path policy = tmp.resolve("policy.conf");
    Files.writeString(policy, "rules = [ { paths = \"review/**\", tier = high }, { paths = \"**\", tier = low } ]\n");
    Config config = RunningDaemon.config(tmp.resolve("data"), "", "", "", List.of(tmp.resolve("repos")), true)
        .withValue("warden.policy.file", ConfigValueFactory.fromAnyRef(policy.toString()))
        .withValue("warden.apply.deferred-retry", ConfigValueFactory.fromAnyRef("10m"));
    return RunningDaemon.start(config).awaitReady();
  }

  /** The user's clone: main checked out, as users have it. */
  private Path userClone() throws Exception {
    Path repo = GitRepos.create(tmp.resolve("repos/app")).toRealPath();
    StringBuilder lines = new StringBuilder();
    for (int i = 1; i <= 12; i++) {
      lines.append("line ").append(i).append('\n');
    }
    Files.writeString(repo.resolve("c.txt"), lines);
    Files.writeString(repo.resolve("staged.txt"), "staged before\n");
    Files.writeString(repo.resolve("unstaged.txt"), "unstaged before\n");
    GitRepos.git(repo, "add", ".");
    commit(repo, "more files");
    return repo;
  }

  private static void commit(Path repo, String message) {
    GitRepos.git(repo, "-c", "user.email=t@example.com", "-c", "user.name=Test", "commit", "-q", "-m", message);
  }

  private static void awaitNote(RunningDaemon daemon, String id, String path) throws InterruptedException {
    try {
      await("a note naming " + path, 30_000, () -> proposal(daemon, id).path("note").asText().contains(path));
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + ": " + proposal(daemon, id), e);
    }
  }

  private static String status(Path repo) {
    return GitRepos.git(repo, "status", "--porcelain", "--untracked-files=all");
  }

  @Test
  void aCleanCloneGetsTheLandedFilesAndUnrelatedLocalEditsStayByteForByte() throws Exception {
    Path repo = userClone();
    try (RunningDaemon daemon = start()) {
      // (a) a clean clone: it lands, git status is clean and shows the landed files
      Path first = Path.of(create(daemon, repo, "first", null));
      Files.writeString(first.resolve("new.txt"), "new\n");
      Files.writeString(first.resolve("a.txt"), "hello from warden\n");
      assertEquals(201, propose(daemon, "first", "first").status());
      JsonNode applied = awaitStatus(daemon, "first.1", "applied", 30_000);
      assertEquals(applied.get("apply").get("commit").asText(), GitRepos.git(repo, "rev-parse", "HEAD"));
      assertEquals("", status(repo), "the clone is clean after the landing");
      assertEquals("new\n", Files.readString(repo.resolve("new.txt")));
      assertEquals("hello from warden\n", Files.readString(repo.resolve("a.txt")));
      assertEquals("main", GitRepos.git(repo, "symbolic-ref", "--short", "HEAD"));

      // (b) one staged, one unstaged, one untracked edit of other paths: it lands, all three stay
      Files.writeString(repo.resolve("staged.txt"), "staged after\r\nwith CRLF\n");
      GitRepos.git(repo, "add", "staged.txt");
      Files.write(repo.resolve("unstaged.txt"), new byte[] {'u', 0, (byte) 0xff, '\n'});
      Files.writeString(repo.resolve("untracked.txt"), "mine\n");
      byte[] staged = Files.readAllBytes(repo.resolve("staged.txt"));
      byte[] unstaged = Files.readAllBytes(repo.resolve("unstaged.txt"));
      String stagedBlob = GitRepos.git(repo, "rev-parse", ":staged.txt");
      String before = status(repo);
      Path second = Path.of(create(daemon, repo, "second", null));
      Files.createDirectories(second.resolve("docs"));
      Files.writeString(second.resolve("docs/guide.md"), "guide\n");
      Files.writeString(second.resolve("a.txt"), "hello again\n");
      assertEquals(201, propose(daemon, "second", "second").status());
      JsonNode second1 = awaitStatus(daemon, "second.1", "applied", 30_000);
      assertEquals(second1.get("apply").get("commit").asText(), GitRepos.git(repo, "rev-parse", "HEAD"));
      assertEquals("guide\n", Files.readString(repo.resolve("docs/guide.md")));
      assertEquals("hello again\n", Files.readString(repo.resolve("a.txt")));
      assertArrayEquals(staged, Files.readAllBytes(repo.resolve("staged.txt")));
      assertArrayEquals(unstaged, Files.readAllBytes(repo.resolve("unstaged.txt")));
      assertEquals("mine\n", Files.readString(repo.resolve("untracked.txt")));
      assertEquals(stagedBlob, GitRepos.git(repo, "rev-parse", ":staged.txt"), "the staged edit is still staged");
      assertEquals(before, status(repo), "the same three local edits, nothing else");
    }
  }

  @Test
  void anEditOfALandedPathMakesItWaitNamingThePathUntilTheUserRevertsOrCommitsIt() throws Exception {
    Path repo = userClone();
    try (RunningDaemon daemon = start()) {
      // the user edits a.txt; the feature changes a.txt too: it waits, naming a.txt, the file untouched
      String head = GitRepos.git(repo, "rev-parse", "HEAD");
      Files.writeString(repo.resolve("a.txt"), "my local edit\n");
      Path w = Path.of(create(daemon, repo, "clash", null));
      Files.writeString(w.resolve("a.txt"), "warden's edit\n");
      assertEquals(201, propose(daemon, "clash", "clash").status());
      awaitNote(daemon, "clash.1", "a.txt");
      JsonNode waiting = proposal(daemon, "clash.1");
      assertEquals("approved", waiting.get("status").asText(), waiting.toString());
      assertTrue(waiting.get("note").asText().contains("local changes to a.txt"), waiting.toString());
      assertEquals(head, GitRepos.git(repo, "rev-parse", "main"), "main did not move");
      Thread.sleep(1500);
      assertEquals("my local edit\n", Files.readString(repo.resolve("a.txt")), "the user's edit is untouched");
      assertEquals("approved", proposal(daemon, "clash.1").get("status").asText());

      // the user reverts it: it lands without a restart (and without waiting for deferred-retry)
      GitRepos.git(repo, "checkout", "--", "a.txt");
      awaitStatus(daemon, "clash.1", "applied", 20_000);
      assertEquals("warden's edit\n", Files.readString(repo.resolve("a.txt")));
      assertEquals("", status(repo));

      // a staged edit of a landed path waits too; the user commits it: it lands on top, merged
      Files.writeString(repo.resolve("c.txt"), Files.readString(repo.resolve("c.txt")).replace("line 1\n", "line 1 (user)\n"));
      GitRepos.git(repo, "add", "c.txt");
      Path w2 = Path.of(create(daemon, repo, "tail", null));
      Files.writeString(w2.resolve("c.txt"), Files.readString(w2.resolve("c.txt")).replace("line 12\n", "line 12 (warden)\n"));
      assertEquals(201, propose(daemon, "tail", "tail").status());
      awaitNote(daemon, "tail.1", "c.txt");
      assertEquals("approved", proposal(daemon, "tail.1").get("status").asText());
      commit(repo, "mine");
      awaitStatus(daemon, "tail.1", "applied", 30_000);
      String c = Files.readString(repo.resolve("c.txt"));
      assertTrue(c.startsWith("line 1 (user)\n") && c.endsWith("line 12 (warden)\n"), c);
      assertEquals("", status(repo));
      assertEquals(1, landed(repo, "tail.1").lines().count());
    }
  }

  @Test
  void landOnRequestAnswersForUnknownRejectedOrAppliedProposalsWithoutChangingAnything() throws Exception {
    Path repo = userClone();
    try (RunningDaemon daemon = start()) {
      Path w = Path.of(create(daemon, repo, "done", null));
      Files.writeString(w.resolve("d.txt"), "d\n");
      assertEquals(201, propose(daemon, "done", "done").status());
      awaitStatus(daemon, "done.1", "applied", 30_000);
      Path r = Path.of(create(daemon, repo, "nope", null));
      Files.createDirectories(r.resolve("review"));
      Files.writeString(r.resolve("review/x.txt"), "x\n");
      assertEquals(201, propose(daemon, "nope", "nope").status());
      Response rejected = daemon.post("/api/v1/approvals/nope.1/reject", RunningDaemon.APPROVER, "{\"reason\":\"no\"}");
      assertEquals(200, rejected.status(), rejected.body());
      String main = GitRepos.git(repo, "rev-parse", "main");
      String files = status(repo);

      daemon.post("/api/v1/approvals/ghost.1/land", RunningDaemon.APPROVER, "").assertProblem(404, null);
      daemon.post("/api/v1/approvals/not-a-proposal/land", RunningDaemon.APPROVER, "").assertProblem(404, null);
      daemon.post("/api/v1/approvals/done.2/land", RunningDaemon.APPROVER, "").assertProblem(404, null);
      daemon.post("/api/v1/approvals/nope.1/land", RunningDaemon.APPROVER, "").assertProblem(409, null);
      Response already = daemon.post("/api/v1/approvals/done.1/land", RunningDaemon.APPROVER, "");
      already.assertProblem(409, null);
      assertTrue(already.body().contains("applied already"), already.body());
      daemon.post("/api/v1/approvals/done.1/land", RunningDaemon.APPROVER, "{\"force\":true}").assertProblem(400, null);
      assertEquals(403, daemon.post("/api/v1/approvals/done.1/land", RunningDaemon.VIEWER, "").status());

      assertEquals(main, GitRepos.git(repo, "rev-parse", "main"));
      assertEquals(files, status(repo));
      assertEquals("applied", proposal(daemon, "done.1").get("status").asText());
      assertEquals("rejected", proposal(daemon, "nope.1").get("status").asText());
      assertEquals(1, landed(repo, "done.1").lines().count());
      assertFalse(Files.exists(repo.resolve("review/x.txt")));
    }
  }
}
