package dev.warden.http;

import dev.warden.Rejection;

/**
 * Lengths of client-sent text in UTF-8 bytes (what a limit in the configuration means), counted
 * without encoding the text, and cut at a character boundary.
 */
public final class TextLimits {

  private TextLimits() {}

  /** The UTF-8 length of {@code text}; an unpaired surrogate counts as the 3 bytes of its replacement. */
  public static long utf8Length(CharSequence text) {
    long bytes = 0;
    int length = text.length();
    for (int i = 0; i < length; i++) {
      bytes += charBytes(text, i);
      if (Character.isHighSurrogate(text.charAt(i)) && i + 1 < length && Character.isLowSurrogate(text.charAt(i + 1))) {
        i++;
      }
    }
    return bytes;
  }

  /** Whether {@code text} is longer than {@code maxBytes} in UTF-8; stops counting as soon as it is. */
  public static boolean exceeds(CharSequence text, long maxBytes) {
    if (text.length() <= maxBytes / 3) {
      return false;
    }
    return prefixChars(text, maxBytes) < text.length();
  }

  /** The longest start of {@code text} that is at most {@code maxBytes} in UTF-8, never half a surrogate pair. */
  public static String cut(String text, long maxBytes) {
    int end = prefixChars(text, maxBytes);
    return end == text.length() ? text : text.substring(0, end);
  }

  /**
   * {@code value} when it is at most {@code maxBytes} long; otherwise a 400 naming {@code field}.
   * For reasons, descriptions, questions and answers, which are recorded and shown as they are.
   */
  public static String requireWithin(String field, String value, long maxBytes) {
    if (exceeds(value, maxBytes)) {
      throw Rejection.invalid(field, "is longer than the limit of " + maxBytes + " bytes (UTF-8)");
    }
    return value;
  }

  private static int prefixChars(CharSequence text, long maxBytes) {
    long bytes = 0;
    int length = text.length();
    int i = 0;
    while (i < length) {
      boolean pair = Character.isHighSurrogate(text.charAt(i)) && i + 1 < length && Character.isLowSurrogate(text.charAt(i + 1));
      long next = bytes + charBytes(text, i);
      if (next > maxBytes) {
        return i;
      }
      bytes = next;
      i += pair ? 2 : 1;
    }
    return length;
  }

  /** Bytes of the character at {@code i}: 4 for a surrogate pair (counted at its high half). */
  private static int charBytes(CharSequence text, int i) {
    char c = text.charAt(i);
    if (c < 0x80) {
      return 1;
    }
    if (c < 0x800) {
      return 2;
    }
    if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
      return 4;
    }
    return 3;
  }
}
