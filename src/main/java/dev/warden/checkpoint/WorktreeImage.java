package dev.warden.checkpoint;

import dev.warden.checkpoint.Nodes.Dir;
import dev.warden.checkpoint.Nodes.File;
import dev.warden.checkpoint.Nodes.Node;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectReader;

/**
 * What a chain believes its worktree holds: the tree of nodes (paths, modes, blob ids, stat data,
 * subtree ids; see {@link Nodes}), the base's files, which paths differ from the base, what changed
 * since the last checkpoint (with the new contents kept for line counts), the files left out for their
 * size, and whether the image must be rebuilt or checked by a full scan. Owned by its {@link
 * Snapshotter}; {@link WorktreeScan} and {@link Restorer} change it through these methods, on the
 * chain's thread. Not thread-safe; nothing here copies the tree.
 */
final class WorktreeImage {

  /** New contents kept for line counts without re-reading them (per capture). */
  static final long KEEP_CONTENT_LIMIT = 64L << 20;

  private Dir root = Dir.root();
  private Map<String, FileState> baseFiles = new HashMap<>();
  private final Set<String> differFromBase = new HashSet<>();
  /** Paths touched since the last checkpoint, with their state in it (null: absent). */
  private final Map<String, FileState> sinceCheckpoint = new LinkedHashMap<>();
  /** New contents of touched files, for line counts. */
  private final Map<String, byte[]> newContent = new HashMap<>();
  private long newContentBytes;
  /**
   * Files left out of the image for their size, with their size: looked at again by every capture, so
   * a file stays reported (and its checkpoints flagged) for as long as it is over the cap.
   */
  private final TreeMap<String, Long> oversized = new TreeMap<>();
  private boolean needFullScan = true;
  /** After a failure the image may disagree with the repository: rebuilt from the tip before its next use. */
  private boolean broken;

  /** Rebuilds the image from the parent commit's tree; the next capture compares it with the disk (full scan). */
  void load(ObjectReader reader, ObjectId parentTree, ObjectId baseTree) throws IOException {
    root = Dir.root();
    Trees.read(reader, root, parentTree);
    baseFiles = new HashMap<>();
    Dir baseRoot = root;
    if (!baseTree.equals(parentTree)) {
      baseRoot = Dir.root();
      Trees.read(reader, baseRoot, baseTree);
    }
    for (File f : Nodes.files(baseRoot)) {
      baseFiles.put(f.path(), new FileState(f.mode, f.id));
    }
    differFromBase.clear();
    for (File f : Nodes.files(root)) {
      if (!new FileState(f.mode, f.id).equals(baseFiles.get(f.path()))) {
        differFromBase.add(f.path());
      }
    }
    for (String path : baseFiles.keySet()) {
      if (find(path) == null) {
        differFromBase.add(path);
      }
    }
    sinceCheckpoint.clear();
    clearContent();
    oversized.clear();
    needFullScan = true;
    broken = false;
  }

  Dir root() {
    return root;
  }

  /** The paths of the base's files (a live view, not a copy). */
  Set<String> basePaths() {
    return baseFiles.keySet();
  }

  File find(String path) {
    Dir dir = root;
    int start = 0;
    while (true) {
      int slash = path.indexOf('/', start);
      if (slash < 0) {
        return dir.children.get(path.substring(start)) instanceof File f ? f : null;
      }
      if (!(dir.children.get(path.substring(start, slash)) instanceof Dir d)) {
        return null;
      }
      dir = d;
      start = slash + 1;
    }
  }

  /** The files at or below {@code sel} (a file, a directory, or "" for everything). */
  List<File> filesUnder(String sel) {
    if (sel.isEmpty()) {
      return Nodes.files(root);
    }
    Node n = root;
    for (String part : sel.split("/")) {
      if (!(n instanceof Dir d) || (n = d.children.get(part)) == null) {
        return List.of();
      }
    }
    if (n instanceof Dir d) {
      return Nodes.files(d);
    }
    return n instanceof File f ? List.of(f) : List.of();
  }

  // ---------------------------------------------------------------- since the last checkpoint

  /** Remembers {@code path}'s state in the last checkpoint before its first change since. */
  void touch(String path, File before) {
    if (!sinceCheckpoint.containsKey(path)) {
      sinceCheckpoint.put(path, before == null ? null : new FileState(before.mode, before.id));
    }
  }

  /** Keeps a touched file's new content for its line count (null: not kept), within the per-capture limit. */
  void keepContent(String path, byte[] data) {
    if (data == null) {
      newContent.remove(path);
      return;
    }
    if (newContentBytes + data.length <= KEEP_CONTENT_LIMIT) {
      byte[] old = newContent.put(path, data);
      newContentBytes += data.length - (old == null ? 0 : old.length);
    }
  }

  void forgetContent(String path) {
    newContent.remove(path);
  }

  /** Takes {@code node} (a file, or a directory with all below it) out of {@code dir}, noting each file as touched. */
  void remove(Dir dir, Node node) {
    if (node instanceof File f) {
      touch(f.path(), f);
      newContent.remove(f.path());
    } else {
      for (File f : Nodes.files((Dir) node)) {
        touch(f.path(), f);
        newContent.remove(f.path());
      }
    }
    dir.remove(node.name);
    node.parent = null;
  }

  /** What differs from the last checkpoint, from the paths touched since (capturing thread). */
  List<LineCounts.PendingChange> pendingChanges() {
    List<LineCounts.PendingChange> out = new ArrayList<>();
    for (Map.Entry<String, FileState> e : sinceCheckpoint.entrySet()) {
      File now = find(e.getKey());
      FileState after = now == null ? null : new FileState(now.mode, now.id);
      if (!Objects.equals(e.getValue(), after)) {
        out.add(new LineCounts.PendingChange(e.getKey(), e.getValue(), after, newContent.get(e.getKey())));
      }
    }
    out.sort((a, b) -> a.path().compareTo(b.path()));
    return out;
  }

  /** A change made it into a checkpoint: {@code path} now holds {@code after} (null: absent). */
  void settle(String path, FileState after) {
    if (Objects.equals(baseFiles.get(path), after)) {
      differFromBase.remove(path);
    } else {
      differFromBase.add(path);
    }
  }

  int filesChangedSinceBase() {
    return differFromBase.size();
  }

  /** A capture ended (a new checkpoint or none needed): the image is the tip's and matches the disk. */
  void captured() {
    sinceCheckpoint.clear();
    clearContent();
    needFullScan = false;
  }

  private void clearContent() {
    newContent.clear();
    newContentBytes = 0;
  }

  // ---------------------------------------------------------------- files left out for their size

  void leaveOut(String path, long size) {
    oversized.put(path, size);
  }

  boolean isOversized(String path) {
    return oversized.containsKey(path);
  }

  void forgetOversized(String path) {
    oversized.remove(path);
  }

  /** The paths left out, sorted (a live view, not a copy). */
  Set<String> oversizedPaths() {
    return oversized.keySet();
  }

  /** The paths left out until now, forgotten: the capture starting looks at each again. */
  List<String> takeOversized() {
    List<String> was = List.copyOf(oversized.keySet());
    oversized.clear();
    return was;
  }

  List<Snapshotter.Oversized> oversized(long limit) {
    List<Snapshotter.Oversized> out = new ArrayList<>(oversized.size());
    oversized.forEach((path, bytes) -> out.add(new Snapshotter.Oversized(path, bytes, limit)));
    return out;
  }

  // ---------------------------------------------------------------- trust

  boolean needsFullScan() {
    return needFullScan;
  }

  /** Something (ignore rules, a restored .gitignore) changed what only a full scan sees. */
  void requireFullScan() {
    needFullScan = true;
  }

  boolean isBroken() {
    return broken;
  }

  void markBroken() {
    broken = true;
  }
}
