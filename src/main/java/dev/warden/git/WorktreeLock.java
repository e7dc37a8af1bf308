package dev.warden.git;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * One lock per repository for changing its set of linked worktrees. {@code git worktree add} reads
 * every record under {@code .git/worktrees/} while it works, and neither git nor we remove a record
 * atomically; an add running next to a removal in the same repository fails with "failed to read
 * .../commondir". Every add, remove, prune and sweep in the daemon (feature worktrees, check
 * worktrees, merge worktrees) therefore runs under this lock for its repository. The lock is per
 * JVM, which is per daemon; a git command the user runs by hand at that moment is not covered, and
 * callers that can repeat an add do so once.
 */
public final class WorktreeLock {

  private static final ConcurrentHashMap<Path, ReentrantLock> LOCKS = new ConcurrentHashMap<>();

  private WorktreeLock() {}

  /** Runs {@code work} holding the lock of the repository whose (common) git directory is {@code gitDir}. */
  public static <T> T holding(Path gitDir, Supplier<T> work) {
    ReentrantLock lock = LOCKS.computeIfAbsent(key(gitDir), k -> new ReentrantLock());
    lock.lock();
    try {
      return work.get();
    } finally {
      lock.unlock();
    }
  }

  /** Runs {@code work} holding the lock of the repository whose (common) git directory is {@code gitDir}. */
  public static void holding(Path gitDir, Runnable work) {
    holding(gitDir, () -> {
      work.run();
      return null;
    });
  }

  private static Path key(Path gitDir) {
    try {
      return gitDir.toRealPath();
    } catch (IOException e) {
      return gitDir.toAbsolutePath().normalize();
    }
  }
}
