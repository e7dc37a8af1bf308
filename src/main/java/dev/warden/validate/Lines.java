package dev.warden.validate;

import org.eclipse.jgit.diff.DiffAlgorithm;
import org.eclipse.jgit.diff.Edit;
import org.eclipse.jgit.diff.HistogramDiff;
import org.eclipse.jgit.diff.RawText;
import org.eclipse.jgit.diff.RawTextComparator;

/**
 * Line counts with the checkpoint's conventions (so the validator and the checkpoint record agree):
 * binary content (JGit's test) counts no lines; lines are what {@link RawText#size()} counts; a real
 * diff is histogram, as {@code git diff} uses.
 */
final class Lines {

  private Lines() {}

  private static final DiffAlgorithm HISTOGRAM = new HistogramDiff();

  static boolean isBinary(byte[] content) {
    return RawText.isBinary(content, content.length, true);
  }

  /** Lines of text: newlines, plus one for a last line without one. */
  static int count(byte[] content) {
    int n = 0;
    for (byte b : content) {
      if (b == '\n') {
        n++;
      }
    }
    return content.length > 0 && content[content.length - 1] != '\n' ? n + 1 : n;
  }

  /**
   * An upper bound of {added, removed} between two texts without a diff: the lines left after trimming
   * the lines both share at the start and at the end (what any diff of the two changes at most). The
   * third element is 1 when the bound is the exact count: one side has nothing left (a pure insertion
   * or deletion, or no change at all).
   */
  static int[] bound(byte[] before, byte[] after) {
    int n = Math.min(before.length, after.length);
    int prefixEnd = 0; // where the first line that differs starts, in both
    int i = 0;
    while (i < n && before[i] == after[i]) {
      if (before[i] == '\n') {
        prefixEnd = i + 1;
      }
      i++;
    }
    if (i == before.length && i == after.length) {
      return new int[] {0, 0, 1};
    }
    // the shared tail, in whole lines, never reaching back into the shared head
    int ea = before.length;
    int eb = after.length;
    int tailA = ea;
    int tailB = eb;
    while (ea > prefixEnd && eb > prefixEnd && before[ea - 1] == after[eb - 1]) {
      ea--;
      eb--;
      if ((ea == prefixEnd || before[ea - 1] == '\n') && (eb == prefixEnd || after[eb - 1] == '\n')) {
        tailA = ea;
        tailB = eb;
      }
    }
    int removed = count(before, prefixEnd, tailA);
    int added = count(after, prefixEnd, tailB);
    return new int[] {added, removed, added == 0 || removed == 0 ? 1 : 0};
  }

  private static int count(byte[] content, int from, int to) {
    int n = 0;
    for (int k = from; k < to; k++) {
      if (content[k] == '\n') {
        n++;
      }
    }
    return to > from && content[to - 1] != '\n' ? n + 1 : n;
  }

  /** {added, removed} between two texts (neither binary). */
  static int[] diff(byte[] before, byte[] after) {
    RawText a = new RawText(before);
    RawText b = new RawText(after);
    if (before.length == 0 || after.length == 0) {
      return new int[] {b.size(), a.size()};
    }
    int added = 0;
    int removed = 0;
    for (Edit e : HISTOGRAM.diff(RawTextComparator.DEFAULT, a, b)) {
      added += e.getLengthB();
      removed += e.getLengthA();
    }
    return new int[] {added, removed};
  }
}
