package dev.warden.checkpoint;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.jgit.ignore.IgnoreNode;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;

/**
 * The in-memory image of a worktree as of the last capture: a directory tree whose files carry their
 * blob id, git mode and the stat seen when they were hashed, and whose directories remember the id of
 * the git tree they were last written as. A change marks the directories above it dirty; writing a
 * checkpoint re-serialises only those, every other subtree keeps its id.
 */
final class Nodes {

  private Nodes() {}

  static final int REGULAR = FileMode.REGULAR_FILE.getBits();
  static final int EXECUTABLE = FileMode.EXECUTABLE_FILE.getBits();
  static final int SYMLINK = FileMode.SYMLINK.getBits();
  static final int GITLINK = FileMode.GITLINK.getBits();
  static final int TREE = FileMode.TREE.getBits();

  abstract static sealed class Node permits Dir, File {
    final String name;
    final byte[] rawName;
    Dir parent;

    Node(String name, byte[] rawName, Dir parent) {
      this.name = name;
      this.rawName = rawName;
      this.parent = parent;
    }

    String path() {
      return parent == null || parent.path.isEmpty() ? name : parent.path + "/" + name;
    }

    abstract boolean isTree();
  }

  /** A blob entry: regular, executable, symlink, or a submodule's gitlink kept as found. */
  static final class File extends Node {
    int mode;
    ObjectId id;
    /** What lstat said when {@link #id} was computed; null when never hashed here (loaded from a tree). */
    Stat stat;
    /** Changed so recently that an unchanged stat proves nothing (racy git): hash it again next time. */
    boolean racy;

    File(String name, byte[] rawName, Dir parent, int mode, ObjectId id) {
      super(name, rawName, parent);
      this.mode = mode;
      this.id = id;
    }

    @Override
    boolean isTree() {
      return false;
    }
  }

  static final class Dir extends Node {
    final String path;
    final Map<String, Node> children = new HashMap<>();
    /** Needs re-serialising: something below changed since {@link #treeId} was computed. */
    boolean dirty;
    /** The tree id (null: empty, git stores no empty trees); valid when not dirty. */
    ObjectId treeId;
    /** The last id this directory was written or loaded as, so known to be in the object database. */
    ObjectId storedId;
    /** Children in git tree order; null after membership changed. */
    Node[] sorted;
    /** Rules of this directory's .gitignore and the stat they were read with. */
    IgnoreNode rules;
    Stat rulesStat;
    /** An ignored directory kept only because tracked files live below it (git add -A updates those). */
    boolean ignored;
    /** Capture number in which lstat last confirmed this is still a real directory. */
    long verified;

    Dir(String name, byte[] rawName, Dir parent) {
      super(name, rawName, parent);
      this.path = parent == null ? "" : parent.path.isEmpty() ? name : parent.path + "/" + name;
      this.dirty = true;
    }

    static Dir root() {
      return new Dir("", new byte[0], null);
    }

    @Override
    boolean isTree() {
      return true;
    }

    void put(Node child) {
      children.put(child.name, child);
      sorted = null;
      markDirty();
    }

    Node remove(String name) {
      Node removed = children.remove(name);
      if (removed != null) {
        sorted = null;
        markDirty();
      }
      return removed;
    }

    void markDirty() {
      for (Dir d = this; d != null && !d.dirty; d = d.parent) {
        d.dirty = true;
      }
    }

    Node[] sortedChildren() {
      if (sorted == null) {
        Node[] all = children.values().toArray(new Node[0]);
        Arrays.sort(all, Nodes::gitOrder);
        sorted = all;
      }
      return sorted;
    }
  }

  /** Git's tree order: names compared as bytes, a tree's name as if it ended in '/'. */
  static int gitOrder(Node a, Node b) {
    byte[] x = a.rawName;
    byte[] y = b.rawName;
    int n = Math.min(x.length, y.length);
    for (int i = 0; i < n; i++) {
      int c = (x[i] & 0xff) - (y[i] & 0xff);
      if (c != 0) {
        return c;
      }
    }
    int cx = x.length > n ? x[n] & 0xff : a.isTree() ? '/' : 0;
    int cy = y.length > n ? y[n] & 0xff : b.isTree() ? '/' : 0;
    return cx - cy;
  }

  static byte[] utf8(String name) {
    return name.getBytes(StandardCharsets.UTF_8);
  }

  /** Every file below {@code dir} (depth first), for deletions and whole-tree views. */
  static List<File> files(Dir dir) {
    List<File> out = new ArrayList<>();
    collect(dir, out);
    return out;
  }

  private static void collect(Dir dir, List<File> out) {
    for (Node n : dir.children.values()) {
      if (n instanceof Dir d) {
        collect(d, out);
      } else {
        out.add((File) n);
      }
    }
  }

  /** Git's octal mode text as it appears in a tree entry. */
  static byte[] modeBytes(int mode) {
    if (mode == TREE) {
      return TREE_BYTES;
    } else if (mode == EXECUTABLE) {
      return EXEC_BYTES;
    } else if (mode == SYMLINK) {
      return LINK_BYTES;
    } else if (mode == GITLINK) {
      return GITLINK_BYTES;
    }
    return REGULAR_BYTES;
  }

  private static final byte[] TREE_BYTES = "40000".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] REGULAR_BYTES = "100644".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] EXEC_BYTES = "100755".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] LINK_BYTES = "120000".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] GITLINK_BYTES = "160000".getBytes(StandardCharsets.US_ASCII);
}
