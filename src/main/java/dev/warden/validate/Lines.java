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
