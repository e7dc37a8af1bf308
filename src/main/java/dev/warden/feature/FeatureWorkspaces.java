package dev.warden.feature;

import dev.warden.git.Branches;
import dev.warden.git.PrivateGitDir;
import dev.warden.git.RepositoryGuard;
import dev.warden.git.SupervisedRepository;
import dev.warden.git.Worktrees;
import dev.warden.plan.Plan;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.eclipse.jgit.lib.ObjectId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The git side of a feature's life: before it is registered, check its repository and target and
 * create branch {@code warden/<id>} plus a linked worktree under {@code <data>/worktrees/<id>}; after
 * it is abandoned, remove both. The user's own working tree and branches are never touched. Blocking:
 * call it on the blocking dispatcher.
 */
public final class FeatureWorkspaces {

  private static final Logger log = LoggerFactory.getLogger(FeatureWorkspaces.class);

  private final RepositoryGuard guard;
  private final Worktrees worktrees;
  private final Path worktreesDir;
  private final Path agentGitDir;

  /** Private git dirs of sandboxed agents ({@code PrivateGitDir}) in {@code agent-git} beside {@code worktreesDir}. */
  public FeatureWorkspaces(RepositoryGuard guard, Worktrees worktrees, Path worktreesDir) {
    this(guard, worktrees, worktreesDir, worktreesDir.resolveSibling("agent-git"));
  }

  /** @param agentGitDir where each feature's sandboxed agent keeps its private git dir, deleted with the worktree */
  public FeatureWorkspaces(RepositoryGuard guard, Worktrees worktrees, Path worktreesDir, Path agentGitDir) {
    this.guard = guard;
    this.worktrees = worktrees;
    this.worktreesDir = worktreesDir;
    this.agentGitDir = agentGitDir;
  }

  /**
   * Creates the feature's branch and worktree. Either both exist afterwards or, on any failure,
   * neither does (what this call created is removed again) and the cause is rethrown.
   */
  public Feature.Registration prepare(String id, String repoPath, String target, Plan plan) {
    SupervisedRepository repo = guard.resolve(repoPath);
    ObjectId base = Branches.head(repo, target, "target");
    String branch = FeatureId.branchOf(id);
    Path worktree = worktreePath(id);
    Branches.create(repo, branch, base);
    try {
      Files.createDirectories(worktreesDir);
      worktrees.add(repo, worktree, branch);
    } catch (RuntimeException | IOException e) {
      // the branch is ours (created just now from "absent"): take it back
      Branches.delete(repo, branch);
      if (e instanceof IOException io) {
        throw new UncheckedIOException("cannot create " + worktreesDir, io);
      }
      throw (RuntimeException) e;
    }
    log.info("[{}] created branch {} at {} and worktree {}", id, branch, base.name(), worktree);
    return new Feature.Registration(repo.root().toString(), target, branch, worktree.toString(), base.name(), plan);
  }

  /** Removes the worktree and the branch; repeating it after a crash finishes what was left. */
  public void remove(String id, String repoPath, String branch, String worktree) {
    SupervisedRepository repo = SupervisedRepository.atRoot(Path.of(repoPath));
    Path path = Path.of(worktree);
    if (!path.startsWith(worktreesDir)) {
      throw new IllegalStateException("refusing to remove " + path + ": not under " + worktreesDir);
    }
    worktrees.remove(repo, path);
    Branches.delete(repo, branch);
    // the sandboxed agent's git dir (its commits, its index): meaningless without the worktree
    PrivateGitDir.delete(agentGitDir.resolve(FeatureId.require(id, "id")));
    log.info("[{}] removed worktree {} and branch {}", id, path, branch);
  }

  public Path worktreePath(String id) {
    return worktreesDir.resolve(FeatureId.require(id, "id"));
  }
}
