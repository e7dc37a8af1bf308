package dev.warden.secrets;

import java.nio.charset.StandardCharsets;

/**
 * Bytes under scan and the byte-level tests the secret detectors share: token runs by character
 * class, prefixes, searches within bounds, masks. No allocation except the mask string; nothing
 * looks further than the caller asks. Base of {@link SecretPass} and {@link SecretAssignment}.
 */
abstract class SecretBytes {

  /** The longest token a detector takes (a run stops one byte past it). */
  static final int MAX_TOKEN = 256;
  /** Character classes of bytes, as bit masks, for the token runs. */
  private static final byte[] CLASSES = new byte[256];
  static final int ALNUM = 1;
  static final int UNDERSCORE = 2;
  static final int DASH = 4;
  static final int DOT = 8;
  static final int SLASH_PLUS = 16;

  static {
    for (int b = 0; b < 256; b++) {
      boolean alnum = (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9');
      CLASSES[b] = (byte) ((alnum ? ALNUM : 0) | (b == '_' ? UNDERSCORE : 0) | (b == '-' ? DASH : 0) | (b == '.' ? DOT : 0)
          | (b == '/' || b == '+' ? SLASH_PLUS : 0));
    }
  }

  final byte[] c;
  final int end;

  SecretBytes(byte[] c, int end) {
    this.c = c;
    this.end = end;
  }

  String mask(int from, int to) {
    int n = to - from;
    return "****" + new String(c, Math.max(from, to - 4), Math.min(4, n), StandardCharsets.UTF_8);
  }

  boolean startsWith(int i, byte[] prefix) {
    if (i + prefix.length > end) {
      return false;
    }
    for (int k = 0; k < prefix.length; k++) {
      if (c[i + k] != prefix[k]) {
        return false;
      }
    }
    return true;
  }

  int indexOf(byte[] needle, int from, int to) {
    for (int i = from; i + needle.length <= to; i++) {
      if (c[i] == needle[0] && startsWith(i, needle)) {
        return i;
      }
    }
    return -1;
  }

  boolean onSameLineBefore(int i, byte[] needle) {
    int from = i;
    while (from > 0 && c[from - 1] != '\n' && i - from < 256) {
      from--;
    }
    return indexOf(needle, from, i) >= 0;
  }

  /** The end of the run of bytes in the classes {@code mask} from {@code start} (at most {@value #MAX_TOKEN} + 1 long). */
  int run(int start, int mask) {
    int k = start;
    int limit = Math.min(end, start + MAX_TOKEN + 1);
    while (k < limit && (CLASSES[c[k] & 0xff] & mask) != 0) {
      k++;
    }
    return k;
  }

  int longestAlnumRun(int from, int to) {
    int best = 0;
    int current = 0;
    for (int k = from; k < to; k++) {
      current = isAlnum(c[k]) ? current + 1 : 0;
      best = Math.max(best, current);
    }
    return best;
  }

  boolean hasUpperLowerDigit(int from, int to) {
    boolean upper = false;
    boolean lower = false;
    boolean digit = false;
    for (int k = from; k < to; k++) {
      upper |= isUpper(c[k]);
      lower |= isLower(c[k]);
      digit |= isDigit(c[k]);
    }
    return upper && lower && digit;
  }

  /** Base64 keys mix cases; hex digests and words in one case do not. */
  boolean hasUpperAndLower(int from, int to) {
    boolean upper = false;
    boolean lower = false;
    for (int k = from; k < to; k++) {
      upper |= isUpper(c[k]);
      lower |= isLower(c[k]);
    }
    return upper && lower;
  }

  static boolean isUpper(byte b) {
    return b >= 'A' && b <= 'Z';
  }

  static boolean isLower(byte b) {
    return b >= 'a' && b <= 'z';
  }

  static boolean isDigit(byte b) {
    return b >= '0' && b <= '9';
  }

  static boolean isAlpha(byte b) {
    return isUpper(b) || isLower(b);
  }

  static boolean isAlnum(byte b) {
    return isAlpha(b) || isDigit(b);
  }

  static boolean isBase64(byte b) {
    return isAlnum(b) || b == '+' || b == '/' || b == '=';
  }
}
