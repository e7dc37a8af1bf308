package dev.warden.checkpoint;

import dev.warden.checkpoint.Nodes.Dir;
import dev.warden.checkpoint.Nodes.File;
import dev.warden.checkpoint.Nodes.Node;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.util.RawParseUtils;

/** Git trees to and from the image's nodes: read a commit's tree into it, write its dirty directories. */
final class Trees {

  private Trees() {}

  /** Loads {@code treeId} (recursively) into the empty {@code dir} of the image; every .git is left out. */
  static void read(ObjectReader reader, Dir dir, ObjectId treeId) throws IOException {
    byte[] raw = reader.open(treeId, Constants.OBJ_TREE).getCachedBytes();
    int p = 0;
    List<Node> order = new ArrayList<>();
    while (p < raw.length) {
      int mode = 0;
      while (raw[p] != ' ') {
        mode = (mode << 3) + (raw[p++] - '0');
      }
      p++;
      int nameStart = p;
      while (raw[p] != 0) {
        p++;
      }
      byte[] rawName = java.util.Arrays.copyOfRange(raw, nameStart, p);
      String name = RawParseUtils.decode(rawName);
      p++;
      ObjectId id = ObjectId.fromRaw(raw, p);
      p += Constants.OBJECT_ID_LENGTH;
      if (Snapshotter.isDotGit(name)) {
        continue;
      }
      Node node;
      if ((mode & FileMode.TYPE_MASK) == FileMode.TYPE_TREE) {
        Dir child = new Dir(name, rawName, dir);
        read(reader, child, id);
        node = child;
      } else {
        int m = (mode & FileMode.TYPE_MASK) == FileMode.TYPE_FILE
            ? ((mode & 0111) != 0 ? Nodes.EXECUTABLE : Nodes.REGULAR) : mode;
        node = new File(name, rawName, dir, m, id);
      }
      dir.children.put(name, node);
      order.add(node);
    }
    dir.sorted = order.toArray(new Node[0]);
    dir.treeId = treeId.copy();
    dir.storedId = dir.treeId;
    dir.dirty = false;
  }

  /** Serialises the dirty directories below {@code d}; returns its tree id (null: empty). */
  static ObjectId write(PackStore store, ByteBuilder buf, Dir d) {
    if (!d.dirty) {
      return d.treeId;
    }
    Node[] children = d.sortedChildren();
    for (Node n : children) {
      if (n instanceof Dir c && c.dirty) {
        write(store, buf, c);
      }
    }
    buf.reset();
    for (Node n : children) {
      if (n instanceof Dir c) {
        if (c.treeId == null) {
          continue;
        }
        buf.append(Nodes.modeBytes(Nodes.TREE)).append((byte) ' ').append(n.rawName).append((byte) 0).append(c.treeId);
      } else {
        File f = (File) n;
        buf.append(Nodes.modeBytes(f.mode)).append((byte) ' ').append(n.rawName).append((byte) 0).append(f.id);
      }
    }
    d.dirty = false;
    if (buf.length() == 0) {
      d.treeId = null;
      return null;
    }
    ObjectId id = store.idFor(Constants.OBJ_TREE, buf.array(), 0, buf.length());
    if (!id.equals(d.storedId)) {
      store.insert(Constants.OBJ_TREE, id, buf.array(), 0, buf.length());
      d.storedId = id;
    }
    d.treeId = id;
    return id;
  }
}
