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

  private static final int MAX_TOKEN = 256;
  private static final int MAX_LABEL = 64;
  private static final int PEM_LOOKAHEAD = 1024;
  private static final int PEM_BODY_MIN = 40;
  private static final byte[] PEM_BEGIN = ascii("-----BEGIN ");
  private static final byte[] PEM_END = ascii("-----END ");
  private static final byte[] DASHES = ascii("-----");
  private static final byte[] GITHUB_PAT = ascii("github_pat_");
  private static final byte[] GLPAT = ascii("glpat-");
  private static final byte[] SK_LIVE = ascii("sk_live_");
  private static final byte[] RK_LIVE = ascii("rk_live_");
  private static final byte[] SK_ANT = ascii("sk-ant-");
  private static final byte[] PRIVATE_KEY_JSON = ascii("\"private_key\"");
  private static final byte[] EXPORT = ascii("export");
  /** Values starting so belong to a specific detector, not to generic-secret. */
  private static final byte[][] VENDOR_PREFIXES = {ascii("ghp_"), ascii("gho_"), ascii("ghu_"), ascii("ghs_"), ascii("ghr_"),
      ascii("github_pat_"), ascii("glpat-"), ascii("xoxa-"), ascii("xoxb-"), ascii("xoxp-"), ascii("xoxr-"), ascii("xoxs-"),
      ascii("sk-"), ascii("sk_live_"), ascii("rk_live_"), ascii("AKIA"), ascii("ASIA"), ascii("-----BEGIN ")};
  /** Label endings (lower case, '_' and '-' removed) that make a quoted value a candidate secret. */
  private static final String[] SECRET_NAMES = {"password", "passwd", "secret", "secretkey", "clientsecret", "apikey",
      "apisecret", "accesstoken", "authtoken", "apitoken", "privatetoken"};
  /** Words that mark a value as a placeholder or an example, not a secret. */
  private static final String[] PLACEHOLDER_WORDS = {"example", "changeme", "change_me", "password", "passwd", "secret",
      "xxxx", "your", "dummy", "sample", "placeholder", "redacted", "****", "test", "fake", "todo", "replace", "insert",
      "default", "null", "none", "undefined", "foobar", "lorem"};

  /**
   * The byte pairs (first &lt;&lt; 8 | second) where the pass calls a detector: the starts of what they
   * look for ("--", "AK", "AS", "gh", "gi", "gl", "xo", "sk", "rk") and every '=' or ':'.
   */
  private static final boolean[] TRIGGER = new boolean[1 << 16];
  /** Character classes of bytes, as bit masks, for the token runs. */
  private static final byte[] CLASSES = new byte[256];
  private static final int ALNUM = 1;
  private static final int UNDERSCORE = 2;
  private static final int DASH = 4;
  private static final int DOT = 8;
  private static final int SLASH_PLUS = 16;

  static {
    for (String pair : new String[] {"--", "AK", "AS", "gh", "gi", "gl", "xo", "sk", "rk"}) {
      TRIGGER[pair.charAt(0) << 8 | pair.charAt(1)] = true;
    }
    for (int next = 0; next < 256; next++) {
      TRIGGER['=' << 8 | next] = true;
      TRIGGER[':' << 8 | next] = true;
    }
    for (int b = 0; b < 256; b++) {
      boolean alnum = (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9');
      CLASSES[b] = (byte) ((alnum ? ALNUM : 0) | (b == '_' ? UNDERSCORE : 0) | (b == '-' ? DASH : 0) | (b == '.' ? DOT : 0)
          | (b == '/' || b == '+' ? SLASH_PLUS : 0));
    }
  }

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
    Pass plain = new Pass(content, end);
    plain.run();
    if (!hasNul(content, end)) {
      return new Scan(plain.findings, false, end, total);
    }
    List<List<Finding>> passes = new ArrayList<>(3);
    Charset utf16 = utf16(content, end);
    if (utf16 != null) {
      byte[] text = decodeUtf16(content, end, utf16);
      Pass decoded = new Pass(text, text.length);
      decoded.run();
      passes.add(decoded.findings);
    }
    passes.add(plain.findings);
    WithoutNul stripped = withoutNul(content, end, false);
    Pass nulless = new Pass(stripped.bytes(), stripped.length());
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
    Pass plain = new Pass(text, text.length);
    plain.run();
    if (!hasNul(text, text.length)) {
      return plain.spans;
    }
    List<Span> out = new ArrayList<>(plain.spans);
    WithoutNul stripped = withoutNul(text, text.length, true);
    Pass nulless = new Pass(stripped.bytes(), stripped.length());
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

  // ================================================================== the pass

  private static final class Pass {
    private final byte[] c;
    private final int end;
    private final List<Finding> findings = new ArrayList<>(0);
    private final List<Span> spans = new ArrayList<>(0);
    private int line = 1;
    private int lineCountedTo;
    /** Where the current detector was triggered: its finding is reported on that line. */
    private int at;
    /** The current assignment's normalized name (see normalizedName). */
    private final byte[] name = new byte[MAX_LABEL + 1];
    /** Bytes before this index belong to a finding already made: no trigger fires inside them. */
    private int quietUntil;

    Pass(byte[] c, int end) {
      this.c = c;
      this.end = end;
    }

    void run() {
      final byte[] c = this.c;
      final int end = this.end;
      for (int i = 0; i < end; i++) {
        // two bytes decide whether anything can start here: letters are frequent, secrets are not
        int next = i + 1 < end ? c[i + 1] & 0xff : 0;
        if (!TRIGGER[((c[i] & 0xff) << 8) | next] || i < quietUntil) {
          continue;
        }
        at = i;
        int done = switch (c[i]) {
          case '-' -> pem(i);
          case 'A' -> awsKeyId(i);
          case 'g' -> githubOrGitlab(i);
          case 'x' -> slack(i);
          case 's' -> skKey(i);
          case 'r' -> restrictedStripe(i);
          default -> assignment(i);
        };
        if (done > i) {
          quietUntil = done;
        }
      }
    }

    /** The 1-based line of {@code index}; counted only when something is found, and only forwards. */
    private int lineOf(int index) {
      for (int k = lineCountedTo; k < index; k++) {
        if (c[k] == '\n') {
          line++;
        }
      }
      lineCountedTo = Math.max(lineCountedTo, index);
      return line;
    }

    // ---- PEM private key blocks ----

    private int pem(int i) {
      if (!startsWith(i, PEM_BEGIN) || (i > 0 && c[i - 1] == '-')) {
        return -1;
      }
      int labelStart = i + PEM_BEGIN.length;
      int j = labelStart;
      while (j < end && j - labelStart <= 48 && (isUpper(c[j]) || isDigit(c[j]) || c[j] == ' ')) {
        j++;
      }
      if (j == labelStart || !startsWith(j, DASHES)) {
        return -1;
      }
      String label = new String(c, labelStart, j - labelStart, StandardCharsets.US_ASCII);
      if (!label.endsWith("PRIVATE KEY") && !label.endsWith("PRIVATE KEY BLOCK")) {
        return -1; // public keys, certificates, CSRs
      }
      int bodyStart = pemBody(j + DASHES.length);
      if (bodyStart < 0) {
        return -1; // the header alone: code that parses keys, docs that name the format
      }
      int bodyEnd = bodyStart;
      while (bodyEnd < end && isBase64(c[bodyEnd])) {
        bodyEnd++;
      }
      boolean gcp = label.equals("PRIVATE KEY") && onSameLineBefore(i, PRIVATE_KEY_JSON);
      String rule = gcp ? "gcp-service-account-key" : "private-key";
      String what = gcp ? "GCP service account private key (PEM block '" + label + "' in \"private_key\")"
          : "PEM block '" + label + "'";
      int close = indexOf(PEM_END, bodyEnd, Math.min(end, bodyEnd + (64 << 10)));
      // the fingerprint is of the body's first bytes; a mask covers all of it
      add(rule, what, "", bodyStart, Math.min(bodyEnd, bodyStart + 128), bodyStart, close < 0 ? pemTail(bodyEnd) : close);
      return close < 0 ? bodyEnd : close + PEM_END.length;
    }

    /**
     * For a key block without its END line (a diff cut short, a hunk that shows part of it): the end
     * of the lines after {@code bodyEnd} that hold only base64, so that a mask hides them too.
     */
    private int pemTail(int bodyEnd) {
      int limit = Math.min(end, bodyEnd + (64 << 10));
      int last = bodyEnd;
      int j = bodyEnd;
      while (j < limit) {
        int k = j;
        if (c[k] == '\\' && k + 1 < limit && (c[k + 1] == 'n' || c[k + 1] == 'r')) {
          k += 2;
        } else {
          if (c[k] == '\r') {
            k++;
          }
          if (k >= limit || c[k] != '\n') {
            break;
          }
          k++;
        }
        int r = k;
        while (r < limit && isBase64(c[r])) {
          r++;
        }
        if (r == k || (r < end && c[r] != '\n' && c[r] != '\r' && c[r] != '\\')) {
          break;
        }
        last = r;
        j = r;
      }
      return last;
    }

    /**
     * The start of a PEM body after the header line: skips line breaks (real ones or the {@code \n} of
     * a JSON string) and RFC 1421 / armor headers ({@code Proc-Type: ...}); -1 unless a run of at
     * least {@value #PEM_BODY_MIN} base64 characters follows.
     */
    private int pemBody(int j) {
      int limit = Math.min(end, j + PEM_LOOKAHEAD);
      int headers = 0;
      while (j < limit) {
        byte b = c[j];
        if (b == '\n' || b == '\r' || b == ' ' || b == '\t') {
          j++;
        } else if (b == '\\' && j + 1 < limit && (c[j + 1] == 'n' || c[j + 1] == 'r')) {
          j += 2;
        } else if (isHeaderLine(j, limit)) {
          if (++headers > 8) {
            return -1;
          }
          while (j < limit && c[j] != '\n' && !(c[j] == '\\' && j + 1 < limit && c[j + 1] == 'n')) {
            j++;
          }
        } else {
          int k = j;
          while (k < limit && isBase64(c[k])) {
            k++;
          }
          return k - j >= PEM_BODY_MIN ? j : -1;
        }
      }
      return -1;
    }

    /** "Proc-Type: 4,ENCRYPTED", "DEK-Info: ...", "Version: ...", "Comment: ...". */
    private boolean isHeaderLine(int j, int limit) {
      int k = j;
      while (k < limit && k - j < 32 && (isAlpha(c[k]) || c[k] == '-')) {
        k++;
      }
      return k > j && k < limit && c[k] == ':' && isAlpha(c[j]);
    }

    // ---- AWS ----

    private int awsKeyId(int i) {
      if (i + 20 > end || !(c[i + 1] == 'K' || c[i + 1] == 'S') || c[i + 2] != 'I' || c[i + 3] != 'A') {
        return -1;
      }
      if ((i > 0 && isAlnum(c[i - 1])) || (i + 20 < end && isAlnum(c[i + 20]))) {
        return -1;
      }
      for (int k = i + 4; k < i + 20; k++) {
        if (!(isUpper(c[k]) || isDigit(c[k]))) {
          return -1;
        }
      }
      if (!looksRandom(c, i + 4, i + 20)) {
        return -1;
      }
      boolean temporary = c[i + 1] == 'S';
      add("aws-access-key-id", temporary ? "AWS temporary access key id (ASIA...)" : "AWS access key id (AKIA...)",
          mask(i, i + 20), i, i + 20);
      return i + 20;
    }

    // ---- GitHub and GitLab ----

    private int githubOrGitlab(int i) {
      if (i > 0 && isAlnum(c[i - 1])) {
        return -1;
      }
      if (i + 4 <= end && c[i + 1] == 'h' && c[i + 3] == '_' && "pousr".indexOf(c[i + 2]) >= 0) {
        int bodyEnd = run(i + 4, ALNUM);
        int n = bodyEnd - (i + 4);
        if (n >= 30 && n <= 251 && looksRandom(c, i + 4, bodyEnd)) {
          String kind = switch (c[i + 2]) {
            case 'p' -> "personal access token";
            case 'o' -> "OAuth access token";
            case 'u' -> "user-to-server token";
            case 's' -> "server-to-server token";
            default -> "refresh token";
          };
          add("github-token", "GitHub " + kind + " (gh" + (char) c[i + 2] + "_...)", mask(i, bodyEnd), i, bodyEnd);
          return bodyEnd;
        }
        return -1;
      }
      if (startsWith(i, GITHUB_PAT)) {
        int start = i + GITHUB_PAT.length;
        int bodyEnd = run(start, ALNUM | UNDERSCORE);
        if (bodyEnd - start >= 50 && bodyEnd - start <= 251 && looksRandom(c, start, bodyEnd)) {
          add("github-token", "GitHub fine-grained personal access token (github_pat_...)", mask(i, bodyEnd), i, bodyEnd);
          return bodyEnd;
        }
        return -1;
      }
      if (startsWith(i, GLPAT)) {
        int start = i + GLPAT.length;
        int bodyEnd = run(start, ALNUM | UNDERSCORE | DASH | DOT);
        while (bodyEnd > start && c[bodyEnd - 1] == '.') {
          bodyEnd--;
        }
        if (bodyEnd - start >= 20 && bodyEnd - start <= 251 && looksRandom(c, start, bodyEnd)) {
          add("gitlab-token", "GitLab personal access token (glpat-...)", mask(i, bodyEnd), i, bodyEnd);
          return bodyEnd;
        }
      }
      return -1;
    }

    // ---- Slack ----

    private int slack(int i) {
      if (i + 5 > end || c[i + 1] != 'o' || c[i + 2] != 'x' || "abprs".indexOf(c[i + 3]) < 0 || c[i + 4] != '-'
          || (i > 0 && isAlnum(c[i - 1]))) {
        return -1;
      }
      int start = i + 5;
      int bodyEnd = run(start, ALNUM | DASH);
      int n = bodyEnd - start;
      if (n < 20 || n > 251) {
        return -1;
      }
      boolean dash = false;
      boolean digit = false;
      for (int k = start; k < bodyEnd; k++) {
        dash |= c[k] == '-';
        digit |= isDigit(c[k]);
      }
      if (!dash || !digit || !looksRandom(c, start, bodyEnd)) {
        return -1;
      }
      add("slack-token", "Slack token (xox" + (char) c[i + 3] + "-...)", mask(i, bodyEnd), i, bodyEnd);
      return bodyEnd;
    }

    // ---- Stripe, Anthropic, OpenAI ----

    private int skKey(int i) {
      if (i + 3 > end || c[i + 1] != 'k' || (i > 0 && (isAlnum(c[i - 1]) || c[i - 1] == '-' || c[i - 1] == '_'))) {
        return -1;
      }
      if (startsWith(i, SK_LIVE)) {
        return stripe(i, SK_LIVE.length, "Stripe live secret key (sk_live_...)");
      }
      if (c[i + 2] != '-') {
        return -1;
      }
      boolean anthropic = startsWith(i, SK_ANT);
      int start = i + (anthropic ? SK_ANT.length : 3);
      int bodyEnd = run(start, ALNUM | DASH | UNDERSCORE);
      int n = bodyEnd - start;
      if (n < 32 || n > 251 || longestAlnumRun(start, bodyEnd) < 16 || !hasUpperLowerDigit(start, bodyEnd)
          || !looksRandom(c, start, bodyEnd)) {
        return -1;
      }
      if (anthropic) {
        add("anthropic-api-key", "Anthropic API key (sk-ant-...)", mask(i, bodyEnd), i, bodyEnd);
      } else {
        add("openai-api-key", "OpenAI-style API key (sk-...)", mask(i, bodyEnd), i, bodyEnd);
      }
      return bodyEnd;
    }

    private int restrictedStripe(int i) {
      if (!startsWith(i, RK_LIVE) || (i > 0 && (isAlnum(c[i - 1]) || c[i - 1] == '_'))) {
        return -1;
      }
      return stripe(i, RK_LIVE.length, "Stripe live restricted key (rk_live_...)");
    }

    private int stripe(int i, int prefix, String what) {
      int start = i + prefix;
      int bodyEnd = run(start, ALNUM);
      if (bodyEnd - start < 24 || bodyEnd - start > 247 || !looksRandom(c, start, bodyEnd)) {
        return -1;
      }
      add("stripe-key", what, mask(i, bodyEnd), i, bodyEnd);
      return bodyEnd;
    }

    // ---- labelled assignments: AWS secret keys and generic secrets ----

    /** At '=' or ':': the name before it and the value after it. */
    private int assignment(int i) {
      byte op = c[i];
      int valueFrom = i + 1;
      if (op == '=') {
        if (i + 1 < end && c[i + 1] == '=') {
          return -1; // comparison
        }
        if (i > 0 && (c[i - 1] == '=' || c[i - 1] == '!' || c[i - 1] == '<' || c[i - 1] == '>')) {
          return -1;
        }
        if (i + 1 < end && c[i + 1] == '>') {
          valueFrom++; // "=>"
        }
      } else {
        if ((i + 1 < end && c[i + 1] == ':') || (i > 0 && c[i - 1] == ':')) {
          return -1; // "::"
        }
        if (i + 1 < end && c[i + 1] == '=') {
          valueFrom++; // ":="
        }
      }
      // the name: optional closing quote, then [A-Za-z0-9_.-]
      int k = i - 1;
      while (k >= 0 && (c[k] == ' ' || c[k] == '\t')) {
        k--;
      }
      byte quote = 0;
      if (k >= 0 && (c[k] == '"' || c[k] == '\'')) {
        quote = c[k];
        k--;
      }
      int nameEnd = k + 1;
      while (k >= 0 && nameEnd - k <= MAX_LABEL && (isAlnum(c[k]) || c[k] == '_' || c[k] == '-' || c[k] == '.')) {
        k--;
      }
      int nameStart = k + 1;
      if (nameStart == nameEnd || nameEnd - nameStart > MAX_LABEL) {
        return -1;
      }
      if (quote != 0 && (k < 0 || c[k] != quote)) {
        return -1;
      }
      // the value's shape first (cheap), the name only for a value that could be a secret
      int v = valueFrom;
      while (v < end && (c[v] == ' ' || c[v] == '\t')) {
        v++;
      }
      if (v >= end) {
        return -1;
      }
      byte open = c[v];
      boolean quoted = open == '"' || open == '\'' || open == '`';
      int valueStart = quoted ? v + 1 : v;
      int awsEnd = run(valueStart, ALNUM | SLASH_PLUS);
      boolean awsShape = awsEnd - valueStart == 40 && (awsEnd >= end || c[awsEnd] != '=');
      if (!quoted && !awsShape && !startsLine(nameStart)) {
        return -1; // code: "int x = compute(1)"
      }
      int n = normalizedName(nameStart, nameEnd);
      boolean aws = nameContains(n, "secretaccesskey") || (nameContains(n, "secret") && nameContains(n, "aws"));
      boolean generic = !aws && nameEndsWithAny(n);
      if (!aws && !generic) {
        return -1;
      }
      if (aws) {
        int valueEnd = awsEnd;
        if (awsShape && looksRandom(c, valueStart, valueEnd) && hasUpperAndLower(valueStart, valueEnd)) {
          add("aws-secret-access-key", "AWS secret access key", mask(valueStart, valueEnd), valueStart, valueEnd);
          return valueEnd;
        }
        return -1;
      }
      if (hasVendorPrefix(valueStart)) {
        return -1; // the token's own detector reports it, under its own rule, when the pass gets there
      }
      int valueEnd;
      if (quoted) {
        valueEnd = valueStart;
        while (valueEnd < end && valueEnd - valueStart <= 128 && c[valueEnd] != open && c[valueEnd] != '\n'
            && c[valueEnd] != '\\') {
          valueEnd++;
        }
        if (valueEnd >= end || c[valueEnd] != open) {
          return -1;
        }
      } else {
        // unquoted only in env / properties / YAML style: the name starts its line, the value ends it
        if (!startsLine(nameStart)) {
          return -1;
        }
        valueEnd = valueStart;
        while (valueEnd < end && valueEnd - valueStart <= 128 && c[valueEnd] != '\n' && c[valueEnd] != '\r'
            && c[valueEnd] != ' ' && c[valueEnd] != '\t') {
          valueEnd++;
        }
        int rest = valueEnd;
        while (rest < end && (c[rest] == ' ' || c[rest] == '\t' || c[rest] == '\r')) {
          rest++;
        }
        if (rest < end && c[rest] != '\n' && c[rest] != '#') {
          return -1;
        }
      }
      if (!genericValue(valueStart, valueEnd)) {
        return -1;
      }
      add("generic-secret", "random-looking value assigned to '" + new String(c, nameStart, nameEnd - nameStart,
          StandardCharsets.UTF_8) + "'", mask(valueStart, valueEnd), valueStart, valueEnd);
      return valueEnd;
    }

    private boolean hasVendorPrefix(int v) {
      for (byte[] prefix : VENDOR_PREFIXES) {
        if (startsWith(v, prefix)) {
          return true;
        }
      }
      return false;
    }

    /**
     * Puts the last '.'-separated part of the name, lower case, letters and digits only, in {@link
     * #name}; returns its length. No allocation: this runs at every ':' and '='.
     */
    private int normalizedName(int from, int to) {
      int start = from;
      for (int k = to - 1; k >= from; k--) {
        if (c[k] == '.') {
          start = k + 1;
          break;
        }
      }
      int n = 0;
      for (int k = start; k < to; k++) {
        byte b = c[k];
        if (isUpper(b)) {
          name[n++] = (byte) (b + ('a' - 'A'));
        } else if (isLower(b) || isDigit(b)) {
          name[n++] = b;
        }
      }
      return n;
    }

    private boolean nameContains(int n, String word) {
      int w = word.length();
      outer:
      for (int k = 0; k + w <= n; k++) {
        for (int j = 0; j < w; j++) {
          if (name[k + j] != word.charAt(j)) {
            continue outer;
          }
        }
        return true;
      }
      return false;
    }

    private boolean nameEndsWithAny(int n) {
      outer:
      for (String suffix : SECRET_NAMES) {
        int w = suffix.length();
        if (w > n) {
          continue;
        }
        for (int j = 0; j < w; j++) {
          if (name[n - w + j] != suffix.charAt(j)) {
            continue outer;
          }
        }
        return true;
      }
      return false;
    }

    private boolean startsLine(int nameStart) {
      int k = nameStart - 1;
      while (k >= 0 && (c[k] == ' ' || c[k] == '\t')) {
        k--;
      }
      // "export NAME=value"
      if (k >= 5 && startsWith(k - 5, EXPORT) && (k == 5 || c[k - 6] == ' ' || c[k - 6] == '\t' || c[k - 6] == '\n')) {
        k -= 6;
        while (k >= 0 && (c[k] == ' ' || c[k] == '\t')) {
          k--;
        }
      }
      return k < 0 || c[k] == '\n';
    }

    /**
     * A value worth calling a secret: 12 to 128 printable characters without spaces, three of the four
     * classes (upper, lower, digit, symbol), random-looking, and not a placeholder, a reference
     * (${X}, {{ x }}, %(x)s, settings.x), a path, a URL or a crypt hash.
     */
    private boolean genericValue(int from, int to) {
      int n = to - from;
      if (n < 12 || n > 128) {
        return false;
      }
      boolean upper = false;
      boolean lower = false;
      boolean digit = false;
      boolean symbol = false;
      boolean referenceShape = true; // identifiers joined by '.', '_' or '-'
      for (int k = from; k < to; k++) {
        byte b = c[k];
        if (b <= ' ' || b == 0x7f) {
          return false;
        }
        if (isUpper(b)) {
          upper = true;
        } else if (isLower(b)) {
          lower = true;
        } else if (isDigit(b)) {
          digit = true;
        } else {
          symbol = true;
          referenceShape &= b == '.' || b == '_' || b == '-';
        }
      }
      int classes = (upper ? 1 : 0) + (lower ? 1 : 0) + (digit ? 1 : 0) + (symbol ? 1 : 0);
      if (classes < 3 || (referenceShape && !digit)) {
        return false;
      }
      byte first = c[from];
      if (first == '$' || first == '%' || first == '{' || first == '<' || first == '/' || first == '~' || first == '@'
          || first == '[' || first == '(' || first == '&' || first == '*') {
        return false;
      }
      String value = new String(c, from, n, StandardCharsets.UTF_8);
      String lowerValue = value.toLowerCase(java.util.Locale.ROOT);
      if (value.contains("${") || value.contains("{{") || value.contains("%(") || value.contains("://")
          || value.startsWith("./") || value.startsWith("../") || lowerValue.contains("process.env")
          || lowerValue.contains("environ") || lowerValue.contains("getenv")) {
        return false;
      }
      for (String w : PLACEHOLDER_WORDS) {
        if (lowerValue.contains(w)) {
          return false;
        }
      }
      return looksRandom(c, from, to) && entropy(c, from, to) >= Math.min(3.5, log2(n) - 0.3);
    }

    // ---- helpers ----

    private void add(String rule, String description, String masked, int secretFrom, int secretTo) {
      add(rule, description, masked, secretFrom, secretTo, secretFrom, secretTo);
    }

    /** A finding whose value (what a mask hides) is {@code [maskFrom, maskTo)}, fingerprinted by {@code [secretFrom, secretTo)}. */
    private void add(String rule, String description, String masked, int secretFrom, int secretTo, int maskFrom, int maskTo) {
      findings.add(new Finding(rule, lineOf(at), description, masked, fingerprint(c, secretFrom, secretTo)));
      spans.add(new Span(rule, maskFrom, maskTo));
    }

    private String mask(int from, int to) {
      int n = to - from;
      return "****" + new String(c, Math.max(from, to - 4), Math.min(4, n), StandardCharsets.UTF_8);
    }

    private boolean startsWith(int i, byte[] prefix) {
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

    private int indexOf(byte[] needle, int from, int to) {
      for (int i = from; i + needle.length <= to; i++) {
        if (c[i] == needle[0] && startsWith(i, needle)) {
          return i;
        }
      }
      return -1;
    }

    private boolean onSameLineBefore(int i, byte[] needle) {
      int from = i;
      while (from > 0 && c[from - 1] != '\n' && i - from < 256) {
        from--;
      }
      return indexOf(needle, from, i) >= 0;
    }

    /** The end of the run of bytes in the classes {@code mask} from {@code start} (at most {@value #MAX_TOKEN} + 1 long). */
    private int run(int start, int mask) {
      int k = start;
      int limit = Math.min(end, start + MAX_TOKEN + 1);
      while (k < limit && (CLASSES[c[k] & 0xff] & mask) != 0) {
        k++;
      }
      return k;
    }

    private int longestAlnumRun(int from, int to) {
      int best = 0;
      int current = 0;
      for (int k = from; k < to; k++) {
        current = isAlnum(c[k]) ? current + 1 : 0;
        best = Math.max(best, current);
      }
      return best;
    }

    private boolean hasUpperLowerDigit(int from, int to) {
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
    private boolean hasUpperAndLower(int from, int to) {
      boolean upper = false;
      boolean lower = false;
      for (int k = from; k < to; k++) {
        upper |= isUpper(c[k]);
        lower |= isLower(c[k]);
      }
      return upper && lower;
    }

    private static boolean isUpper(byte b) {
      return b >= 'A' && b <= 'Z';
    }

    private static boolean isLower(byte b) {
      return b >= 'a' && b <= 'z';
    }

    private static boolean isDigit(byte b) {
      return b >= '0' && b <= '9';
    }

    private static boolean isAlpha(byte b) {
      return isUpper(b) || isLower(b);
    }

    private static boolean isAlnum(byte b) {
      return isAlpha(b) || isDigit(b);
    }

    private static boolean isBase64(byte b) {
      return isAlnum(b) || b == '+' || b == '/' || b == '=';
    }
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

  private static double log2(double x) {
    return Math.log(x) / Math.log(2);
  }

  private static String fingerprint(byte[] c, int from, int to) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(c, from, to - from);
      return HexFormat.of().formatHex(sha.digest(), 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}
