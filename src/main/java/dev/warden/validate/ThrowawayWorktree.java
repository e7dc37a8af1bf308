package dev.warden.validate;

import dev.warden.git.Directories;
import dev.warden.git.GitCli;
import dev.warden.git.GitFailure;
import dev.warden.git.WorktreeLock;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A detached linked worktree of a repository at one commit, in a fresh directory under a scratch
 * parent, for running checks against exactly that commit's content; {@link #close()} removes it and
 * git's record of it. Created with {@code git worktree add --detach} through {@link GitCli} (hooks
 * disabled): it has its own HEAD and index under {@code .git/worktrees/<name>}, creates no branch, and
 * leaves every other worktree, the repository's HEAD, index and refs as they were.
 *
 * <p>Removal is targeted: {@code git worktree remove --force --force} for this worktree only, then
 * its directory and its admin directory deleted by hand if git left them. It never runs
 * {@code git worktree prune}, which would also drop the records of other worktrees whose directories
 * happen to be missing at that moment (a feature's worktree on an unmounted share, say). What a
 * crash left behind is found by {@link #sweep}.
 */
public final class ThrowawayWorktree implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ThrowawayWorktree.class);

  /** Directory names start with this, so {@link #sweep} can tell ours from anything else under the parent. */
  static final String PREFIX = "check-";
  /** Object ids only: never a ref name, never anything git could take for an option. */
  private static final Pattern OBJECT_ID = Pattern.compile("[0-9a-f]{4,64}");

  private final GitCli git;
  private final Path gitDir;
  private final Path path;
  private final String commit;
  private boolean closed;

  private ThrowawayWorktree(GitCli git, Path gitDir, Path path, String commit) {
    this.git = git;
    this.gitDir = gitDir;
    this.path = path;
    this.commit = commit;
  }

  /**
   * Checks out {@code commit} (a commit id, full or abbreviated) of the repository whose git
   * directory is {@code gitDir} into a new directory under {@code parent}, which is created if
   * missing. Throws {@link IllegalArgumentException} for something that is not a commit id and
   * {@link GitFailure} when git cannot do it; nothing is left behind either way.
   */
  public static ThrowawayWorktree create(GitCli git, Path gitDir, String commit, Path parent) {
    requireObjectId(commit);
    Path absoluteGitDir = realPath(gitDir);
    GitCli.Result resolved = git.run(absoluteGitDir, List.of("rev-parse", "--verify", "--quiet", commit + "^{commit}"));
    if (!resolved.ok()) {
      throw new IllegalArgumentException("no commit " + commit + " in " + absoluteGitDir);
    }
    String fullId = resolved.output().strip();
    Path dir;
    try {
      Files.createDirectories(parent);
      // an empty directory of our own, unique without racing anyone for the name; git accepts it.
      // Real paths throughout: git records real paths, and sweep compares with what git lists.
      dir = Files.createTempDirectory(parent.toRealPath(), PREFIX);
    } catch (IOException e) {
      throw new GitFailure("cannot create a scratch directory under " + parent + ": " + e.getMessage(), e);
    }
    GitCli.Result added;
    try {
      added = WorktreeLock.holding(absoluteGitDir, () -> addDetached(git, absoluteGitDir, dir, fullId));
    } catch (GitFailure e) { // timed out or interrupted, maybe half done
      remove(git, absoluteGitDir, dir);
      throw e;
    }
    ThrowawayWorktree worktree = new ThrowawayWorktree(git, absoluteGitDir, dir, fullId);
    if (!added.ok()) {
      worktree.close();
      throw new GitFailure("git worktree add --detach " + dir + " " + fullId + " failed: " + added.output());
    }
    return worktree;
  }

  /**
   * {@code git worktree add --detach}, repeated once when git tripped over another worktree's record
   * being removed at that moment by a git command outside this daemon (see {@link WorktreeLock}).
   */
  private static GitCli.Result addDetached(GitCli git, Path gitDir, Path dir, String commit) {
    List<String> args = List.of("worktree", "add", "--quiet", "--detach", dir.toString(), commit);
    GitCli.Result added = git.run(gitDir, args);
    if (!added.ok() && added.output().contains("failed to read") && isEmptyDirectory(dir)) {
      int repaired = removeHalfWrittenRecords(gitDir);
      log.info("git worktree add {} tripped over a half-written worktree record ({} removed); trying once more", dir, repaired);
      added = git.run(gitDir, args);
    }
    return added;
  }

  /**
   * Removes records of our check worktrees ({@code <gitDir>/worktrees/check-*}) whose {@code commondir}
   * file exists but is empty: what a {@code git worktree add} killed half-way leaves (a cancelled check,
   * a daemon killed mid-check). git refuses every later {@code worktree add} and {@code worktree list}
   * of the repository while such a record exists ("failed to read .../commondir"), the user's included.
   * Returns how many were removed.
   */
  static int removeHalfWrittenRecords(Path gitDir) {
    Path worktrees = gitDir.resolve("worktrees");
    if (!Files.isDirectory(worktrees)) {
      return 0;
    }
    int removed = 0;
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(worktrees, PREFIX + "*")) {
      for (Path record : entries) {
        Path commondir = record.resolve("commondir");
        try {
          if (Files.isRegularFile(commondir, LinkOption.NOFOLLOW_LINKS) && Files.size(commondir) == 0) {
            Directories.deleteTree(record);
            removed++;
          }
        } catch (IOException | RuntimeException e) {
          log.warn("cannot remove the half-written worktree record {}: {}", record, e.getMessage());
        }
      }
    } catch (IOException e) {
      log.warn("cannot list {}: {}", worktrees, e.getMessage());
    }
    return removed;
  }

  private static boolean isEmptyDirectory(Path dir) {
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      return !entries.iterator().hasNext();
    } catch (IOException e) {
      return false;
    }
  }

  /** Throws {@link IllegalArgumentException} unless {@code id} looks like an object id (hex, 4 to 64 digits). */
  static void requireObjectId(String id) {
    if (!OBJECT_ID.matcher(id).matches()) {
      throw new IllegalArgumentException("not a commit id: '" + id + "'");
    }
  }

  /** The worktree's directory. */
  public Path path() {
    return path;
  }

  /** The full id of the commit checked out. */
  public String commit() {
    return commit;
  }

  /**
   * Removes the worktree and git's record of it, whatever a check left inside (read-only
   * directories included), also on a thread that was interrupted (a cancelled check): the flag is
   * kept for the caller. Idempotent. Throws {@link GitFailure} only when the directory could not be
   * deleted at all.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    remove(git, gitDir, path);
  }

  /**
   * Removes every throwaway worktree of the repository under {@code parent}: what a daemon that died
   * while checks ran left behind. Only worktrees git lists for this repository, under that parent and
   * named as ours, are touched. Returns the directories removed.
   */
  public static List<Path> sweep(GitCli git, Path gitDir, Path parent) {
    Path absoluteGitDir = realPath(gitDir);
    if (!Files.isDirectory(parent)) {
      return List.of();
    }
    Path absoluteParent = realPath(parent);
    return WorktreeLock.holding(absoluteGitDir, () -> sweepLocked(git, absoluteGitDir, absoluteParent));
  }

  private static List<Path> sweepLocked(GitCli git, Path absoluteGitDir, Path absoluteParent) {
    removeHalfWrittenRecords(absoluteGitDir);
    GitCli.Result listed = git.run(absoluteGitDir, List.of("worktree", "list", "--porcelain"));
    if (!listed.ok()) {
      throw new GitFailure("git worktree list failed: " + listed.output());
    }
    List<Path> removed = new ArrayList<>();
    for (String line : listed.output().lines().toList()) {
      if (!line.startsWith("worktree ")) {
        continue;
      }
      Path candidate = Path.of(line.substring("worktree ".length()));
      if (candidate.getParent() != null && candidate.getParent().equals(absoluteParent)
          && candidate.getFileName().toString().startsWith(PREFIX)) {
        remove(git, absoluteGitDir, candidate);
        removed.add(candidate);
      }
    }
    return removed;
  }

  private static void remove(GitCli git, Path gitDir, Path path) {
    // a cancelled check interrupts this thread; the git commands below must run all the same
    boolean interrupted = Thread.interrupted();
    try {
      WorktreeLock.holding(gitDir, () -> removeLocked(git, gitDir, path));
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static void removeLocked(GitCli git, Path gitDir, Path path) {
    if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
      try {
        GitCli.Result result = git.run(gitDir, List.of("worktree", "remove", "--force", "--force", path.toString()));
        if (!result.ok()) {
          log.debug("git worktree remove {} failed ({}); deleting it ourselves", path, result.output());
        }
      } catch (GitFailure e) {
        log.warn("git worktree remove {} failed ({}); deleting it ourselves", path, e.getMessage());
      }
    }
    Directories.deleteTree(path);
    // git's record, when remove could not drop it (the directory was gone, half made, or tampered with)
    recordsOf(gitDir, path).forEach(Directories::deleteTree);
  }

  /**
   * git's records ({@code <gitDir>/worktrees/check-*}) of the worktree at {@code path}, found from
   * git's side: each record's {@code gitdir} file names the worktree's {@code .git}. The worktree's
   * own {@code .git} file is never trusted for this, since a check runs in there and could rewrite it
   * to name another worktree's record.
   */
  private static List<Path> recordsOf(Path gitDir, Path path) {
    List<Path> records = new ArrayList<>();
    Path worktrees = gitDir.resolve("worktrees");
    if (!Files.isDirectory(worktrees)) {
      return records;
    }
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(worktrees, PREFIX + "*")) {
      for (Path record : entries) {
        try {
          Path named = Path.of(Files.readString(record.resolve("gitdir")).strip()).normalize();
          if (path.equals(named.getParent())) {
            records.add(record);
          }
        } catch (IOException | RuntimeException e) {
          // no gitdir file: not a record of anything
        }
      }
    } catch (IOException e) {
      log.warn("cannot list {}: {}", worktrees, e.getMessage());
    }
    return records;
  }

  private static Path realPath(Path path) {
    try {
      return path.toRealPath();
    } catch (IOException e) {
      throw new IllegalArgumentException("no such directory: " + path, e);
    }
  }


}
