package dev.warden.checkpoint;

import dev.warden.checkpoint.Nodes.Dir;
import dev.warden.checkpoint.Nodes.File;
import dev.warden.checkpoint.Nodes.Node;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Set;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.ObjectId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings a chain's in-memory worktree image up to date with the disk: lstat()s the reported paths (or
 * everything, in a full scan), hashes only what the stat cache cannot vouch for, writes new blobs to
 * the chain's pack, and applies git's ignore and tracked rules, the racy-git rule and the file-size
 * cap. Works on the {@link Snapshotter} it belongs to, on the chain's thread.
 */
final class WorktreeScan {

  private static final Logger log = LoggerFactory.getLogger(WorktreeScan.class);

  private final Snapshotter chain;

  WorktreeScan(Snapshotter chain) {
    this.chain = chain;
  }

  void processReported(Snapshotter.Pass p, String raw) throws IOException {
    String path = Snapshotter.normalize(raw);
    if (path == null) {
      p.skipped.add(raw);
      return;
    }
    if (path.isEmpty()) {
      Ignores.reloadRules(chain.root, chain.worktree);
      scanDir(p, chain.root);
      return;
    }
    String[] parts = path.split("/");
    for (String part : parts) {
      if (Snapshotter.isDotGit(part)) {
        return;
      }
    }
    // already covered by a recursive re-scan in this pass?
    if (!p.rescanned.isEmpty()) {
      if (p.rescanned.contains("")) {
        return;
      }
      int slash = -1;
      while ((slash = path.indexOf('/', slash + 1)) >= 0) {
        if (p.rescanned.contains(path.substring(0, slash))) {
          return;
        }
      }
      if (p.rescanned.contains(path)) {
        return;
      }
    }
    Dir dir = chain.root;
    for (int i = 0; i < parts.length - 1; i++) {
      Node child = dir.children.get(parts[i]);
      if (child instanceof Dir d && stillDirectory(p, d)) {
        dir = d;
        continue;
      }
      if (child instanceof File f && f.mode == Nodes.GITLINK) {
        return;
      }
      // the ancestor is new, gone or changed kind: look at it as a whole
      refreshEntry(p, dir, parts[i]);
      return;
    }
    refreshEntry(p, dir, parts[parts.length - 1]);
  }

  /** lstat (once per pass) proves a directory of the image is still a real directory, not a symlink. */
  private boolean stillDirectory(Snapshotter.Pass p, Dir d) {
    if (d.verified == p.number) {
      return true;
    }
    if (Stat.isDirectory(chain.absolute(d.path))) {
      d.verified = p.number;
      return true;
    }
    return false;
  }

  /** Brings entry {@code name} of {@code dir} (and, for a directory, all below it) in line with the disk. */
  private void refreshEntry(Snapshotter.Pass p, Dir dir, String name) throws IOException {
    if (Snapshotter.isDotGit(name)) {
      return;
    }
    String path = dir.path.isEmpty() ? name : dir.path + "/" + name;
    Path abs = chain.worktree.resolve(path);
    if (name.equals(".gitignore") && Ignores.reloadRules(dir, chain.absolute(dir.path))) {
      // the rules of this directory changed: everything below it is judged again
      if (!p.rescanned.contains(dir.path)) {
        scanDir(p, dir);
        return;
      }
    }
    Stat st;
    try {
      st = Stat.of(abs);
    } catch (IOException e) {
      p.skipped.add(path);
      log.debug("cannot stat {}: {}", abs, e.toString());
      return;
    }
    Node existing = dir.children.get(name);
    if (st == null || st.type() == Stat.Type.OTHER) {
      if (existing != null) {
        removeNode(dir, existing);
      }
      return;
    }
    if (st.type() == Stat.Type.DIRECTORY) {
      if (existing instanceof File f && f.mode == Nodes.GITLINK) {
        return; // a submodule stays as the parent tree records it
      }
      boolean ignored = dir.ignored || chain.ignores.isIgnored(dir, name, true);
      if (ignored && !chain.index.hasTrackedUnder(p.number, path, chain.baseFiles.keySet())) {
        if (existing != null) {
          removeNode(dir, existing);
        }
        return;
      }
      Dir d;
      if (existing instanceof Dir e) {
        d = e;
      } else {
        if (existing != null) {
          removeNode(dir, existing);
        }
        d = new Dir(name, Nodes.utf8(name), dir);
        dir.put(d);
      }
      d.ignored = ignored;
      d.verified = p.number;
      if (!ignored) {
        Ignores.reloadRules(d, abs);
      }
      scanDir(p, d);
      return;
    }
    boolean ignored = dir.ignored ? !chain.index.isTracked(p.number, path, chain.baseFiles.keySet()) : chain.ignores.isIgnored(dir, name, false) && !chain.index.isTracked(p.number, path, chain.baseFiles.keySet());
    if (ignored) {
      if (existing != null) {
        removeNode(dir, existing);
      }
      return;
    }
    if (existing instanceof Dir) {
      removeNode(dir, existing);
      existing = null;
    }
    try {
      updateFile(p, dir, name, path, (File) existing, st, abs);
    } catch (NoSuchFileException e) {
      // deleted between lstat and read
      if (existing != null) {
        removeNode(dir, existing);
      }
    } catch (IOException e) {
      p.skipped.add(path);
      log.debug("cannot read {}: {}", abs, e.toString());
    }
  }

  /** Re-scans {@code d} recursively: every entry on disk judged, every entry gone removed. */
  void scanDir(Snapshotter.Pass p, Dir d) throws IOException {
    p.rescanned.add(d.path);
    Path abs = chain.absolute(d.path);
    Set<String> present = new HashSet<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(abs)) {
      for (Path entry : entries) {
        String name = entry.getFileName().toString();
        present.add(name);
        refreshEntry(p, d, name);
      }
    } catch (NoSuchFileException | NotDirectoryException e) {
      present.clear();
    } catch (IOException e) {
      // unreadable (permissions): keep what the image has rather than call it deleted
      p.skipped.add(d.path);
      log.debug("cannot list {}: {}", abs, e.toString());
      return;
    }
    if (present.size() < d.children.size() || !present.containsAll(d.children.keySet())) {
      for (Node child : new ArrayList<>(d.children.values())) {
        if (!present.contains(child.name)) {
          removeNode(d, child);
        }
      }
    }
  }

  private void updateFile(Snapshotter.Pass p, Dir dir, String name, String path, File node, Stat st, Path abs) throws IOException {
    int mode = st.type() == Stat.Type.SYMLINK ? Nodes.SYMLINK : st.executable() ? Nodes.EXECUTABLE : Nodes.REGULAR;
    if (node != null && node.stat != null && !node.racy && node.mode == mode && st.sameFile(node.stat)) {
      return;
    }
    if (chain.seed != null && (node == null || node.stat == null)) {
      WorktreeIndex.Seed known = chain.seed.get(path);
      if (known != null && known.mode() == mode && known.length() == (int) st.size() && known.mtime() == st.mtime()) {
        // git's index vouches for this content (same size and mtime, written before the index was):
        // no need to read the file, and the blob is already in the object database
        if (node == null || node.mode != mode || !node.id.equals(known.id())) {
          touch(path, node);
          if (node == null) {
            node = new File(name, Nodes.utf8(name), dir, mode, known.id());
            dir.put(node);
          } else {
            node.mode = mode;
            node.id = known.id();
            dir.markDirty();
          }
          chain.newContent.remove(path);
        }
        node.stat = st;
        node.racy = st.mtime() >= p.racyFrom;
        return;
      }
    }
    if (st.type() == Stat.Type.FILE && st.size() > chain.maxFileBytes) {
      if (node != null && node.mode == mode && blobSize(node.id) == st.size() && sameContent(abs, st.size(), node.id)) {
        // the version the tree already has (a large file of the base, say): hashed, never stored, not left out
        node.stat = st;
        node.racy = st.mtime() >= p.racyFrom;
        return;
      }
      leaveOut(path, node, st.size());
      return;
    }
    byte[] data = null;
    ObjectId id;
    boolean trustStat = true;
    if (st.type() == Stat.Type.SYMLINK) {
      data = Files.readSymbolicLink(abs).toString().getBytes(StandardCharsets.UTF_8);
      id = chain.store.idFor(Constants.OBJ_BLOB, data, 0, data.length);
    } else if (st.size() <= Snapshotter.READ_WHOLE_LIMIT) {
      data = readNoFollow(abs, (int) st.size(), chain.maxFileBytes);
      if (data == null) {
        leaveOut(path, node, Files.size(abs)); // grew past the cap since lstat: not read beyond it
        return;
      }
      trustStat = data.length == st.size();
      id = chain.store.idFor(Constants.OBJ_BLOB, data, 0, data.length);
    } else {
      id = hashStream(abs, st.size());
    }
    boolean changed = node == null || node.mode != mode || !node.id.equals(id);
    if (changed) {
      if (data != null) {
        chain.store.insert(Constants.OBJ_BLOB, id, data, 0, data.length);
      } else {
        try (InputStream in = Files.newInputStream(abs, LinkOption.NOFOLLOW_LINKS)) {
          ObjectId stored = chain.store.insertBlob(st.size(), in);
          trustStat = stored.equals(id);
          id = stored;
        }
      }
      touch(path, node);
      if (node == null) {
        node = new File(name, Nodes.utf8(name), dir, mode, id);
        dir.put(node);
      } else {
        node.mode = mode;
        node.id = id;
        dir.markDirty();
      }
      keepContent(path, data);
    }
    node.stat = trustStat ? st : null;
    node.racy = st.mtime() >= p.racyFrom;
  }

  /**
   * Whether the file holds exactly blob {@code id} (hashed, not stored). A file that changes while it is
   * read is not: it is left out rather than kept silently at its old version.
   */
  private boolean sameContent(Path abs, long size, ObjectId id) throws IOException {
    try {
      return id.equals(hashStream(abs, size));
    } catch (NoSuchFileException e) {
      throw e; // deleted meanwhile: the caller removes it
    } catch (IOException e) {
      return false;
    }
  }

  /** The size of a blob already in the repository, or -1 when it cannot be read. */
  private long blobSize(ObjectId id) {
    try {
      return chain.reader.getObjectSize(id, Constants.OBJ_BLOB);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /**
   * Leaves a file over the cap out of this capture: the image keeps what it had at {@code path} (the
   * previous checkpoint's version, or nothing), with no stat, so the file is looked at again.
   */
  private void leaveOut(String path, File node, long size) {
    chain.oversized.put(path, size);
    if (node != null) {
      node.stat = null;
    }
  }

  /** The file's content, or null when it grew past {@code cap} since its lstat (never read further than that). */
  private static byte[] readNoFollow(Path abs, int size, long cap) throws IOException {
    try (SeekableByteChannel ch = Files.newByteChannel(abs, Snapshotter.READ_NOFOLLOW)) {
      byte[] data = new byte[size];
      ByteBuffer bb = ByteBuffer.wrap(data);
      while (bb.hasRemaining()) {
        if (ch.read(bb) < 0) {
          return java.util.Arrays.copyOf(data, bb.position());
        }
      }
      // grew since lstat: take all of it (the stat will not be trusted)
      ByteBuffer one = ByteBuffer.allocate(1);
      if (ch.read(one) > 0) {
        if (size + 1L > cap) {
          return null;
        }
        ByteArrayOutputStream rest = new ByteArrayOutputStream();
        rest.write(data);
        rest.write(one.array(), 0, 1);
        long room = Math.min(cap, Integer.MAX_VALUE - 16L) - size - 1; // bytes we may still take
        byte[] more = Channels.newInputStream(ch).readNBytes((int) Math.min(room + 1, Integer.MAX_VALUE - 16L));
        if (more.length > room) {
          return null;
        }
        rest.write(more);
        return rest.toByteArray();
      }
      return data;
    }
  }

  private ObjectId hashStream(Path abs, long size) throws IOException {
    MessageDigest md = chain.streamDigest;
    md.reset();
    md.update(Constants.encodedTypeString(Constants.OBJ_BLOB));
    md.update((byte) ' ');
    md.update(Constants.encodeASCII(size));
    md.update((byte) 0);
    byte[] buf = new byte[256 * 1024];
    long total = 0;
    try (InputStream in = Files.newInputStream(abs, LinkOption.NOFOLLOW_LINKS)) {
      int n;
      while (total < size && (n = in.read(buf, 0, (int) Math.min(buf.length, size - total))) > 0) {
        md.update(buf, 0, n);
        total += n;
      }
    }
    if (total != size) {
      throw new IOException(abs + " changed size while it was read");
    }
    return ObjectId.fromRaw(md.digest());
  }

  void touch(String path, File before) {
    if (!chain.sinceCheckpoint.containsKey(path)) {
      chain.sinceCheckpoint.put(path, before == null ? null : new FileState(before.mode, before.id));
    }
  }

  private void keepContent(String path, byte[] data) {
    if (data == null) {
      chain.newContent.remove(path);
      return;
    }
    if (chain.newContentBytes + data.length <= Snapshotter.KEEP_CONTENT_LIMIT) {
      byte[] old = chain.newContent.put(path, data);
      chain.newContentBytes += data.length - (old == null ? 0 : old.length);
    }
  }

  void removeNode(Dir dir, Node node) {
    if (node instanceof File f) {
      touch(f.path(), f);
      chain.newContent.remove(f.path());
    } else {
      for (File f : Nodes.files((Dir) node)) {
        touch(f.path(), f);
        chain.newContent.remove(f.path());
      }
    }
    dir.remove(node.name);
    node.parent = null;
  }
}
