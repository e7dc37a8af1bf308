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
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectReader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings a chain's in-memory worktree image up to date with the disk: lstat()s the reported paths (or
 * everything, in a full scan), hashes only what the stat cache cannot vouch for, writes new blobs to
 * the chain's pack, and applies git's ignore and tracked rules, the racy-git rule and the file-size
 * cap. Works on the {@link WorktreeImage} of the {@link Snapshotter} it belongs to, on the chain's thread.
 */
final class WorktreeScan {

  private static final Logger log = LoggerFactory.getLogger(WorktreeScan.class);

  /** Files up to this size are read whole; larger ones are streamed into the pack. */
  static final long READ_WHOLE_LIMIT = 32L << 20;
  /** A file modified this close to the moment it was hashed may change again without changing its stat. */
  static final long RACY_NANOS = TimeUnit.SECONDS.toNanos(2);
  private static final Set<OpenOption> READ_NOFOLLOW = Set.of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);

  private final Path worktree;
  private final WorktreeImage image;
  private final Ignores ignores;
  /** The worktree's own git index, read only. */
  private final WorktreeIndex index;
  private final PackStore store;
  private final ObjectReader reader;
  private final MessageDigest streamDigest = PackStore.sha1();
  /** The cap of the capture under way (bytes; a larger file is not read). */
  private long maxFileBytes = Long.MAX_VALUE;
  /**
   * The worktree index's word on files we have not hashed yet (first scan after open): git's stat data
   * and blob id per path. Read-only; set for one full scan only.
   */
  private Map<String, WorktreeIndex.Seed> seed;
  private long pass;

  WorktreeScan(Path worktree, WorktreeImage image, Ignores ignores, WorktreeIndex index, PackStore store, ObjectReader reader) {
    this.worktree = worktree;
    this.image = image;
    this.ignores = ignores;
    this.index = index;
    this.store = store;
    this.reader = reader;
  }

  /** One walk over (part of) the worktree. */
  static final class Pass {
    final long number;
    /** mtimes at or above this (wall clock, ns) are too recent to trust an unchanged stat later. */
    final long racyFrom;
    final List<String> skipped = new ArrayList<>();
    final Set<String> rescanned = new HashSet<>();

    private Pass(long number) {
      this.number = number;
      this.racyFrom = TimeUnit.MILLISECONDS.toNanos(System.currentTimeMillis()) - RACY_NANOS;
    }
  }

  /** Starts a walk (capture or restore); numbers tell whether a directory was lstat()ed in this one. */
  Pass newPass() {
    return new Pass(++pass);
  }

  /** Sets the cap of the capture starting (bytes; a larger file is not read); restores keep the last one. */
  void cap(long maxFileBytes) {
    this.maxFileBytes = maxFileBytes;
  }

  /**
   * Scans the whole worktree, its root ignore rules reloaded first. seed: git's index entries to trust
   * instead of hashing (first scan after open), or null.
   */
  void scanAll(Pass p, Map<String, WorktreeIndex.Seed> seed) throws IOException {
    Ignores.reloadRules(image.root(), worktree);
    this.seed = seed;
    try {
      scanDir(p, image.root());
    } finally {
      this.seed = null;
    }
  }

  Path absolute(String path) {
    return path.isEmpty() ? worktree : worktree.resolve(path);
  }

  void processReported(Pass p, String raw) throws IOException {
    String path = Snapshotter.normalize(raw);
    if (path == null) {
      p.skipped.add(raw);
      return;
    }
    if (path.isEmpty()) {
      scanAll(p, null);
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
    Dir dir = image.root();
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
  private boolean stillDirectory(Pass p, Dir d) {
    if (d.verified == p.number) {
      return true;
    }
    if (Stat.isDirectory(absolute(d.path))) {
      d.verified = p.number;
      return true;
    }
    return false;
  }

  /** Brings entry {@code name} of {@code dir} (and, for a directory, all below it) in line with the disk. */
  private void refreshEntry(Pass p, Dir dir, String name) throws IOException {
    if (Snapshotter.isDotGit(name)) {
      return;
    }
    String path = dir.path.isEmpty() ? name : dir.path + "/" + name;
    Path abs = worktree.resolve(path);
    if (name.equals(".gitignore") && Ignores.reloadRules(dir, absolute(dir.path))) {
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
        image.remove(dir, existing);
      }
      return;
    }
    if (st.type() == Stat.Type.DIRECTORY) {
      if (existing instanceof File f && f.mode == Nodes.GITLINK) {
        return; // a submodule stays as the parent tree records it
      }
      boolean ignored = dir.ignored || ignores.isIgnored(dir, name, true);
      if (ignored && !index.hasTrackedUnder(p.number, path, image.basePaths())) {
        if (existing != null) {
          image.remove(dir, existing);
        }
        return;
      }
      Dir d;
      if (existing instanceof Dir e) {
        d = e;
      } else {
        if (existing != null) {
          image.remove(dir, existing);
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
    boolean ignored = dir.ignored ? !index.isTracked(p.number, path, image.basePaths()) : ignores.isIgnored(dir, name, false) && !index.isTracked(p.number, path, image.basePaths());
    if (ignored) {
      if (existing != null) {
        image.remove(dir, existing);
      }
      return;
    }
    if (existing instanceof Dir) {
      image.remove(dir, existing);
      existing = null;
    }
    try {
      updateFile(p, dir, name, path, (File) existing, st, abs);
    } catch (NoSuchFileException e) {
      // deleted between lstat and read
      if (existing != null) {
        image.remove(dir, existing);
      }
    } catch (IOException e) {
      p.skipped.add(path);
      log.debug("cannot read {}: {}", abs, e.toString());
    }
  }

  /** Re-scans {@code d} recursively: every entry on disk judged, every entry gone removed. */
  void scanDir(Pass p, Dir d) throws IOException {
    p.rescanned.add(d.path);
    Path abs = absolute(d.path);
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
          image.remove(d, child);
        }
      }
    }
  }

  private void updateFile(Pass p, Dir dir, String name, String path, File node, Stat st, Path abs) throws IOException {
    int mode = st.type() == Stat.Type.SYMLINK ? Nodes.SYMLINK : st.executable() ? Nodes.EXECUTABLE : Nodes.REGULAR;
    if (node != null && node.stat != null && !node.racy && node.mode == mode && st.sameFile(node.stat)) {
      return;
    }
    if (seed != null && (node == null || node.stat == null)) {
      WorktreeIndex.Seed known = seed.get(path);
      if (known != null && known.mode() == mode && known.length() == (int) st.size() && known.mtime() == st.mtime()) {
        // git's index vouches for this content (same size and mtime, written before the index was):
        // no need to read the file, and the blob is already in the object database
        if (node == null || node.mode != mode || !node.id.equals(known.id())) {
          image.touch(path, node);
          if (node == null) {
            node = new File(name, Nodes.utf8(name), dir, mode, known.id());
            dir.put(node);
          } else {
            node.mode = mode;
            node.id = known.id();
            dir.markDirty();
          }
          image.forgetContent(path);
        }
        node.stat = st;
        node.racy = st.mtime() >= p.racyFrom;
        return;
      }
    }
    if (st.type() == Stat.Type.FILE && st.size() > maxFileBytes) {
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
      id = store.idFor(Constants.OBJ_BLOB, data, 0, data.length);
    } else if (st.size() <= READ_WHOLE_LIMIT) {
      data = readNoFollow(abs, (int) st.size(), maxFileBytes);
      if (data == null) {
        leaveOut(path, node, Files.size(abs)); // grew past the cap since lstat: not read beyond it
        return;
      }
      trustStat = data.length == st.size();
      id = store.idFor(Constants.OBJ_BLOB, data, 0, data.length);
    } else {
      id = hashStream(abs, st.size());
    }
    boolean changed = node == null || node.mode != mode || !node.id.equals(id);
    if (changed) {
      if (data != null) {
        store.insert(Constants.OBJ_BLOB, id, data, 0, data.length);
      } else {
        try (InputStream in = Files.newInputStream(abs, LinkOption.NOFOLLOW_LINKS)) {
          ObjectId stored = store.insertBlob(st.size(), in);
          trustStat = stored.equals(id);
          id = stored;
        }
      }
      image.touch(path, node);
      if (node == null) {
        node = new File(name, Nodes.utf8(name), dir, mode, id);
        dir.put(node);
      } else {
        node.mode = mode;
        node.id = id;
        dir.markDirty();
      }
      image.keepContent(path, data);
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
      return reader.getObjectSize(id, Constants.OBJ_BLOB);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /**
   * Leaves a file over the cap out of this capture: the image keeps what it had at {@code path} (the
   * previous checkpoint's version, or nothing), with no stat, so the file is looked at again.
   */
  private void leaveOut(String path, File node, long size) {
    image.leaveOut(path, size);
    if (node != null) {
      node.stat = null;
    }
  }

  /** The file's content, or null when it grew past {@code cap} since its lstat (never read further than that). */
  private static byte[] readNoFollow(Path abs, int size, long cap) throws IOException {
    try (SeekableByteChannel ch = Files.newByteChannel(abs, READ_NOFOLLOW)) {
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
    MessageDigest md = streamDigest;
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
}
