package dev.warden.secrets;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Hides secrets in text a person reads: a unified diff ({@link #diff}) or a file's content
 * ({@link #content}). Each secret's value becomes {@code «secret:<rule> masked»} ({@link #marker});
 * every line stays where it was (a private key's body lines each become one marker), so line numbers,
 * hunk headers and the diff's shape still hold. The detectors are {@link SecretScanner}'s, NUL
 * handling included, without its size cap. Stateless.
 *
 * <p>A diff is not scanned as it stands: the {@code +} and {@code -} in front of each line would hide
 * what starts a line (a private key's body, {@code NAME=value}). Each hunk is read as the two texts it
 * shows — the old side (context and removed lines) and the new side (context and added lines) — and
 * what is found in either is masked in the diff's lines. The lines outside hunks (file headers, a hunk
 * header's function context, notes) are scanned as text of their own.
 */
public final class SecretMasker {

  /** What a caller gets: the text with its secrets masked, and how many were. */
  public record Masked(String text, int secrets) {}

  private static final Pattern HUNK = Pattern.compile("^@@ -\\d+(?:,(\\d+))? \\+\\d+(?:,(\\d+))? @@ ?");

  private SecretMasker() {}

  /** The text that replaces a secret found by {@code rule}. */
  public static String marker(String rule) {
    return "«secret:" + rule + " masked»";
  }

  /** {@code text} as a file's content: every secret in it masked. */
  public static Masked content(String text) {
    Text t = new Text(text);
    Side all = new Side();
    for (int i = 0; i < t.lines(); i++) {
      all.add(i, 0);
    }
    t.mask(all);
    return t.result();
  }

  /** {@code diff}, a unified diff (git's, or any {@code diff -u}), with the secrets of its lines masked. */
  public static Masked diff(String diff) {
    Text t = new Text(diff);
    Side outside = new Side();
    int i = 0;
    while (i < t.lines()) {
      Matcher hunk = t.startsHunk(i) ? HUNK.matcher(t.startOf(i, 64)) : null;
      if (hunk == null || !hunk.find()) {
        outside.add(i, 0);
        i++;
        continue;
      }
      // the header's function context (a line of the file) is text of its own
      if (t.length(i) > hunk.end()) {
        Side context = new Side();
        context.add(i, hunk.end());
        t.mask(context);
      }
      // counts, when the header has them, end the hunk exactly; a line that fits no hunk ends it anyway
      int oldLeft = hunk.group(1) == null ? 1 : Integer.parseInt(hunk.group(1));
      int newLeft = hunk.group(2) == null ? 1 : Integer.parseInt(hunk.group(2));
      Side before = new Side();
      Side after = new Side();
      i++;
      while (i < t.lines() && (oldLeft > 0 || newLeft > 0)) {
        int first = t.firstByte(i);
        if (first == ' ' || first == -1) {
          before.add(i, first == -1 ? 0 : 1);
          after.add(i, first == -1 ? 0 : 1);
          oldLeft--;
          newLeft--;
        } else if (first == '-') {
          before.add(i, 1);
          oldLeft--;
        } else if (first == '+') {
          after.add(i, 1);
          newLeft--;
        } else if (first != '\\') {
          break;
        }
        i++;
      }
      t.mask(before);
      t.mask(after);
    }
    t.mask(outside);
    return t.result();
  }

  /** Lines of one text to scan together: line index, and where its content starts in the line. */
  private static final class Side {
    int size;
    int[] line = new int[16];
    int[] contentFrom = new int[16];

    void add(int index, int from) {
      if (size == line.length) {
        line = java.util.Arrays.copyOf(line, size * 2);
        contentFrom = java.util.Arrays.copyOf(contentFrom, size * 2);
      }
      line[size] = index;
      contentFrom[size++] = from;
    }
  }

  /** The text being masked, as UTF-8 bytes split into lines, and the byte ranges to hide. */
  private static final class Text {
    private final byte[] all;
    private final List<int[]> lines = new ArrayList<>(); // {start, end}, end before the '\n'
    private final List<Range> ranges = new ArrayList<>();
    private final Set<Integer> secretsAt = new HashSet<>();

    Text(String text) {
      all = text.getBytes(StandardCharsets.UTF_8);
      int start = 0;
      for (int k = 0; k < all.length; k++) {
        if (all[k] == '\n') {
          lines.add(new int[] {start, k});
          start = k + 1;
        }
      }
      if (start < all.length) {
        lines.add(new int[] {start, all.length});
      }
    }

    int lines() {
      return lines.size();
    }

    int length(int line) {
      return lines.get(line)[1] - lines.get(line)[0];
    }

    /** The line's first byte, -1 for an empty line. */
    int firstByte(int line) {
      int[] l = lines.get(line);
      return l[1] > l[0] ? all[l[0]] : -1;
    }

    /** Whether the line starts with {@code "@@ -"}. */
    boolean startsHunk(int line) {
      int at = lines.get(line)[0];
      return length(line) >= 4 && all[at] == '@' && all[at + 1] == '@' && all[at + 2] == ' ' && all[at + 3] == '-';
    }

    /** Up to {@code max} bytes of the line's start, as text (for matching its shape). */
    String startOf(int line, int max) {
      int[] l = lines.get(line);
      return new String(all, l[0], Math.min(max, l[1] - l[0]), StandardCharsets.UTF_8);
    }

    /** Scans the side's lines as one text and records the ranges of {@link #all} that its secrets cover. */
    void mask(Side side) {
      int n = side.size;
      if (n == 0) {
        return;
      }
      int[] at = new int[n]; // where each line's content starts in the side's text
      ByteArrayOutputStream text = new ByteArrayOutputStream();
      for (int j = 0; j < n; j++) {
        int[] l = lines.get(side.line[j]);
        int from = Math.min(l[0] + side.contentFrom[j], l[1]);
        at[j] = text.size();
        text.write(all, from, l[1] - from);
        text.write('\n');
      }
      for (SecretScanner.Span span : SecretScanner.spans(text.toByteArray())) {
        int first = -1;
        for (int j = lineAt(at, span.from()); j < n && at[j] < span.to(); j++) {
          int[] l = lines.get(side.line[j]);
          int from = Math.min(l[0] + side.contentFrom[j], l[1]);
          int contentEnd = l[1];
          if (contentEnd > from && all[contentEnd - 1] == '\r') {
            contentEnd--;
          }
          int start = from + Math.max(0, span.from() - at[j]);
          int end = Math.min(contentEnd, from + (span.to() - at[j]));
          if (end > start) {
            ranges.add(new Range(start, end, span.rule()));
            if (first < 0) {
              first = start;
            }
          }
        }
        if (first >= 0) {
          secretsAt.add(first);
        }
      }
    }

    /** The last line starting at or before {@code offset}. */
    private static int lineAt(int[] at, int offset) {
      int lo = 0;
      int hi = at.length - 1;
      while (lo < hi) {
        int mid = (lo + hi + 1) >>> 1;
        if (at[mid] <= offset) {
          lo = mid;
        } else {
          hi = mid - 1;
        }
      }
      return lo;
    }

    Masked result() {
      if (ranges.isEmpty()) {
        return new Masked(new String(all, StandardCharsets.UTF_8), 0);
      }
      ranges.sort(Comparator.comparingInt(Range::from));
      ByteArrayOutputStream out = new ByteArrayOutputStream(all.length);
      int copied = 0;
      int k = 0;
      while (k < ranges.size()) {
        Range r = ranges.get(k);
        int end = r.to();
        // overlapping ranges (a context line seen from both sides, two passes) hide as one
        while (k + 1 < ranges.size() && ranges.get(k + 1).from() < end) {
          end = Math.max(end, ranges.get(++k).to());
        }
        out.write(all, copied, r.from() - copied);
        out.writeBytes(marker(r.rule()).getBytes(StandardCharsets.UTF_8));
        copied = end;
        k++;
      }
      out.write(all, copied, all.length - copied);
      return new Masked(out.toString(StandardCharsets.UTF_8), secretsAt.size());
    }
  }

  private record Range(int from, int to, String rule) {}
}
