package dev.warden.apply;

import static dev.warden.testing.GitRepos.git;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warden.git.GitCli;
import dev.warden.plan.Tier;
import dev.warden.testing.GitRepos;
import dev.warden.validate.CheckRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exactly once on real git: a landing repeated for the same proposal (what a daemon killed after
 * moving the target but before recording it does on restart) finds its own commit instead of
 * merging a second time; the same for a revert.
 */
class LandingTest {

  @TempDir Path tmp;
  private final GitCli git = new GitCli("git", Duration.ofSeconds(30));
  private final ExecutorService pool = Executors.newSingleThreadExecutor();

  @AfterEach
  void stop() {
    pool.shutdownNow();
  }

  @Test
  void aProposalWithoutADescriptionLandsUnderADefaultTitle() {
    Proposal.Draft draft = new Proposal.Draft("login-fix.2", "login-fix", 2, "  \n", 1, "c", "t", "g", "main", "b",
        new Proposal.Changes(0, 0, 0, List.of()), Tier.MEDIUM, 1, Optional.empty(), Instant.now(), Optional.empty(), "agent",
        Instant.now(), Optional.empty());
    assertEquals("Work on feature login-fix", draft.title());
    assertEquals("Work on feature login-fix\n\nFeature login-fix, checkpoint 1, tier medium.\n\nWarden-Proposal: login-fix.2",
        draft.commitMessage());
  }

  @Test
  void landingTheSameProposalTwiceMakesOneCommitAndSaysSoTheSecondTime() throws Exception {
    Path repo = GitRepos.create(tmp.resolve("repo"));
    git(repo, "checkout", "-q", "other");
    Path wt = tmp.resolve("wt");
    git(repo, "worktree", "add", "-q", "-b", "feature", wt.toString(), "main");
    Files.writeString(wt.resolve("b.txt"), "b\n");
    git(wt, "add", "b.txt");
    git(wt, "-c", "user.name=A", "-c", "user.email=a@example.com", "commit", "-q", "-m", "b");
    String checkpoint = git(wt, "rev-parse", "HEAD");
    String before = git(repo, "rev-parse", "main");
    Landing landing = new Landing(new MergeEngine(git, new CheckRunner(CheckRunner.Settings.defaults()), tmp.resolve("scratch")),
        git, ApplySettings.defaults(), pool);
    Proposal.Draft draft = new Proposal.Draft("f.1", "f", 1, "Add b\nmore words", 3, checkpoint, "tree", repo.resolve(".git").toString(),
        "main", before, new Proposal.Changes(1, 1, 0, List.of()), Tier.LOW, 0, Optional.empty(), Instant.now().plusSeconds(60),
        Optional.empty(), "agent", Instant.now(), Optional.empty());

    Landing.Outcome first = landing.land(draft).toCompletableFuture().get();
    MergeEngine.Result.Applied applied = assertInstanceOf(MergeEngine.Result.Applied.class, first.result());
    assertFalse(first.foundAfterRestart());
    String message = git(repo, "log", "-1", "--format=%B", "main");
    // the proposal's title is the subject; the rest of its description the body
    assertTrue(message.startsWith("Add b\n\nmore words\n\nFeature f, checkpoint 3, tier low.\n\n"), message);
    // squash by default: one commit on main's head, the checkpoint commit is not in main's history
    assertEquals(before, git(repo, "rev-parse", "main^1"));
    assertTrue(git(repo, "rev-list", "--parents", "-n", "1", "main").split(" ").length == 2, "one parent");
    assertTrue(GitRepos.tryGit(repo, "merge-base", "--is-ancestor", checkpoint, "main").exitCode() != 0,
        "the checkpoint commit stays off main");
    // both trailers in one block, so git and JGit read them as trailers
    assertEquals("Warden-Proposal: f.1\nWarden-Checkpoint: " + checkpoint,
        git(repo, "log", "-1", "--format=%(trailers:only,unfold)", "main").strip());

    Landing.Outcome second = landing.land(draft).toCompletableFuture().get();
    assertTrue(second.foundAfterRestart());
    MergeEngine.Result.Applied found = assertInstanceOf(MergeEngine.Result.Applied.class, second.result());
    assertEquals(applied.commit(), found.commit());
    assertEquals(before, found.targetBefore());
    assertEquals(applied.commit(), git(repo, "rev-parse", "main"), "no second commit");

    Landing.Outcome reverted = landing.revert(draft, applied.commit(), "ops", "broke prod").toCompletableFuture().get();
    String revert = assertInstanceOf(MergeEngine.Result.Applied.class, reverted.result()).commit();
    Landing.Outcome again = landing.revert(draft, applied.commit(), "ops", "broke prod").toCompletableFuture().get();
    assertTrue(again.foundAfterRestart());
    assertEquals(revert, git(repo, "rev-parse", "main"), "no second revert");
  }
}
