package dev.warden.validate;

import dev.warden.validate.Change.Mode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.eclipse.jgit.errors.MissingObjectException;
import org.eclipse.jgit.lib.AnyObjectId;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.revwalk.RevObject;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.treewalk.TreeWalk;
import org.eclipse.jgit.treewalk.filter.TreeFilter;

/**
 * The input of {@link FastRules} read from git: the paths that differ between a feature's base and a
 * checkpoint, with modes, blob ids, sizes and symlink targets. One recursive {@link TreeWalk} over the
 * two trees with {@link TreeFilter#ANY_DIFF}, so subtrees with equal ids are skipped without being read:
 * the cost follows the size of the change, not of the repository. Line counts are left unknown; the
 * validator counts them only when the plan's limit needs it.
 */
public final class GitChanges {

  private GitChanges() {}

  /** The tree of a commit (or the tree itself). */
  public static ObjectId treeOf(ObjectReader reader, AnyObjectId commitOrTree) throws IOException {
    try (RevWalk walk = new RevWalk(reader)) {
      RevObject o = walk.peel(walk.parseAny(commitOrTree));
      if (o.getType() == Constants.OBJ_COMMIT) {
        return walk.parseCommit(o).getTree().copy();
      }
      if (o.getType() == Constants.OBJ_TREE) {
        return o.copy();
      }
      throw new IllegalArgumentException(commitOrTree.name() + " is neither a commit nor a tree");
    }
  }

  /** Every path that differs from {@code base} to {@code checkpoint} (commits or trees), in git's path order. */
  public static List<Change> between(ObjectReader reader, AnyObjectId base, AnyObjectId checkpoint) throws IOException {
    List<Change> out = new ArrayList<>();
    try (TreeWalk walk = new TreeWalk(reader)) {
      walk.addTree(treeOf(reader, base));
      walk.addTree(treeOf(reader, checkpoint));
      walk.setRecursive(true);
      walk.setFilter(TreeFilter.ANY_DIFF);
      while (walk.next()) {
        Mode before = Mode.of(walk.getRawMode(0));
        Mode after = Mode.of(walk.getRawMode(1));
        if (before == Mode.ABSENT && after == Mode.ABSENT) {
          continue;
        }
        ObjectId oldId = walk.getObjectId(0);
        ObjectId newId = walk.getObjectId(1);
        String path = walk.getPathString();
        Change c;
        if (after == Mode.ABSENT) {
          c = Change.deleted(path, before, oldId);
        } else {
          long size = after.isFile() || after == Mode.SYMLINK ? reader.getObjectSize(newId, Constants.OBJ_BLOB) : 0;
          c = before == Mode.ABSENT ? Change.added(path, after, newId, size)
              : Change.modified(path, before, oldId, after, newId, size);
          if (after == Mode.SYMLINK) {
            c = c.withSymlinkTarget(target(reader, newId));
          }
        }
        out.add(c);
      }
    }
    return out;
  }

  /** A file a checkpoint's capture left out: its size and the cap it was over. */
  public record Oversized(String path, long bytes, long limit) {}

  /**
   * The files a checkpoint commit says its capture left out for their size: its message's {@code
   * Warden-Oversized: <bytes> <limit> <url-encoded path>} lines, and the {@code Warden-Oversized-Total}
   * line when it lists fewer than there were. Nothing for a tree, or a commit without such lines; a
   * line that does not parse still counts (named by its raw text), so a damaged message cannot hide one.
   */
  public static FastRules.Skipped oversized(ObjectReader reader, AnyObjectId commitOrTree) throws IOException {
    String message;
    try (RevWalk walk = new RevWalk(reader)) {
      RevObject o = walk.parseAny(commitOrTree);
      if (o.getType() != Constants.OBJ_COMMIT) {
        return FastRules.Skipped.NONE;
      }
      message = walk.parseCommit(o).getFullMessage();
    }
    String listed = dev.warden.checkpoint.Snapshotter.OVERSIZED_TRAILER + ": ";
    String total = dev.warden.checkpoint.Snapshotter.OVERSIZED_TOTAL_TRAILER + ": ";
    List<Oversized> out = new ArrayList<>();
    int count = 0;
    for (String line : message.split("\n")) {
      if (line.startsWith(listed)) {
        String[] parts = line.substring(listed.length()).split(" ", 3);
        try {
          out.add(new Oversized(java.net.URLDecoder.decode(parts[2], StandardCharsets.UTF_8), Long.parseLong(parts[0]),
              Long.parseLong(parts[1])));
        } catch (RuntimeException e) {
          out.add(new Oversized(line.substring(listed.length()), -1, -1));
        }
      } else if (line.startsWith(total)) {
        try {
          count = Integer.parseInt(line.substring(total.length()).trim());
        } catch (NumberFormatException e) {
          count = Integer.MAX_VALUE;
        }
      }
    }
    return out.isEmpty() && count == 0 ? FastRules.Skipped.NONE : new FastRules.Skipped(out, count);
  }

  /**
   * The symlinks of a checkpoint tree, looked up on demand (one path at a time, remembered), for
   * resolving a changed link through links that did not change. Not thread-safe, like the reader.
   */
  public static FastRules.Symlinks symlinks(ObjectReader reader, AnyObjectId tree) {
    ObjectId root = tree.copy();
    Map<String, Optional<String>> seen = new HashMap<>();
    return path -> {
      Optional<String> known = seen.get(path);
      if (known != null) {
        return known;
      }
      Optional<String> found = Optional.empty();
      try (TreeWalk walk = TreeWalk.forPath(reader, path, root)) {
        if (walk != null && Mode.of(walk.getRawMode(0)) == Mode.SYMLINK) {
          found = Optional.of(target(reader, walk.getObjectId(0)));
        }
      }
      seen.put(path, found);
      return found;
    };
  }

  private static String target(ObjectReader reader, ObjectId blob) throws IOException {
    try {
      byte[] bytes = FastRules.Blobs.of(reader).read(blob, FastRules.MAX_SYMLINK_TARGET);
      return new String(bytes, StandardCharsets.UTF_8);
    } catch (MissingObjectException e) {
      throw new IOException("symlink blob " + blob.name() + " is missing", e);
    }
  }
}
