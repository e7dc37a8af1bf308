package dev.warden.checkpoint;

import org.eclipse.jgit.diff.DiffAlgorithm;
import org.eclipse.jgit.diff.Edit;
import org.eclipse.jgit.diff.EditList;
import org.eclipse.jgit.diff.HistogramDiff;
import org.eclipse.jgit.diff.RawText;
import org.eclipse.jgit.diff.RawTextComparator;

/**
 * Added and removed line counts of one file from a real line diff (histogram, as {@code git diff}
 * uses), so they match what a reviewer sees. Binary content (a NUL in the first 8000 bytes, git's test)
 * counts 0 lines. Texts above {@link #DIFF_LIMIT} are not diffed: every line of the old side counts as
 * removed and every line of the new side as added.
 */
final class LineCounter {

  private LineCounter() {}

  static final int DIFF_LIMIT = 16 << 20;
  private static final DiffAlgorithm HISTOGRAM = new HistogramDiff();

  record Counts(int added, int removed, boolean binary) {
    static final Counts BINARY = new Counts(0, 0, true);
    static final Counts NONE = new Counts(0, 0, false);
  }

  /** {@code before}/{@code after} null: the file did not exist on that side. */
  static Counts count(byte[] before, byte[] after) {
    byte[] a = before == null ? new byte[0] : before;
    byte[] b = after == null ? new byte[0] : after;
    if (RawText.isBinary(a, a.length, true) || RawText.isBinary(b, b.length, true)) {
      return Counts.BINARY;
    }
    RawText ta = new RawText(a);
    RawText tb = new RawText(b);
    if (a.length == 0 || b.length == 0 || a.length > DIFF_LIMIT || b.length > DIFF_LIMIT) {
      return new Counts(tb.size(), ta.size(), false);
    }
    EditList edits = HISTOGRAM.diff(RawTextComparator.DEFAULT, ta, tb);
    int added = 0;
    int removed = 0;
    for (Edit e : edits) {
      added += e.getLengthB();
      removed += e.getLengthA();
    }
    return new Counts(added, removed, false);
  }
}
