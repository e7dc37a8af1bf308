package dev.warden.checkpoint;

import dev.warden.Rejection;
import dev.warden.checkpoint.Nodes.Dir;
import dev.warden.checkpoint.Nodes.File;
import dev.warden.checkpoint.Nodes.Node;
import dev.warden.git.GitFailure;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectLoader;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.treewalk.TreeWalk;

/**
 * A chain's rollback: writes a checkpoint's files back into the worktree and brings the chain's
 * {@link WorktreeImage} along, so the next capture needs no re-scan. Works with the parts of the
 * {@link Snapshotter} it belongs to (its image, scan, reader and ignore rules), on the chain's thread.
 */
final class Restorer {

  private final Path worktree;
  private final WorktreeImage image;
  private final WorktreeScan scan;
  private final ObjectReader reader;
  private final Ignores ignores;
  /** Marks the chain broken (its image and pending objects cannot be trusted) after a failed restore. */
  private final Runnable onFailure;

  Restorer(Path worktree, WorktreeImage image, WorktreeScan scan, ObjectReader reader, Ignores ignores, Runnable onFailure) {
    this.worktree = worktree;
    this.image = image;
    this.scan = scan;
    this.reader = reader;
    this.ignores = ignores;
    this.onFailure = onFailure;
  }

  /**
   * The paths a restore works on, normalised ("" alone for the whole worktree: paths empty or naming
   * the root).
   *
   * @throws Rejection when a path is not one {@link Snapshotter#restorePathProblem} accepts
   */
  static List<String> selection(Optional<Collection<String>> paths) {
    List<String> selection = new ArrayList<>();
    if (paths.isEmpty() || paths.get().isEmpty()) {
      selection.add("");
    } else {
      for (String raw : paths.get()) {
        String problem = Snapshotter.restorePathProblem(raw);
        if (problem != null) {
          throw Rejection.invalid("paths", "'" + raw + "' " + problem);
        }
        selection.add(Snapshotter.normalize(raw));
      }
    }
    if (selection.contains("")) {
      selection = List.of("");
    }
    return selection;
  }

  /**
   * Rollback: makes the worktree files equal to {@code commit}'s tree — all of it (selection "") or only
   * the selected paths (files or directories; see {@link #selection}). Files in the worktree but not in
   * the target are deleted (within the selection); ignored files are left alone; every {@code .git} is
   * left alone, so HEAD, index and branch are untouched. Returns the paths written or deleted. The next
   * capture produces the target tree for a full restore (the image is updated here, not re-scanned).
   * The image must not be broken (the snapshotter reloads it first).
   */
  List<String> restore(ObjectId commit, List<String> selection) {
    ObjectId targetTree;
    try {
      targetTree = CheckpointHistory.treeOf(reader, commit); // a bad id is the caller's problem, not a reason to reload
    } catch (IOException e) {
      throw new GitFailure("cannot read " + commit.name() + ": " + e.getMessage(), e);
    }
    WorktreeScan.Pass p = scan.newPass();
    TreeSet<String> done = new TreeSet<>();
    try {
      // 1. the image must show what is on disk now, within the selection
      if (ignores.refresh()) {
        image.requireFullScan();
      }
      for (String sel : selection) {
        if (sel.isEmpty()) {
          scan.scanAll(p, null);
        } else {
          scan.processReported(p, sel);
        }
      }
      // 2. what the target holds there
      Map<String, FileState> target = new TreeMap<>();
      for (String sel : selection) {
        collectTarget(targetTree, sel, target);
      }
      // 3. delete what the target does not have
      Set<Dir> emptied = new HashSet<>();
      for (String sel : selection) {
        for (File f : image.filesUnder(sel)) {
          String path = f.path();
          if (!target.containsKey(path)) {
            Files.deleteIfExists(worktree.resolve(path));
            Dir parent = f.parent;
            image.remove(parent, f);
            emptied.add(parent);
            done.add(path);
          }
        }
      }
      // a file left out for its size is on disk but not in the image: it goes too when the target lacks it
      for (String path : List.copyOf(image.oversizedPaths())) {
        boolean selected = false;
        for (String sel : selection) {
          selected |= sel.isEmpty() || path.equals(sel) || path.startsWith(sel + "/");
        }
        if (selected && !target.containsKey(path)) {
          Path abs = worktree.resolve(path);
          Stat st = Stat.of(abs);
          if (st != null && st.type() == Stat.Type.FILE) {
            Files.delete(abs);
            done.add(path);
          }
          image.forgetOversized(path);
        }
      }
      // 4. write what differs
      for (Map.Entry<String, FileState> e : target.entrySet()) {
        File cur = image.find(e.getKey());
        FileState want = e.getValue();
        // the image's version of a file left out for its size is not what is on disk
        if (cur != null && cur.mode == want.mode() && cur.id.equals(want.id()) && !image.isOversized(e.getKey())) {
          continue;
        }
        image.forgetOversized(e.getKey());
        write(p, e.getKey(), want);
        done.add(e.getKey());
      }
      // 5. directories our deletions left empty go too (as git checkout does)
      for (Dir d : emptied) {
        pruneEmpty(d);
      }
      for (String path : done) {
        if (path.equals(".gitignore") || path.endsWith("/.gitignore")) {
          image.requireFullScan();
        }
      }
      return List.copyOf(done);
    } catch (IOException e) {
      onFailure.run();
      throw new GitFailure("restore of " + commit.name() + " into " + worktree + " failed: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      onFailure.run();
      throw e;
    }
  }

  /** Adds the blobs of {@code tree} at {@code sel} (a file, a directory or everything) to {@code out}. */
  private void collectTarget(ObjectId tree, String sel, Map<String, FileState> out) throws IOException {
    try (TreeWalk walk = new TreeWalk(reader)) {
      walk.addTree(tree);
      walk.setRecursive(true);
      if (!sel.isEmpty()) {
        walk.setFilter(org.eclipse.jgit.treewalk.filter.PathFilter.create(sel));
      }
      while (walk.next()) {
        String path = walk.getPathString();
        int mode = walk.getRawMode(0);
        boolean dotGit = false;
        for (String part : path.split("/")) {
          dotGit |= Snapshotter.isDotGit(part) || part.equals("..") || part.equals(".");
        }
        if (dotGit || mode == Nodes.GITLINK) {
          continue; // never write into a .git, and submodule contents are not ours to restore
        }
        int m = (mode & FileMode.TYPE_MASK) == FileMode.TYPE_FILE ? ((mode & 0111) != 0 ? Nodes.EXECUTABLE : Nodes.REGULAR) : mode;
        out.put(path, new FileState(m, walk.getObjectId(0)));
      }
    }
  }

  private void write(WorktreeScan.Pass p, String path, FileState want) throws IOException {
    String[] parts = path.split("/");
    Dir dir = image.root();
    Path abs = worktree;
    for (int i = 0; i < parts.length - 1; i++) {
      abs = abs.resolve(parts[i]);
      Stat s = Stat.of(abs);
      if (s != null && s.type() != Stat.Type.DIRECTORY) {
        Files.delete(abs); // a file or symlink where a directory belongs: never write through it
        s = null;
      }
      if (s == null) {
        Files.createDirectory(abs);
      }
      Node n = dir.children.get(parts[i]);
      Dir d;
      if (n instanceof Dir existingDir) {
        d = existingDir;
      } else {
        if (n != null) {
          image.remove(dir, n);
        }
        d = new Dir(parts[i], Nodes.utf8(parts[i]), dir);
        dir.put(d);
        Ignores.reloadRules(d, abs);
      }
      d.verified = p.number;
      dir = d;
    }
    String name = parts[parts.length - 1];
    abs = abs.resolve(name);
    Stat s = Stat.of(abs);
    Node existing = dir.children.get(name);
    if (existing instanceof Dir) {
      image.remove(dir, existing);
      existing = null;
    }
    if (s != null && s.type() == Stat.Type.DIRECTORY) {
      dev.warden.git.Directories.deleteTree(abs);
    } else if (s != null && (s.type() != Stat.Type.FILE || want.mode() == Nodes.SYMLINK)) {
      Files.delete(abs);
    }
    ObjectLoader blob = reader.open(want.id(), Constants.OBJ_BLOB);
    if (want.mode() == Nodes.SYMLINK) {
      Files.createSymbolicLink(abs, Path.of(new String(blob.getCachedBytes(), StandardCharsets.UTF_8)));
    } else {
      try (OutputStream out = Files.newOutputStream(abs, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
          StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
        blob.copyTo(out);
      }
      setExecutable(abs, want.mode() == Nodes.EXECUTABLE);
    }
    File f = existing instanceof File ef ? ef : null;
    image.touch(path, f);
    image.forgetContent(path);
    if (f == null) {
      f = new File(name, Nodes.utf8(name), dir, want.mode(), want.id());
      dir.put(f);
    } else {
      f.mode = want.mode();
      f.id = want.id();
      dir.markDirty();
    }
    Stat after = Stat.of(abs);
    f.stat = after;
    f.racy = after == null || after.mtime() >= p.racyFrom;
  }

  private static void setExecutable(Path abs, boolean executable) throws IOException {
    Set<PosixFilePermission> perms = Files.getPosixFilePermissions(abs, LinkOption.NOFOLLOW_LINKS);
    Set<PosixFilePermission> want = EnumSet.noneOf(PosixFilePermission.class);
    want.addAll(perms);
    want.removeAll(EnumSet.of(PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.GROUP_EXECUTE,
        PosixFilePermission.OTHERS_EXECUTE));
    if (executable) {
      want.add(PosixFilePermission.OWNER_EXECUTE);
      if (perms.contains(PosixFilePermission.GROUP_READ)) {
        want.add(PosixFilePermission.GROUP_EXECUTE);
      }
      if (perms.contains(PosixFilePermission.OTHERS_READ)) {
        want.add(PosixFilePermission.OTHERS_EXECUTE);
      }
    }
    if (!want.equals(perms)) {
      Files.setPosixFilePermissions(abs, want);
    }
  }

  private void pruneEmpty(Dir d) throws IOException {
    while (d != null && d.parent != null && d.children.isEmpty()) {
      Path abs = scan.absolute(d.path);
      try (DirectoryStream<Path> entries = Files.newDirectoryStream(abs)) {
        if (entries.iterator().hasNext()) {
          return; // ignored files live here
        }
      } catch (NoSuchFileException | NotDirectoryException e) {
        // already gone
      }
      Files.deleteIfExists(abs);
      Dir parent = d.parent;
      if (parent.children.get(d.name) == d) {
        parent.remove(d.name);
      }
      d = parent;
    }
  }
}
