package dev.warden.git;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.EnumSet;
import org.eclipse.jgit.errors.CorruptObjectException;
import org.eclipse.jgit.lib.ObjectChecker;

/**
 * The one answer to "is this path git's?": a path is git's when one of its segments is, or would be
 * taken by git, Windows or macOS for, {@code .git}. That is {@code .git} in any case ({@code .GIT},
 * {@code .Git}), with trailing dots or spaces (NTFS drops them: {@code .git.}, {@code .git }), the NTFS
 * short name {@code git~1}, and {@code .git} with code points HFS+ ignores ({@code .g\u200cit}).
 * {@code .gitignore}, {@code .github} or {@code .gitmodules} are not git's.
 *
 * <p>JGit's {@link ObjectChecker} (safe for Windows and macOS) decides first; git's own
 * {@code is_ntfs_dotgit}/{@code is_hfs_dotgit} are a little wider than it, so names JGit lets through are
 * judged again with git's rules: any run of trailing dots and spaces ({@code .git..}, {@code git~1.}),
 * both aliases at once ({@code .g\u200cit.}) and U+200B. The answer is the same everywhere Warden asks:
 * the watcher, the change classifier, checkpoints and the fast validation rules.
 */
public final class GitPaths {

  /** Every check but {@code HAS_DOTGIT} is ignored: the checker throws only for a git name. */
  private static final EnumSet<ObjectChecker.ErrorType> NOT_DOTGIT =
      EnumSet.complementOf(EnumSet.of(ObjectChecker.ErrorType.HAS_DOTGIT));

  private static final ThreadLocal<ObjectChecker> CHECKER = ThreadLocal.withInitial(() ->
      new ObjectChecker().setSafeForWindows(true).setSafeForMacOS(true).setIgnore(NOT_DOTGIT));

  private GitPaths() {}

  /** Whether one path segment (a file or directory name) is git's. */
  public static boolean isGitName(String segment) {
    if (segment == null || !mayBeGit(segment)) {
      return false;
    }
    return jgitSaysGit(segment) || gitSaysGit(segment);
  }

  /** Whether the file name of {@code path} is git's (a {@code .git} file or directory, or an alias of one). */
  public static boolean isGitName(Path path) {
    Path name = path.getFileName();
    return name != null && isGitName(name.toString());
  }

  /** Whether any segment of {@code path} ({@code /}-separated, relative) is git's. */
  public static boolean isGitPath(String path) {
    return gitSegment(path) != null;
  }

  /** Whether any name of {@code path} is git's. */
  public static boolean isGitPath(Path path) {
    for (Path name : path) {
      if (isGitName(name.toString())) {
        return true;
      }
    }
    return false;
  }

  /** Whether a name before the last one of {@code rel} is git's: the path lies inside a git directory. */
  public static boolean isInsideGit(Path rel) {
    for (int i = 0; i < rel.getNameCount() - 1; i++) {
      if (isGitName(rel.getName(i).toString())) {
        return true;
      }
    }
    return false;
  }

  /** The first segment of {@code path} ({@code /}-separated) that is git's, or null. */
  public static String gitSegment(String path) {
    int start = 0;
    while (start <= path.length()) {
      int slash = path.indexOf('/', start);
      int end = slash < 0 ? path.length() : slash;
      String segment = path.substring(start, end);
      if (isGitName(segment)) {
        return segment;
      }
      if (slash < 0) {
        break;
      }
      start = slash + 1;
    }
    return null;
  }

  /** The first of {@code segments} that is git's, or null. */
  public static String gitSegment(String[] segments) {
    for (String s : segments) {
      if (isGitName(s)) {
        return s;
      }
    }
    return null;
  }

  /**
   * Cheap filter: every git name starts, once HFS-ignorable code points are dropped, with {@code .} or
   * {@code g}, and has at least four other characters' worth of length.
   */
  private static boolean mayBeGit(String s) {
    if (s.length() < 4) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char ch = s.charAt(i);
      if (!isIgnorable(ch)) {
        return ch == '.' || Character.toLowerCase(ch) == 'g';
      }
    }
    return false;
  }

  private static boolean jgitSaysGit(String segment) {
    if (segment.indexOf('\0') >= 0 || segment.indexOf('/') >= 0) {
      return false; // not a name JGit would check
    }
    byte[] raw = segment.getBytes(StandardCharsets.UTF_8);
    try {
      CHECKER.get().checkPathSegment(raw, 0, raw.length);
      return false;
    } catch (CorruptObjectException e) {
      return true; // only HAS_DOTGIT is reported
    }
  }

  /**
   * git's own rules: drop HFS-ignorable code points, fold case, drop trailing dots and spaces; what is
   * left is {@code .git} or {@code git~1}.
   */
  private static boolean gitSaysGit(String s) {
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char ch = s.charAt(i);
      if (!isIgnorable(ch)) {
        b.append(Character.toLowerCase(ch));
      }
    }
    int end = b.length();
    while (end > 0 && (b.charAt(end - 1) == '.' || b.charAt(end - 1) == ' ')) {
      end--;
    }
    String name = b.substring(0, end);
    return name.equals(".git") || name.equals("git~1");
  }

  /** Code points HFS+ ignores in names (git's list, and U+200B ZERO WIDTH SPACE). */
  private static boolean isIgnorable(char ch) {
    return (ch >= '\u200b' && ch <= '\u200f') || (ch >= '\u202a' && ch <= '\u202e') || (ch >= '\u206a' && ch <= '\u206f')
        || ch == '\ufeff';
  }
}
