package dev.warden.git;

import dev.warden.Rejection;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.jgit.lib.RepositoryCache;
import org.eclipse.jgit.util.FS;

/**
 * Decides whether a path named in a request may be supervised: it must be absolute, exist, be a git
 * repository itself (no search upwards), and — after every symlink and {@code ..} is resolved — lie
 * under one of the operator's allowed roots. Rejections name the {@code repo} field.
 */
public final class RepositoryGuard {

  private static final String FIELD = "repo";
  private final List<Path> allowedRoots;

  /** @param allowedRoots absolute roots; empty allows any local path */
  public RepositoryGuard(List<Path> allowedRoots) {
    this.allowedRoots = List.copyOf(allowedRoots);
  }

  public SupervisedRepository resolve(String requested) {
    Path path;
    try {
      path = Path.of(requested);
    } catch (InvalidPathException e) {
      throw Rejection.invalid(FIELD, "is not a valid path: " + e.getReason());
    }
    if (!path.isAbsolute()) {
      throw Rejection.invalid(FIELD, "must be an absolute path, got '" + requested + "'");
    }
    Path real;
    try {
      real = path.toRealPath();
    } catch (NoSuchFileException e) {
      throw Rejection.invalid(FIELD, "'" + requested + "' does not exist");
    } catch (IOException e) {
      throw Rejection.invalid(FIELD, "'" + requested + "' cannot be read: " + e.getMessage());
    }
    if (!isAllowed(real)) {
      throw Rejection.invalid(FIELD, "'" + requested + "' resolves to " + real + ", outside the allowed roots " + allowedRoots);
    }
    if (!Files.isDirectory(real, LinkOption.NOFOLLOW_LINKS)) {
      throw Rejection.invalid(FIELD, "'" + requested + "' is not a directory");
    }
    Path dotGit = real.resolve(".git");
    if (Files.isDirectory(dotGit, LinkOption.NOFOLLOW_LINKS) && RepositoryCache.FileKey.isGitRepository(dotGit.toFile(), FS.DETECTED)) {
      return new SupervisedRepository(real, dotGit);
    }
    if (RepositoryCache.FileKey.isGitRepository(real.toFile(), FS.DETECTED)) {
      return new SupervisedRepository(real, real);
    }
    throw Rejection.invalid(FIELD, "'" + requested + "' is not a git repository (linked worktrees and submodules are not accepted)");
  }

  private boolean isAllowed(Path real) {
    if (allowedRoots.isEmpty()) {
      return true;
    }
    for (Path root : realRoots()) {
      if (real.startsWith(root)) {
        return true;
      }
    }
    return false;
  }

  /** Roots resolved on every check: an operator may create a root after the daemon started. */
  private List<Path> realRoots() {
    List<Path> real = new ArrayList<>();
    for (Path root : allowedRoots) {
      try {
        real.add(root.toRealPath());
      } catch (IOException e) {
        // a root that does not exist allows nothing
      }
    }
    return real;
  }
}
