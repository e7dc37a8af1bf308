package dev.warden.checkpoint;

import dev.warden.Rejection;
import dev.warden.checkpoint.Snapshotter.FileChange;
import dev.warden.git.GitFailure;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.jgit.diff.DiffFormatter;
import org.eclipse.jgit.diff.HistogramDiff;
import org.eclipse.jgit.diff.RawTextComparator;
import org.eclipse.jgit.errors.LargeObjectException;
import org.eclipse.jgit.errors.MissingObjectException;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevObject;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.eclipse.jgit.treewalk.TreeWalk;
import org.eclipse.jgit.treewalk.filter.TreeFilter;

/**
 * Reads a checkpoint chain's history (per-file changes and unified diffs between two commits or
 * trees) straight from the object database. Stateless and thread-safe (every call uses its own
 * ObjectReader): a read never opens the chain's writer ({@link Snapshotter}) nor waits behind a
 * capture, and sees what the ref and packs show at that moment, as the user's git does.
 */
public final class CheckpointHistory implements AutoCloseable {

  private final Repository repo;
  private final boolean owned;

  /** Over a repository someone else owns (the snapshotter's own). */
  CheckpointHistory(Repository repo) {
    this(repo, false);
  }

  private CheckpointHistory(Repository repo, boolean owned) {
    this.repo = repo;
    this.owned = owned;
  }

  /** gitDir: the repository's common git dir, where the checkpoint objects live. Close it after the read. */
  public static CheckpointHistory open(Path gitDir) {
    try {
      return new CheckpointHistory(new FileRepositoryBuilder().setGitDir(gitDir.toFile()).setMustExist(true).build(), true);
    } catch (IOException e) {
      throw new GitFailure("cannot open repository " + gitDir + ": " + e.getMessage(), e);
    }
  }

  /**
   * Unified diff (git style, a/ b/ prefixes) between two commits or trees. Bounded: stops after
   * {@code maxBytes} (at a line end) and says so in a final line.
   */
  public String diff(ObjectId from, ObjectId to, long maxBytes) {
    BoundedOutput out = new BoundedOutput(maxBytes);
    boolean truncated = false;
    try (ObjectReader r = repo.newObjectReader(); DiffFormatter formatter = new DiffFormatter(out)) {
      formatter.setReader(r, repo.getConfig());
      formatter.setDiffAlgorithm(new HistogramDiff());
      formatter.setDiffComparator(RawTextComparator.DEFAULT);
      formatter.setDetectRenames(false);
      try {
        formatter.format(treeOf(r, from), treeOf(r, to));
        formatter.flush();
      } catch (BoundedOutput.Full e) {
        truncated = true;
      }
    } catch (IOException e) {
      throw new GitFailure("cannot diff " + from.name() + " " + to.name() + ": " + e.getMessage(), e);
    }
    String text = out.text();
    if (truncated) {
      int cut = text.lastIndexOf('\n');
      text = (cut >= 0 ? text.substring(0, cut + 1) : "") + "... diff truncated: it is longer than " + maxBytes + " bytes\n";
    }
    return text;
  }

  /** Per-file added/removed/modified between two commits (or trees), with line counts. */
  public List<FileChange> compare(ObjectId from, ObjectId to) {
    List<FileChange> out = new ArrayList<>();
    try (ObjectReader r = repo.newObjectReader(); TreeWalk walk = new TreeWalk(r)) {
      walk.addTree(treeOf(r, from));
      walk.addTree(treeOf(r, to));
      walk.setRecursive(true);
      walk.setFilter(TreeFilter.ANY_DIFF);
      while (walk.next()) {
        int m0 = walk.getRawMode(0);
        int m1 = walk.getRawMode(1);
        FileState before = m0 == 0 ? null : new FileState(m0, walk.getObjectId(0));
        FileState after = m1 == 0 ? null : new FileState(m1, walk.getObjectId(1));
        LineCounter.Counts counts = counts(r, before, after, null);
        out.add(new FileChange(walk.getPathString(), kind(before, after), counts.added(), counts.removed(), counts.binary()));
      }
    } catch (IOException e) {
      throw new GitFailure("cannot compare " + from.name() + " " + to.name() + ": " + e.getMessage(), e);
    }
    return out;
  }

  static ObjectId treeOf(ObjectReader r, ObjectId id) throws IOException {
    try (RevWalk walk = new RevWalk(r)) {
      RevObject o = walk.peel(walk.parseAny(id));
      if (o.getType() == Constants.OBJ_COMMIT) {
        return walk.parseCommit(o).getTree().copy();
      }
      if (o.getType() == Constants.OBJ_TREE) {
        return o.copy();
      }
      throw new IllegalArgumentException(id.name() + " is neither a commit nor a tree");
    } catch (MissingObjectException e) {
      throw Rejection.notFound("object " + id.name() + " is not in the repository");
    }
  }

  /** Collects output until a limit, then stops the formatter. */
  private static final class BoundedOutput extends OutputStream {
    static final class Full extends RuntimeException {
      Full() {
        super(null, null, false, false);
      }
    }

    private final long limit;
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

    BoundedOutput(long limit) {
      this.limit = Math.max(0, limit);
    }

    @Override
    public void write(int b) {
      if (bytes.size() >= limit) {
        throw new Full();
      }
      bytes.write(b);
    }

    @Override
    public void write(byte[] b, int off, int len) {
      long room = limit - bytes.size();
      if (len > room) {
        bytes.write(b, off, (int) Math.max(0, room));
        throw new Full();
      }
      bytes.write(b, off, len);
    }

    String text() {
      return bytes.toString(StandardCharsets.UTF_8);
    }
  }

  static FileChange.Kind kind(FileState before, FileState after) {
    if (before == null) {
      return FileChange.Kind.ADDED;
    } else if (after == null) {
      return FileChange.Kind.DELETED;
    } else if ((before.mode() & FileMode.TYPE_MASK) != (after.mode() & FileMode.TYPE_MASK)) {
      return FileChange.Kind.TYPE_CHANGED;
    }
    return FileChange.Kind.MODIFIED;
  }

  static LineCounter.Counts counts(ObjectReader reader, FileState before, FileState after, byte[] afterContent)
      throws IOException {
    if ((before != null && before.mode() == Nodes.GITLINK) || (after != null && after.mode() == Nodes.GITLINK)) {
      return LineCounter.Counts.NONE;
    }
    if (before != null && after != null && before.id().equals(after.id())) {
      return LineCounter.Counts.NONE; // mode only
    }
    byte[] a = before == null ? null : blob(reader, before.id());
    byte[] b = after == null ? null : afterContent != null ? afterContent : blob(reader, after.id());
    if ((before != null && a == null) || (after != null && b == null)) {
      return LineCounter.Counts.NONE; // too large to diff in memory
    }
    return LineCounter.count(a, b);
  }

  private static byte[] blob(ObjectReader reader, ObjectId id) throws IOException {
    try {
      return reader.open(id, Constants.OBJ_BLOB).getCachedBytes(LineCounter.DIFF_LIMIT);
    } catch (LargeObjectException e) {
      return null;
    }
  }


  @Override
  public void close() {
    if (owned) {
      repo.close();
    }
  }
}
