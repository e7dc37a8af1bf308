package dev.warden.checkpoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.NavigableSet;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.eclipse.jgit.dircache.DirCache;
import org.eclipse.jgit.dircache.DirCacheEntry;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.util.FS;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The feature worktree's own git index, read only (never locked or written): what git already hashed
 * (to seed the first full scan) and which paths are tracked (git add -A keeps updating those even
 * when an ignore rule matches them). Used by the chain's capturing thread only.
 */
final class WorktreeIndex {

  private static final Logger log = LoggerFactory.getLogger(WorktreeIndex.class);

  /** git's stat data and blob id for a path, as the index has them. */
  record Seed(int mode, ObjectId id, int length, long mtime) {}

  private final Path indexFile;
  private NavigableSet<String> tracked;
  private Stat trackedStat;
  private long trackedChecked = -1;

  WorktreeIndex(Path worktree) {
    this.indexFile = indexFileOf(worktree);
  }

  /** Forgets the tracked paths (the image was reloaded). */
  void forget() {
    tracked = null;
  }

  /**
   * Reads the worktree's index once, right after open, so the first full scan need not hash files
   * git already hashed: an entry counts when its size, mtime and mode match lstat and it is not racy
   * (modified before the index file was written), git's own rule. Conflicted, intent-to-add,
   * assume-unchanged and skip-worktree entries are not trusted. Also primes the tracked paths.
   * Null when there is no readable index.
   */
  Map<String, Seed> seed(long pass) {
    if (indexFile == null) {
      return null;
    }
    try {
      Stat s = Stat.of(indexFile);
      if (s == null) {
        return null;
      }
      DirCache index = DirCache.read(indexFile.toFile(), FS.DETECTED);
      Map<String, Seed> known = new HashMap<>(index.getEntryCount() * 2);
      NavigableSet<String> paths = new TreeSet<>();
      for (int i = 0; i < index.getEntryCount(); i++) {
        DirCacheEntry e = index.getEntry(i);
        String path = e.getPathString();
        paths.add(path);
        if (e.getStage() != 0 || e.isAssumeValid() || e.isSkipWorkTree() || e.isIntentToAdd()) {
          continue;
        }
        Instant modified = e.getLastModifiedInstant();
        long mtime = TimeUnit.SECONDS.toNanos(modified.getEpochSecond()) + modified.getNano();
        if (mtime >= s.mtime()) {
          continue;
        }
        int raw = e.getRawMode();
        int mode = (raw & FileMode.TYPE_MASK) == FileMode.TYPE_FILE ? ((raw & 0111) != 0 ? Nodes.EXECUTABLE : Nodes.REGULAR) : raw;
        known.put(path, new Seed(mode, e.getObjectId(), e.getLength(), mtime));
      }
      tracked = paths;
      trackedStat = s;
      trackedChecked = pass;
      return known;
    } catch (IOException | RuntimeException e) {
      log.debug("cannot read index {} (every file will be hashed): {}", indexFile, e.toString());
      return null;
    }
  }

  /**
   * Paths in the worktree's own index. Read only when an ignored entry is met, again only when the
   * index file's stat changed. Without a readable index the base commit's paths stand in.
   */
  private NavigableSet<String> tracked(long pass, Collection<String> basePaths) {
    if (trackedChecked == pass && tracked != null) {
      return tracked;
    }
    trackedChecked = pass;
    Stat s = null;
    try {
      s = indexFile == null ? null : Stat.of(indexFile);
    } catch (IOException e) {
      log.debug("cannot stat {}: {}", indexFile, e.toString());
    }
    if (tracked != null && s != null && s.sameFile(trackedStat)) {
      return tracked;
    }
    NavigableSet<String> paths = new TreeSet<>();
    if (s != null) {
      try {
        DirCache index = DirCache.read(indexFile.toFile(), FS.DETECTED);
        for (int i = 0; i < index.getEntryCount(); i++) {
          DirCacheEntry e = index.getEntry(i);
          paths.add(e.getPathString());
        }
      } catch (IOException e) {
        log.debug("cannot read index {}: {}", indexFile, e.toString());
        paths.addAll(basePaths);
      }
    } else {
      paths.addAll(basePaths);
    }
    tracked = paths;
    trackedStat = s;
    return tracked;
  }

  boolean isTracked(long pass, String path, Collection<String> basePaths) {
    return tracked(pass, basePaths).contains(path);
  }

  boolean hasTrackedUnder(long pass, String dir, Collection<String> basePaths) {
    String next = tracked(pass, basePaths).ceiling(dir + "/");
    return next != null && next.startsWith(dir + "/");
  }

  private static Path indexFileOf(Path worktree) {
    Path dotGit = worktree.resolve(".git");
    try {
      if (Files.isDirectory(dotGit, LinkOption.NOFOLLOW_LINKS)) {
        return dotGit.resolve("index");
      }
      if (Files.isRegularFile(dotGit, LinkOption.NOFOLLOW_LINKS)) {
        String text = Files.readString(dotGit).trim();
        if (text.startsWith("gitdir:")) {
          Path admin = Path.of(text.substring("gitdir:".length()).trim());
          return (admin.isAbsolute() ? admin : worktree.resolve(admin)).normalize().resolve("index");
        }
      }
    } catch (IOException e) {
      log.debug("cannot read {}: {}", dotGit, e.toString());
    }
    return null;
  }
}
