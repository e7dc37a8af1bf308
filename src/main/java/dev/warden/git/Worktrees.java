package dev.warden.git;

import dev.warden.Rejection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Adds and removes linked git worktrees. JGit 7.8 cannot create them, so this one step uses the git
 * CLI ({@code git worktree add/remove}); the result is an ordinary linked worktree that git, editors
 * and agents recognise. Everything else about branches goes through JGit ({@link Branches}).
 */
public final class Worktrees {

  private final GitCli git;

  public Worktrees(GitCli git) {
    this.git = git;
  }

  /** Checks out existing {@code branch} into the new directory {@code path}. */
  public void add(SupervisedRepository repo, Path path, String branch) {
    if (Files.exists(path)) {
      throw Rejection.conflict("worktree directory " + path + " already exists");
    }
    GitCli.Result result = WorktreeLock.holding(repo.gitDir(),
        () -> git.run(repo.gitDir(), List.of("worktree", "add", "--quiet", path.toString(), branch)));
    if (!result.ok()) {
      throw new GitFailure("git worktree add " + path + " failed: " + result.output());
    }
  }

  /**
   * Removes the worktree at {@code path} (with whatever the agent left in it) and git's record of it.
   * Nothing happens when it is already gone, so an interrupted removal can simply be repeated.
   */
  public void remove(SupervisedRepository repo, Path path) {
    WorktreeLock.holding(repo.gitDir(), () -> removeLocked(repo, path));
  }

  private void removeLocked(SupervisedRepository repo, Path path) {
    if (Files.exists(path)) {
      GitCli.Result result = git.run(repo.gitDir(), List.of("worktree", "remove", "--force", "--force", path.toString()));
      if (!result.ok() && Files.exists(path)) {
        // not a worktree git knows (half created, or its admin files are gone): delete what is ours
        Directories.deleteTree(path);
      }
    }
    GitCli.Result pruned = git.run(repo.gitDir(), List.of("worktree", "prune"));
    if (!pruned.ok()) {
      throw new GitFailure("git worktree prune failed: " + pruned.output());
    }
  }
}
