package dev.warden.git;

import java.nio.file.Path;

/**
 * A repository Warden accepted: {@code root} is the real path the operator named (symlinks and
 * {@code ..} resolved), {@code gitDir} its git directory ({@code root/.git}, or {@code root} itself
 * when bare).
 */
public record SupervisedRepository(Path root, Path gitDir) {

  /** A repository accepted earlier (its root as recorded in the feature): its git dir is {@code root/.git}, or root when bare. */
  public static SupervisedRepository atRoot(Path root) {
    Path dotGit = root.resolve(".git");
    return new SupervisedRepository(root, java.nio.file.Files.isDirectory(dotGit) ? dotGit : root);
  }
}
