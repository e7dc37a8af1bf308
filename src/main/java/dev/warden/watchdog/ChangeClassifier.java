package dev.warden.watchdog;

import dev.warden.git.GitPaths;
import dev.warden.validate.Severity;
import dev.warden.watchdog.WatchHub.Kind;
import dev.warden.watchdog.WatchHub.PathChange;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NavigableMap;
import java.util.NavigableSet;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Turns a feature's batches of file changes into violations the watchdog flags at once (design brief
 * §2): tampering with git's admin files, symlinks, new executables, the disk quota. One instance per
 * feature, owned by its watchdog; not thread-safe. It judges the file system as it is when {@link
 * #classify} runs, so a batch that arrives late is judged by what is on disk then.
 *
 * <p>Violation paths: worktree files are worktree-relative ({@code src/a.sh}); files of the
 * worktree's git admin dir {@code <common>/worktrees/<id>} are prefixed {@value #ADMIN_PREFIX}
 * ({@code .git-admin/config.worktree}); files of the repository's common git dir are prefixed
 * {@value #COMMON_PREFIX} ({@code .git-common/hooks/pre-commit}); the disk quota names {@code .}.
 *
 * <p>Ordinary git activity is no violation: HEAD, index, ORIG_HEAD, COMMIT_EDITMSG, logs, refs,
 * objects, packed-refs and the lock files git writes beside them.
 */
public final class ChangeClassifier {

  public static final String GIT_TAMPERING = "git-tampering";
  public static final String SYMLINK = "symlink";
  public static final String EXECUTABLE = "executable";
  public static final String DISK_QUOTA = "disk-quota";

  public static final String ADMIN_PREFIX = ".git-admin/";
  public static final String COMMON_PREFIX = ".git-common/";

  private static final String DOT_GIT = ".git";
  /** Files of the worktree's admin dir that redirect git or change what it runs. */
  private static final Set<String> ADMIN_FILES = Set.of("config.worktree", "commondir", "gitdir");
  /** Directories (admin or common) whose every change matters: hooks run code, info/exclude hides files. */
  private static final Set<String> PROTECTED_DIRS = Set.of("hooks", "info");
  private static final Set<PosixFilePermission> EXECUTE =
      EnumSet.of(PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.OTHERS_EXECUTE);

  public record Violation(String rule, String path, Severity severity, String message) {}

  private final Path worktree;
  private final Path worktreeReal;
  private final Path adminDir;
  private final Path commonDir;
  private final long diskQuotaBytes;

  /** Size of every regular file in the worktree outside {@code .git} entries, by worktree-relative path. */
  private final NavigableMap<String, Long> sizes = new TreeMap<>();
  private final NavigableSet<String> executables = new TreeSet<>();
  private long diskUsage;
  private boolean overQuotaReported;

  /**
   * Give the same paths as to {@link WatchHub#watch} (the changes are matched against them as they
   * are, not resolved).
   */
  public ChangeClassifier(Path worktree, Path adminDir, Path commonDir, long diskQuotaBytes) {
    this.worktree = worktree.toAbsolutePath().normalize();
    this.adminDir = adminDir.toAbsolutePath().normalize();
    this.commonDir = commonDir.toAbsolutePath().normalize();
    this.diskQuotaBytes = diskQuotaBytes;
    Path real;
    try {
      real = this.worktree.toRealPath();
    } catch (IOException e) {
      real = this.worktree;
    }
    this.worktreeReal = real;
  }

  /**
   * The directories to hand to {@link WatchHub#watch} as {@code extraDirs}: the admin dir, the common
   * dir, its hooks and info. The hub skips those that do not exist and picks them up when they appear.
   */
  public static List<Path> gitDirsToWatch(Path adminDir, Path commonDir) {
    return List.of(adminDir, commonDir, commonDir.resolve("hooks"), commonDir.resolve("info"));
  }

  /**
   * Whether a change belongs in this feature's change log. The top level of the repository's common
   * git dir is watched only for its config (and the hooks and info directories): its other files (the
   * user's own index and HEAD, packed-refs, COMMIT_EDITMSG, locks) change with the user's checkout and
   * every other worktree of the repository, Warden's own checkpoint refs included, so they are nobody's
   * feature in particular. The feature's own git activity is in its admin dir, which is recorded.
   */
  public boolean isOwnChange(Path path) {
    if (isGitTransient(path)) {
      return false;
    }
    Path parent = path.getParent();
    if (parent != null && parent.equals(commonDir)) {
      String name = path.getFileName().toString();
      return name.equals("config") || PROTECTED_DIRS.contains(name);
    }
    return true;
  }

  /**
   * A file git writes and removes again within one command, in the worktree's admin dir or the
   * common git dir: the lock it takes beside a file it rewrites ({@code index.lock} from a {@code git
   * status}, {@code HEAD.lock}, a ref's lock) and its temporary object files. Not changes: they are in
   * no change log and take no checkpoint. A worktree file with such a name ({@code Cargo.lock}) is an
   * ordinary file.
   */
  public boolean isGitTransient(Path path) {
    Path absolute = path.toAbsolutePath().normalize();
    if (!absolute.startsWith(adminDir) && !absolute.startsWith(commonDir)) {
      return false;
    }
    Path file = absolute.getFileName();
    if (file == null) {
      return false;
    }
    String name = file.toString();
    return name.endsWith(".lock") || name.startsWith("tmp_obj_") || name.startsWith("tmp_pack_") || name.startsWith("tmp_idx_");
  }

  /** Walks the worktree once (skipping nested {@code .git}) to learn sizes and the executables already there. */
  public void initialScan() {
    sizes.clear();
    executables.clear();
    diskUsage = 0;
    overQuotaReported = false;
    try {
      Files.walkFileTree(worktree, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
          return !dir.equals(worktree) && isDotGit(dir) ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
          if (!isDotGit(file)) {
            String rel = relative(worktree, file);
            PosixFileAttributes posix = posixAttributes(file);
            if (posix != null && posix.isRegularFile()) {
              track(rel, posix.size());
              if (isExecutable(posix)) {
                executables.add(rel);
              }
            }
          }
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult visitFileFailed(Path file, IOException e) {
          return FileVisitResult.CONTINUE; // vanished or unreadable: the next change or full scan says more
        }
      });
    } catch (IOException e) {
      throw new IllegalStateException("cannot scan worktree " + worktree + ": " + e.getMessage(), e);
    }
  }

  /** Classifies a batch and updates the disk-usage and executable bookkeeping. */
  public List<Violation> classify(List<PathChange> changes) {
    Map<Path, EnumSet<Kind>> byPath = new LinkedHashMap<>();
    for (PathChange change : changes) {
      byPath.computeIfAbsent(change.path().toAbsolutePath().normalize(), p -> EnumSet.noneOf(Kind.class)).add(change.kind());
    }
    List<Violation> violations = new ArrayList<>();
    for (Map.Entry<Path, EnumSet<Kind>> entry : byPath.entrySet()) {
      Path path = entry.getKey();
      EnumSet<Kind> kinds = entry.getValue();
      if (path.startsWith(adminDir) || path.startsWith(commonDir)) {
        classifyGitDir(path, kinds, violations);
      } else if (path.startsWith(worktree) && !path.equals(worktree)) {
        classifyWorktree(path, kinds, violations);
      }
    }
    if (diskUsage > diskQuotaBytes) {
      if (!overQuotaReported) {
        overQuotaReported = true;
        violations.add(new Violation(DISK_QUOTA, ".", Severity.ERROR,
            "the worktree holds " + diskUsage + " bytes of files, above its disk quota of " + diskQuotaBytes + " bytes"));
      }
    } else {
      overQuotaReported = false;
    }
    return violations;
  }

  /** Bytes of regular files in the worktree (nested {@code .git} excluded), as last seen. */
  public long diskUsageBytes() {
    return diskUsage;
  }

  /**
   * The worktree-relative paths of the batch that a checkpoint should re-hash: everything below the
   * worktree (deleted paths included), nothing of the git directories, first seen first.
   */
  public static List<String> worktreePaths(Path worktree, List<PathChange> changes) {
    Path root = worktree.toAbsolutePath().normalize();
    Set<String> paths = new LinkedHashSet<>();
    for (PathChange change : changes) {
      Path path = change.path().toAbsolutePath().normalize();
      if (path.startsWith(root) && !path.equals(root) && !hasGitComponent(root.relativize(path))) {
        paths.add(relative(root, path));
      }
    }
    return List.copyOf(paths);
  }

  // ---- git directories ----

  private void classifyGitDir(Path path, EnumSet<Kind> kinds, List<Violation> violations) {
    String what = null;
    String label = null;
    if (path.equals(adminDir) && !Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
      violations.add(new Violation(GIT_TAMPERING, ADMIN_PREFIX, Severity.CRITICAL,
          "the worktree's git admin dir " + adminDir + " was deleted: git no longer knows the worktree"));
      return;
    }
    if (path.startsWith(adminDir) && !path.equals(adminDir)) {
      Path rel = adminDir.relativize(path);
      label = ADMIN_PREFIX + rel;
      if (ADMIN_FILES.contains(rel.toString())) {
        what = "git admin file " + rel + " of the worktree";
      } else if (PROTECTED_DIRS.contains(rel.getName(0).toString())) {
        what = rel.getName(0) + " of the worktree's git admin dir";
      }
    }
    if (what == null && path.startsWith(commonDir) && !path.equals(commonDir)) {
      Path rel = commonDir.relativize(path);
      label = COMMON_PREFIX + rel;
      if (rel.toString().equals("config")) {
        what = "the repository's git config";
      } else if (PROTECTED_DIRS.contains(rel.getName(0).toString())) {
        what = "the repository's git " + rel.getName(0) + " directory";
      }
    }
    if (what != null) {
      violations.add(new Violation(GIT_TAMPERING, label, Severity.CRITICAL,
          what + " was " + describe(kinds) + " (" + path + ")"));
    }
  }

  // ---- the worktree ----

  private void classifyWorktree(Path path, EnumSet<Kind> kinds, List<Violation> violations) {
    Path rel = worktree.relativize(path);
    String relString = rel.toString();
    if (relString.equals(DOT_GIT)) {
      classifyDotGitFile(path, violations);
      forget(relString);
      return;
    }
    if (isDotGit(path)) {
      forget(relString);
      if (kinds.contains(Kind.CREATED) && Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
        violations.add(new Violation(GIT_TAMPERING, relString, Severity.CRITICAL,
            "a nested .git " + (Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS) ? "directory" : "file")
                + " was created at " + relString + ": git commands there would use another repository"));
      }
      return;
    }
    if (insideGit(rel)) {
      return; // inside a nested repository: flagged when its .git appeared
    }
    PosixFileAttributes attrs = posixAttributes(path);
    if (attrs == null) {
      forgetTree(relString);
      return;
    }
    if (attrs.isSymbolicLink()) {
      forgetTree(relString);
      classifySymlink(path, relString, violations);
    } else if (attrs.isRegularFile()) {
      track(relString, attrs.size());
      if (!isExecutable(attrs)) {
        executables.remove(relString);
      } else if (executables.add(relString)) {
        String mode = PosixFilePermissions.toString(attrs.permissions());
        violations.add(new Violation(EXECUTABLE, relString, Severity.WARNING,
            (kinds.contains(Kind.CREATED) ? "new executable file " : "file became executable: ") + relString + " (" + mode + ")"));
      }
    } else {
      forget(relString); // a directory (or fifo, socket) now: what is below it reports itself
    }
  }

  /** The worktree's own {@code .git} must stay a regular file saying {@code gitdir: <adminDir>}. */
  private void classifyDotGitFile(Path path, List<Violation> violations) {
    String expected = "gitdir: " + adminDir;
    PosixFileAttributes attrs = posixAttributes(path);
    String problem;
    Severity severity = Severity.CRITICAL;
    if (attrs == null) {
      problem = "was deleted";
    } else if (attrs.isSymbolicLink()) {
      problem = "was replaced by a symbolic link to " + readLink(path);
    } else if (attrs.isDirectory()) {
      problem = "was replaced by a directory (a repository of the agent's own)";
    } else if (!attrs.isRegularFile()) {
      problem = "was replaced by something that is not a regular file";
    } else {
      String content = readHead(path);
      if (pointsToAdminDir(content)) {
        // touched (chmod, touch, rewritten the same): not redirected, but nobody should write it
        severity = Severity.WARNING;
        problem = "was modified but still says '" + expected + "'";
      } else {
        problem = "was redirected: it says '" + content.strip() + "' instead of '" + expected + "'";
      }
    }
    violations.add(new Violation(GIT_TAMPERING, DOT_GIT, severity, "the worktree's .git file " + problem));
  }

  private boolean pointsToAdminDir(String content) {
    String line = content.strip();
    if (!line.startsWith("gitdir:") || line.contains("\n")) {
      return false;
    }
    Path target = Path.of(line.substring("gitdir:".length()).strip());
    if (!target.isAbsolute()) {
      target = worktree.resolve(target);
    }
    target = target.normalize();
    if (target.equals(adminDir)) {
      return true;
    }
    try {
      return Files.isSameFile(target, adminDir);
    } catch (IOException e) {
      return false;
    }
  }

  private void classifySymlink(Path path, String rel, List<Violation> violations) {
    Path target = readLink(path);
    Path parent = path.getParent();
    Path lexical = target == null ? null : parent.resolve(target).normalize();
    boolean inside = lexical != null && lexical.startsWith(worktree);
    Path resolved = lexical;
    try {
      resolved = path.toRealPath();
      inside &= resolved.startsWith(worktreeReal);
    } catch (IOException dangling) {
      // a dangling link is judged by where it points
    }
    if (inside) {
      violations.add(new Violation(SYMLINK, rel, Severity.WARNING,
          "symbolic link " + rel + " -> " + target + " (inside the worktree)"));
    } else {
      violations.add(new Violation(SYMLINK, rel, Severity.CRITICAL,
          "symbolic link " + rel + " -> " + target + " points outside the worktree, to " + resolved));
    }
  }

  // ---- bookkeeping ----

  private void track(String rel, long size) {
    Long before = sizes.put(rel, size);
    diskUsage += size - (before == null ? 0 : before);
  }

  private void forget(String rel) {
    Long before = sizes.remove(rel);
    if (before != null) {
      diskUsage -= before;
    }
    executables.remove(rel);
  }

  /** {@code rel} is gone or no longer a directory: forget it and everything that was below it. */
  private void forgetTree(String rel) {
    forget(rel);
    // every path below rel sorts between "rel/" and "rel0" ('0' follows '/')
    Map<String, Long> below = sizes.subMap(rel + "/", true, rel + "0", false);
    for (long size : below.values()) {
      diskUsage -= size;
    }
    below.clear();
    executables.subSet(rel + "/", true, rel + "0", false).clear();
  }

  // ---- helpers ----

  private static PosixFileAttributes posixAttributes(Path path) {
    try {
      return Files.readAttributes(path, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (IOException e) {
      return null; // gone (or unreadable): nothing to judge, and nothing to count
    }
  }

  private static boolean isExecutable(PosixFileAttributes attrs) {
    return attrs.isRegularFile() && attrs.permissions().stream().anyMatch(EXECUTE::contains);
  }

  private static Path readLink(Path path) {
    try {
      return Files.readSymbolicLink(path);
    } catch (IOException e) {
      return null;
    }
  }

  /** The first KiB of a file; a {@code .git} file is one short line. */
  private static String readHead(Path path) {
    try (InputStream in = Files.newInputStream(path, LinkOption.NOFOLLOW_LINKS)) {
      return new String(in.readNBytes(1024), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }

  private static String describe(EnumSet<Kind> kinds) {
    List<String> words = new ArrayList<>();
    for (Kind kind : kinds) {
      words.add(kind.name().toLowerCase(Locale.ROOT));
    }
    return String.join(" and ", words);
  }

  /** A nested {@code .git} (or a name git, Windows or macOS would take for one): see {@link GitPaths}. */
  private static boolean isDotGit(Path path) {
    return GitPaths.isGitName(path);
  }

  /** True when a component before the last is git's: the path lies inside a git directory. */
  private static boolean insideGit(Path rel) {
    return GitPaths.isInsideGit(rel);
  }

  private static boolean hasGitComponent(Path rel) {
    return GitPaths.isGitPath(rel);
  }

  private static String relative(Path root, Path path) {
    return root.relativize(path).toString();
  }
}
