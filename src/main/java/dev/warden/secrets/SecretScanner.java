package dev.warden.secrets;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

/**
 * Finds secrets in file content: private key blocks, cloud and service tokens, and labelled
 * high-entropy assignments. Stateless and thread-safe.
 *
 * <p>One pass over the bytes. Each byte that can start a secret ({@code -}, {@code A}, {@code g},
 * {@code x}, {@code s}, {@code r}) or end a label ({@code =}, {@code :}) triggers a detector that
 * looks a bounded distance ahead or back, so a file costs O(size) whatever it holds — no regular
 * expressions, nothing to backtrack. Content past {@link #maxBytes()} is not scanned and the
 * {@link Scan} says so.
 *
 * <p>A NUL byte does not stop it: a key after a NUL is still a key. Content with NUL bytes gets two
 * more passes: one over the bytes with every NUL left out (which turns UTF-16 or UTF-32 text made of
 * ASCII, and UTF-16 runs inside binaries, back into plain text), and, for content that is UTF-16 — a
 * byte order mark, or the NUL-every-other-byte pattern of ASCII text in the first bytes, little or big
 * endian — one over the text decoded. Findings of the passes are merged (one per rule, line and
 * value).
 *
 * <p>What it finds, by rule (see docs/validation.md for the exact shapes):
 * {@code private-key} (PEM blocks whose label ends in PRIVATE KEY or PRIVATE KEY BLOCK — RSA, EC, DSA,
 * OPENSSH, PKCS#8, ENCRYPTED, PGP — followed by a base64 body), {@code gcp-service-account-key} (the
 * same inside a {@code "private_key"} JSON value), {@code aws-access-key-id} (AKIA/ASIA + 16),
 * {@code aws-secret-access-key} (40 characters after an AWS secret label), {@code github-token}
 * (ghp_, gho_, ghu_, ghs_, ghr_, github_pat_), {@code gitlab-token} (glpat-), {@code slack-token}
 * (xoxa-, xoxb-, xoxp-, xoxr-, xoxs-), {@code stripe-key} (sk_live_, rk_live_),
 * {@code anthropic-api-key} (sk-ant-), {@code openai-api-key} (sk-, sk-proj-...) and
 * {@code generic-secret} (a quoted, random-looking value assigned to a name ending in password,
 * secret, api key, access/auth token...).
 *
 * <p>Every token must also look random (entropy, no alphabet runs like {@code abcdef...}), which keeps
 * placeholders ({@code ghp_xxxx...}, {@code AKIAXXXXXXXXXXXXXXXX}) out. Findings never carry the secret:
 * the message shows at most its last four characters, and a fingerprint (a truncated SHA-256) lets
 * callers compare findings without keeping the value.
 */
public final class SecretScanner {

  /** Scan at most this much of a file by default (the checkpoint's line counts stop there too). */
  public static final int DEFAULT_MAX_BYTES = 16 << 20;
  /** Git's binary test looks at this many bytes for a NUL. */
  static final int BINARY_PROBE = 8000;

  private final int maxBytes;

  public SecretScanner() {
    this(DEFAULT_MAX_BYTES);
  }

  /** maxBytes: scan at most this many bytes of a file (the rest is reported as not scanned). */
  public SecretScanner(int maxBytes) {
    if (maxBytes < 1) {
      throw new IllegalArgumentException("maxBytes must be positive, got " + maxBytes);
    }
    this.maxBytes = maxBytes;
  }

  public int maxBytes() {
    return maxBytes;
  }

  /**
   * A secret found: rule (e.g. {@code github-token}), 1-based line, what it is, the value masked to
   * its last four characters, and a fingerprint of the value (16 hex digits of its SHA-256).
   */
  public record Finding(String rule, int line, String description, String masked, String fingerprint) {
    public String message() {
      return description + " at line " + line + (masked.isEmpty() ? "" : ": " + masked);
    }
  }

  /**
   * The outcome of one scan. {@code binary}: git would call the content binary (a NUL in its first
   * 8000 bytes); it was scanned all the same. {@code scannedBytes} of
   * {@code totalBytes} were scanned; fewer when the file is larger than the cap.
   */
  public record Scan(List<Finding> findings, boolean binary, long scannedBytes, long totalBytes) {
    public Scan {
      findings = List.copyOf(findings);
    }

    public boolean truncated() {
      return scannedBytes < totalBytes;
    }
  }

  /** Scans all of {@code content} (up to the cap). */
  public Scan scan(byte[] content) {
    return scan(content, content.length);
  }

  /**
   * Scans {@code content}, which may hold only the first bytes of a file of {@code totalBytes} (a
   * caller that read it capped); at most {@link #maxBytes()} are scanned.
   */
  public Scan scan(byte[] content, long totalBytes) {
    int end = Math.min(content.length, maxBytes);
    long total = Math.max(totalBytes, content.length);
    SecretPass plain = new SecretPass(content, end);
    plain.run();
    if (!hasNul(content, end)) {
      return new Scan(plain.findings, false, end, total);
    }
    List<List<Finding>> passes = new ArrayList<>(3);
    Charset utf16 = utf16(content, end);
    if (utf16 != null) {
      byte[] text = decodeUtf16(content, end, utf16);
      SecretPass decoded = new SecretPass(text, text.length);
      decoded.run();
      passes.add(decoded.findings);
    }
    passes.add(plain.findings);
    WithoutNul stripped = withoutNul(content, end, false);
    SecretPass nulless = new SecretPass(stripped.bytes(), stripped.length());
    nulless.run();
    passes.add(nulless.findings);
    return new Scan(merge(passes), isBinary(content, end), end, total);
  }

  /** Git's test: a NUL byte among the first 8000. */
  static boolean isBinary(byte[] content, int length) {
    return hasNul(content, Math.min(length, BINARY_PROBE));
  }

  private static boolean hasNul(byte[] content, int length) {
    for (int i = 0; i < length; i++) {
      if (content[i] == 0) {
        return true;
      }
    }
    return false;
  }

  /** Where a secret lies in the bytes given to {@link #spans}: {@code [from, to)}, and the rule that found it. */
  record Span(String rule, int from, int to) {}

  /**
   * Where the secrets of {@code text} lie, with the same detectors and the same NUL handling as
   * {@link #scan} (no decoding: the caller has text), and no size cap. A private key's span covers
   * its whole body (up to its END line), not only the bytes its fingerprint is taken from. Spans of
   * the passes may overlap.
   */
  static List<Span> spans(byte[] text) {
    SecretPass plain = new SecretPass(text, text.length);
    plain.run();
    if (!hasNul(text, text.length)) {
      return plain.spans;
    }
    List<Span> out = new ArrayList<>(plain.spans);
    WithoutNul stripped = withoutNul(text, text.length, true);
    SecretPass nulless = new SecretPass(stripped.bytes(), stripped.length());
    nulless.run();
    for (Span s : nulless.spans) {
      out.add(new Span(s.rule(), stripped.origin()[s.from()], stripped.origin()[s.to() - 1] + 1));
    }
    return out;
  }

  /** How many bytes at the start of a file tell whether it is UTF-16 without a byte order mark. */
  static final int UTF16_PROBE = 4096;

  /**
   * UTF-16LE or UTF-16BE when {@code content} starts with that byte order mark, or when, in its first
   * {@value #UTF16_PROBE} bytes (at least 8), seven code units in ten are an ASCII-range character
   * with a NUL high byte on the same side and fewer than one in ten on the other; otherwise null.
   */
  static Charset utf16(byte[] content, int end) {
    if (end >= 2 && content[0] == (byte) 0xFF && content[1] == (byte) 0xFE) {
      return StandardCharsets.UTF_16LE;
    }
    if (end >= 2 && content[0] == (byte) 0xFE && content[1] == (byte) 0xFF) {
      return StandardCharsets.UTF_16BE;
    }
    int pairs = Math.min(end, UTF16_PROBE) / 2;
    if (pairs < 4) {
      return null;
    }
    int little = 0;
    int big = 0;
    for (int k = 0; k < pairs; k++) {
      byte first = content[2 * k];
      byte second = content[2 * k + 1];
      if (second == 0 && first != 0) {
        little++;
      } else if (first == 0 && second != 0) {
        big++;
      }
    }
    if (little * 10 >= pairs * 7 && big * 10 < pairs) {
      return StandardCharsets.UTF_16LE;
    }
    if (big * 10 >= pairs * 7 && little * 10 < pairs) {
      return StandardCharsets.UTF_16BE;
    }
    return null;
  }

  /** The first {@code end} bytes decoded from UTF-16 (a byte order mark dropped, bad units replaced), as UTF-8. */
  static byte[] decodeUtf16(byte[] content, int end, Charset charset) {
    int from = end >= 2 && ((content[0] == (byte) 0xFF && content[1] == (byte) 0xFE)
        || (content[0] == (byte) 0xFE && content[1] == (byte) 0xFF)) ? 2 : 0;
    return new String(content, from, (end - from) & ~1, charset).getBytes(StandardCharsets.UTF_8);
  }

  /** Content with its NUL bytes left out; {@code origin[k]}: where byte k was (only when asked for). */
  private record WithoutNul(byte[] bytes, int length, int[] origin) {}

  private static WithoutNul withoutNul(byte[] content, int end, boolean withOrigin) {
    byte[] out = new byte[end];
    int[] origin = withOrigin ? new int[end] : null;
    int n = 0;
    for (int i = 0; i < end; i++) {
      if (content[i] != 0) {
        if (origin != null) {
          origin[n] = i;
        }
        out[n++] = content[i];
      }
    }
    return new WithoutNul(out, n, origin);
  }

  /** The findings of several passes over one file, each secret once (rule, line, value), in line order. */
  private static List<Finding> merge(List<List<Finding>> passes) {
    Set<String> seen = new HashSet<>();
    List<Finding> out = new ArrayList<>();
    for (List<Finding> findings : passes) {
      for (Finding f : findings) {
        if (seen.add(f.rule() + "\n" + f.line() + "\n" + f.fingerprint())) {
          out.add(f);
        }
      }
    }
    out.sort(Comparator.comparingInt(Finding::line)); // stable: the first pass's order within a line
    return out;
  }


  /**
   * Random enough to be a key: Shannon entropy of at least min(3.5, 0.75·log2(length)) bits per
   * character, and not mostly an alphabet run ("abcdef", "123456"), nor one character repeated.
   */
  static boolean looksRandom(byte[] c, int from, int to) {
    int n = to - from;
    if (n < 8) {
      return false;
    }
    int ascending = 0;
    for (int k = from + 1; k < to; k++) {
      if (c[k] == c[k - 1] + 1) {
        ascending++;
      }
    }
    if (ascending * 3 > n) {
      return false;
    }
    return entropy(c, from, to) >= Math.min(3.5, 0.75 * log2(n));
  }

  static double entropy(byte[] c, int from, int to) {
    int[] counts = new int[256];
    for (int k = from; k < to; k++) {
      counts[c[k] & 0xff]++;
    }
    double n = to - from;
    double h = 0;
    for (int count : counts) {
      if (count > 0) {
        double p = count / n;
        h -= p * log2(p);
      }
    }
    return h;
  }

  static double log2(double x) {
    return Math.log(x) / Math.log(2);
  }

  static String fingerprint(byte[] c, int from, int to) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(c, from, to - from);
      return HexFormat.of().formatHex(sha.digest(), 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}
