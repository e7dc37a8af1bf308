package dev.warden.checkpoint;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import org.eclipse.jgit.ignore.IgnoreNode;
import org.eclipse.jgit.lib.Repository;

/**
 * Git's ignore rules for one worktree, in git's precedence: the {@code .gitignore} of the entry's own
 * directory, then of each directory above it, then the repository's {@code info/exclude}, then the
 * user's {@code core.excludesFile} (default {@code $XDG_CONFIG_HOME/git/ignore}). Per-directory rules
 * live on the directory nodes ({@link Nodes.Dir#rules}) and are reloaded when their file's stat
 * changes; the two repository-wide files are checked once per capture.
 */
final class Ignores {

  private final Path infoExclude;
  private final Path excludesFile;
  private IgnoreNode info;
  private Stat infoStat;
  private IgnoreNode global;
  private Stat globalStat;

  Ignores(Path commonGitDir, Repository repo) {
    this.infoExclude = commonGitDir.resolve("info").resolve("exclude");
    this.excludesFile = excludesFile(repo);
  }

  private static Path excludesFile(Repository repo) {
    String configured = repo.getConfig().getString("core", null, "excludesFile");
    String home = System.getProperty("user.home");
    if (configured != null && !configured.isBlank()) {
      if (configured.startsWith("~/") && home != null) {
        return Path.of(home, configured.substring(2));
      }
      return Path.of(configured);
    }
    String xdg = System.getenv("XDG_CONFIG_HOME");
    if (xdg != null && !xdg.isBlank()) {
      return Path.of(xdg, "git", "ignore");
    }
    return home == null ? null : Path.of(home, ".config", "git", "ignore");
  }

  /** Re-reads the repository-wide files when they changed; true when they did (a full re-scan is due). */
  boolean refresh() throws IOException {
    boolean changed = false;
    Stat s = Stat.of(infoExclude);
    if (!sameStat(s, infoStat)) {
      info = load(infoExclude, s);
      infoStat = s;
      changed = true;
    }
    if (excludesFile != null) {
      Stat g = Stat.of(excludesFile);
      if (!sameStat(g, globalStat)) {
        global = load(excludesFile, g);
        globalStat = g;
        changed = true;
      }
    }
    return changed;
  }

  private static boolean sameStat(Stat a, Stat b) {
    return a == null ? b == null : a.sameFile(b);
  }

  /**
   * Reloads {@code dir}'s own .gitignore when its stat changed; true when the rules may differ now.
   * A .gitignore that is not a regular file (a symlink, say) is not followed, as git does.
   */
  static boolean reloadRules(Nodes.Dir dir, Path absoluteDir) throws IOException {
    Path file = absoluteDir.resolve(".gitignore");
    Stat s = Stat.of(file);
    if (s != null && s.type() != Stat.Type.FILE) {
      s = null;
    }
    if (s == null ? dir.rulesStat == null : s.sameFile(dir.rulesStat)) {
      return false;
    }
    dir.rules = load(file, s);
    dir.rulesStat = s;
    return true;
  }

  private static IgnoreNode load(Path file, Stat stat) throws IOException {
    if (stat == null || stat.type() != Stat.Type.FILE) {
      return null;
    }
    IgnoreNode node = new IgnoreNode();
    try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
      node.parse(file.toString(), in);
    } catch (java.nio.file.NoSuchFileException e) {
      return null;
    }
    return node.getRules().isEmpty() ? null : node;
  }

  /** Whether entry {@code name} of {@code parent} is ignored (its parents are known not to be). */
  boolean isIgnored(Nodes.Dir parent, String name, boolean directory) {
    String path = parent.path.isEmpty() ? name : parent.path + "/" + name;
    for (Nodes.Dir d = parent; d != null; d = d.parent) {
      if (d.rules != null) {
        String relative = d.path.isEmpty() ? path : path.substring(d.path.length() + 1);
        Boolean ignored = d.rules.checkIgnored(relative, directory);
        if (ignored != null) {
          return ignored;
        }
      }
    }
    if (info != null) {
      Boolean ignored = info.checkIgnored(path, directory);
      if (ignored != null) {
        return ignored;
      }
    }
    if (global != null) {
      Boolean ignored = global.checkIgnored(path, directory);
      if (ignored != null) {
        return ignored;
      }
    }
    return false;
  }
}
