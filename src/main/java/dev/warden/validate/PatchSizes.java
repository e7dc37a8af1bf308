package dev.warden.validate;

import dev.warden.plan.Plan;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.zip.InflaterInputStream;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.patch.BinaryHunk;
import org.eclipse.jgit.patch.FileHeader;
import org.eclipse.jgit.patch.HunkHeader;
import org.eclipse.jgit.patch.Patch;
import org.eclipse.jgit.treewalk.TreeWalk;
import org.eclipse.jgit.util.io.BinaryHunkInputStream;

/**
 * Patch mode's first gate: what a unified diff would write, judged from the diff alone before any
 * worktree (not even a shadow) sees it. Per file, the size it would have afterwards: a binary literal
 * says it, a binary delta says it in its header (decoded, never applied), a text file is its size in
 * the latest checkpoint plus the bytes of its added lines minus those of its removed ones. The sum of
 * what files would grow by, added to the worktree's disk usage, must stay within the plan's disk
 * quota; no file may end larger than the plan's {@code maxFileBytes} or the checkpoint cap (a
 * checkpoint would not read it). A compressed 100 MB literal is a few hundred KB of diff: the
 * declared sizes count, not the diff's length.
 */
final class PatchSizes {

  private PatchSizes() {}

  /** One file of the patch: its size afterwards and how much it would add to the worktree. */
  record FileSize(String path, long bytesAfter, long growth) {}

  /** What the patch would write, file by file; {@code unsized}: binary hunks whose size could not be read. */
  record Estimate(List<FileSize> files, List<String> unsized) {
    long growth() {
      long sum = 0;
      for (FileSize f : files) {
        sum = saturatedAdd(sum, f.growth());
      }
      return sum;
    }
  }

  /** Sizes the files of {@code diff} against {@code tree} (the latest checkpoint's tree). */
  static Estimate estimate(String diff, ObjectReader reader, ObjectId tree) throws IOException {
    byte[] raw = diff.getBytes(StandardCharsets.UTF_8);
    Patch patch = new Patch();
    patch.parse(raw, 0, raw.length);
    List<FileSize> files = new ArrayList<>();
    List<String> unsized = new ArrayList<>();
    int binaries = 0;
    for (FileHeader f : patch.getFiles()) {
      FileHeader.ChangeType type = f.getChangeType();
      String path = java.util.Objects.requireNonNullElse(type == FileHeader.ChangeType.DELETE ? f.getOldPath() : f.getNewPath(),
          "(a file the diff does not name)");
      if (type == FileHeader.ChangeType.DELETE) {
        continue; // frees space; no credit is given for it
      }
      long before = type == FileHeader.ChangeType.ADD ? 0 : sizeIn(reader, tree, f.getOldPath());
      long after;
      if (f.getPatchType() == FileHeader.PatchType.GIT_BINARY) {
        binaries++;
        BinaryHunk forward = f.getForwardBinaryHunk();
        OptionalLong declared = forward == null ? OptionalLong.empty() : declaredSize(forward);
        if (declared.isEmpty()) {
          unsized.add(path);
          continue;
        }
        after = declared.getAsLong();
      } else {
        long delta = 0;
        for (HunkHeader h : f.getHunks()) {
          delta = saturatedAdd(delta, lineBytes(h.getBuffer(), h.getStartOffset(), h.getEndOffset()));
        }
        after = Math.max(0, saturatedAdd(before, delta));
      }
      boolean copy = type == FileHeader.ChangeType.COPY;
      files.add(new FileSize(path, after, copy ? after : Math.max(0, after - before)));
    }
    // a binary hunk the parser did not see cannot be sized: refuse rather than let it through
    int marked = count(raw, "\nGIT binary patch\n") + (startsWith(raw, "GIT binary patch\n") ? 1 : 0);
    if (marked > binaries) {
      unsized.add("(" + (marked - binaries) + " binary hunk(s) the parser could not attribute to a file)");
    }
    return new Estimate(List.copyOf(files), List.copyOf(unsized));
  }

  /**
   * The violations of the patch's sizes: {@code max-file-bytes} when a file would end above the plan's
   * limit, {@code file-too-large} when above the checkpoint cap (the smaller one speaks), {@code
   * disk-quota} when the worktree would outgrow the quota. Empty: the patch may be applied in a shadow.
   */
  static List<Violation> judge(Estimate estimate, Plan plan, long checkpointCap, OptionalLong diskUsage) {
    List<Violation> out = new ArrayList<>();
    for (String path : estimate.unsized()) {
      out.add(Violation.of(Rule.FILE_TOO_LARGE, path, "the size of the binary content for '" + path
          + "' cannot be read from the patch: it is not applied unsized"));
    }
    long planLimit = plan.limits().maxFileBytes().filter(l -> l >= 0).orElse(Long.MAX_VALUE);
    for (FileSize f : estimate.files()) {
      if (f.bytesAfter() > planLimit && planLimit <= checkpointCap) {
        out.add(Violation.of(Rule.MAX_FILE_BYTES, f.path(), "the patch would make '" + f.path() + "' " + f.bytesAfter()
            + " bytes, above the plan's limit of " + planLimit));
      } else if (f.bytesAfter() > checkpointCap) {
        out.add(Violation.of(Rule.FILE_TOO_LARGE, f.path(), "the patch would make '" + f.path() + "' " + f.bytesAfter()
            + " bytes, above the checkpoint cap of " + checkpointCap + " (warden.checkpoint.max-file-bytes): no checkpoint would read it"));
      }
    }
    long quota = plan.limits().diskQuotaBytes();
    long growth = estimate.growth();
    long projected = saturatedAdd(diskUsage.orElse(0), growth);
    if (projected > quota) {
      FileSize largest = estimate.files().stream().max(java.util.Comparator.comparingLong(FileSize::growth)).orElse(null);
      out.add(Violation.of(Rule.DISK_QUOTA, Rule.WHOLE_CHECKPOINT, "the patch would add up to " + growth + " bytes"
          + (largest == null ? "" : " ('" + largest.path() + "': " + largest.growth() + ")") + " to a worktree holding "
          + (diskUsage.isPresent() ? diskUsage.getAsLong() + " bytes" : "an unknown number of bytes (counted as 0)")
          + ": above the plan's disk quota of " + quota));
    }
    return out;
  }

  /** The blob size at {@code path} in {@code tree}; 0 when there is no file there. */
  private static long sizeIn(ObjectReader reader, ObjectId tree, String path) throws IOException {
    if (path == null || path.isEmpty() || path.equals(FileHeader.DEV_NULL)) {
      return 0;
    }
    try (TreeWalk walk = TreeWalk.forPath(reader, path, tree)) {
      if (walk == null || (walk.getRawMode(0) & FileMode.TYPE_MASK) != FileMode.TYPE_FILE) {
        return 0;
      }
      return reader.getObjectSize(walk.getObjectId(0), Constants.OBJ_BLOB);
    } catch (IllegalArgumentException e) {
      return 0; // not a path git can look up (the fast rules in the shadow say why)
    }
  }

  /** Bytes the added lines of a hunk bring minus those its removed lines take (each with its newline). */
  private static long lineBytes(byte[] buf, int start, int end) {
    int p = nextLine(buf, start, end); // past the @@ header
    long delta = 0;
    while (p < end) {
      int next = nextLine(buf, p, end);
      int length = next - p - 1; // without the +/- marker; the newline counts for the marker's place
      if (buf[p] == '+') {
        delta += length;
      } else if (buf[p] == '-') {
        delta -= length;
      }
      p = next;
    }
    return delta;
  }

  private static int nextLine(byte[] buf, int p, int end) {
    while (p < end && buf[p] != '\n') {
      p++;
    }
    return Math.min(end, p + 1);
  }

  /**
   * A binary hunk's size afterwards: a literal declares it; a delta's result size is the second
   * varint of its (inflated) header. Only the header is decoded.
   */
  private static OptionalLong declaredSize(BinaryHunk hunk) {
    if (hunk.getType() == BinaryHunk.Type.LITERAL_DEFLATED) {
      return OptionalLong.of(hunk.getSize());
    }
    byte[] buf = hunk.getBuffer();
    int data = nextLine(buf, hunk.getStartOffset(), hunk.getEndOffset());
    try (InputStream in = new InflaterInputStream(new BinaryHunkInputStream(
        new ByteArrayInputStream(buf, data, hunk.getEndOffset() - data)))) {
      varint(in); // the size of the file it applies to
      return OptionalLong.of(varint(in));
    } catch (IOException | RuntimeException e) {
      return OptionalLong.empty();
    }
  }

  private static long varint(InputStream in) throws IOException {
    long value = 0;
    int shift = 0;
    int c;
    do {
      c = in.read();
      if (c < 0 || shift > 56) {
        throw new IOException("truncated or oversized delta header");
      }
      value |= (long) (c & 0x7f) << shift;
      shift += 7;
    } while ((c & 0x80) != 0);
    return value;
  }

  private static int count(byte[] haystack, String needle) {
    byte[] n = needle.getBytes(StandardCharsets.US_ASCII);
    int found = 0;
    outer:
    for (int i = 0; i + n.length <= haystack.length; i++) {
      for (int k = 0; k < n.length; k++) {
        if (haystack[i + k] != n[k]) {
          continue outer;
        }
      }
      found++;
    }
    return found;
  }

  private static boolean startsWith(byte[] haystack, String prefix) {
    byte[] n = prefix.getBytes(StandardCharsets.US_ASCII);
    if (haystack.length < n.length) {
      return false;
    }
    for (int k = 0; k < n.length; k++) {
      if (haystack[k] != n[k]) {
        return false;
      }
    }
    return true;
  }

  private static long saturatedAdd(long a, long b) {
    long r = a + b;
    return ((a ^ r) & (b ^ r)) < 0 ? (a < 0 ? Long.MIN_VALUE : Long.MAX_VALUE) : r;
  }
}
