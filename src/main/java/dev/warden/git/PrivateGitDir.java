package dev.warden.git;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.TreeMap;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.Ref;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;

/**
 * The git directory an agent's sandbox sees in place of its worktree's admin directory
 * ({@code <repo>/.git/worktrees/<id>}): a small repository of its own whose objects come from the
 * supervised repository through {@code objects/info/alternates}, read-only, and whose refs, index,
 * config and new objects are the feature's alone. {@code git status}, {@code diff}, {@code add} and
 * {@code commit} work on the agent's branch; nothing the agent does with git can reach the
 * repository's refs, hooks, config or objects (docs/architecture.md, "The agent's sandbox").
 *
 * <p>Created on the first sandboxed run and kept between runs (the agent's commits stay); each run
 * refreshes a read-only snapshot of the repository's branches and tags in {@code packed-refs}, so
 * {@code git diff main} works inside. The agent's own branch stays a loose ref and wins over the
 * snapshot. Deleted with the feature's worktree.
 */
public final class PrivateGitDir {

  private PrivateGitDir() {}

  /**
   * Makes {@code privateDir} ready for the feature whose worktree admin directory is {@code adminDir}
   * in the repository whose git directory is {@code commonGitDir}, on {@code branch} (e.g.
   * {@code warden/login}).
   */
  public static void prepare(Path commonGitDir, Path adminDir, Path privateDir, String branch) {
    try {
      if (hasLinksWhereWardenWrites(privateDir)) {
        // the agent replaced a directory Warden writes into with a link (to make Warden write elsewhere):
        // start over; its commits in there are lost, which it asked for
        Directories.deleteTree(privateDir);
      }
      boolean fresh = !Files.isRegularFile(privateDir.resolve("HEAD"), LinkOption.NOFOLLOW_LINKS);
      if (fresh) {
        Directories.deleteTree(privateDir); // whatever is there is not ours to write into
      }
      Files.createDirectories(privateDir.resolve("objects").resolve("info"));
      Files.createDirectories(privateDir.resolve("refs").resolve("heads"));
      Files.createDirectories(privateDir.resolve("refs").resolve("tags"));
      write(privateDir.resolve("objects").resolve("info").resolve("alternates"),
          commonGitDir.resolve("objects").toAbsolutePath().normalize() + "\n");
      write(privateDir.resolve("config"), """
          [core]
          \trepositoryformatversion = 0
          \tfilemode = true
          \tbare = false
          \tlogallrefupdates = true
          """);
      Map<String, ObjectId> snapshot = new TreeMap<>();
      ObjectId branchHead;
      try (Repository repo = new FileRepositoryBuilder().setGitDir(commonGitDir.toFile()).setMustExist(true).build()) {
        for (Ref ref : repo.getRefDatabase().getRefsByPrefix(Constants.R_HEADS)) {
          if (ref.getObjectId() != null) {
            snapshot.put(ref.getName(), ref.getObjectId());
          }
        }
        for (Ref ref : repo.getRefDatabase().getRefsByPrefix(Constants.R_TAGS)) {
          if (ref.getObjectId() != null) {
            snapshot.put(ref.getName(), ref.getObjectId());
          }
        }
        Ref own = repo.exactRef(Constants.R_HEADS + branch);
        if (own == null || own.getObjectId() == null) {
          throw new GitFailure("branch " + branch + " does not exist in " + commonGitDir);
        }
        branchHead = own.getObjectId();
      }
      StringBuilder packed = new StringBuilder("# pack-refs with: peeled fully-peeled sorted \n");
      snapshot.forEach((name, id) -> packed.append(id.name()).append(' ').append(name).append('\n'));
      write(privateDir.resolve("packed-refs"), packed.toString());
      if (fresh) {
        Path ownRef = privateDir.resolve("refs").resolve("heads").resolve(branch);
        Files.createDirectories(ownRef.getParent());
        write(ownRef, branchHead.name() + "\n");
        Path index = adminDir.resolve("index");
        if (Files.isRegularFile(index, LinkOption.NOFOLLOW_LINKS)) {
          Files.copy(index, privateDir.resolve("index"), StandardCopyOption.REPLACE_EXISTING);
        }
        write(privateDir.resolve("HEAD"), "ref: refs/heads/" + branch + "\n");
      }
    } catch (IOException e) {
      throw new GitFailure("cannot prepare the sandbox's git directory " + privateDir + ": " + e.getMessage(), e);
    }
  }

  /**
   * The admin directory of the linked worktree at {@code worktree}: the one its {@code .git} file
   * names when that lies in {@code <commonGitDir>/worktrees/} (git may have suffixed the name), else
   * {@code <commonGitDir>/worktrees/<basename>}. A {@code .git} file pointing anywhere else (rewritten by
   * an unsandboxed run) is not followed: the sandbox's private git dir is placed only where git keeps
   * worktree admin directories.
   */
  public static Path adminDirOf(Path worktree, Path commonGitDir) {
    Path admins = commonGitDir.toAbsolutePath().normalize().resolve("worktrees");
    Path fallback = admins.resolve(worktree.getFileName().toString());
    try {
      String content = Files.readString(worktree.resolve(".git"), StandardCharsets.UTF_8).trim();
      if (content.startsWith("gitdir:")) {
        Path named = Path.of(content.substring("gitdir:".length()).trim());
        Path admin = (named.isAbsolute() ? named : worktree.resolve(named)).normalize();
        if (admin.getParent() != null && admin.getParent().equals(admins)) {
          return admin;
        }
      }
    } catch (IOException | java.nio.file.InvalidPathException e) {
      // no usable .git file: git's usual place
    }
    return fallback;
  }

  /** Deletes the private git dir of a feature whose worktree is gone; nothing when there is none. */
  public static void delete(Path privateDir) {
    if (Files.exists(privateDir, LinkOption.NOFOLLOW_LINKS)) {
      Directories.deleteTree(privateDir);
    }
  }

  private static boolean hasLinksWhereWardenWrites(Path privateDir) {
    for (Path path : new Path[] {privateDir, privateDir.resolve("objects"), privateDir.resolve("objects").resolve("info"),
        privateDir.resolve("refs"), privateDir.resolve("refs").resolve("heads"), privateDir.resolve("refs").resolve("tags")}) {
      if (Files.isSymbolicLink(path) || (Files.exists(path, LinkOption.NOFOLLOW_LINKS)
          && !Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS))) {
        return true;
      }
    }
    return false;
  }

  /** Writes {@code text} through a temporary file and a rename: a reader never sees half of it. */
  private static void write(Path file, String text) throws IOException {
    Path temp = file.resolveSibling(file.getFileName() + ".tmp");
    // the agent writes this directory: a link it left at the temporary name must be replaced, never
    // followed (Warden would write its text into whatever file the link names)
    Files.deleteIfExists(temp);
    Files.writeString(temp, text, StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
