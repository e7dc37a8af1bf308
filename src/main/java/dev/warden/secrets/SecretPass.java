package dev.warden.secrets;

import static dev.warden.secrets.SecretScanner.fingerprint;
import static dev.warden.secrets.SecretScanner.looksRandom;

import dev.warden.secrets.SecretScanner.Finding;
import dev.warden.secrets.SecretScanner.Span;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * One pass of the {@link SecretScanner} over bytes: each byte pair that can start a secret triggers
 * the detector for it (PEM private key blocks, AWS key ids, GitHub, GitLab, Slack, Stripe, Anthropic
 * and OpenAI tokens here; labelled assignments in {@link SecretAssignment}), which looks a bounded
 * distance ahead or back. O(size) whatever the content holds. Not thread-safe: one pass, one thread.
 */
final class SecretPass extends SecretBytes {

  private static final int PEM_LOOKAHEAD = 1024;
  private static final int PEM_BODY_MIN = 40;
  private static final byte[] PEM_BEGIN = SecretScanner.ascii("-----BEGIN ");
  private static final byte[] PEM_END = SecretScanner.ascii("-----END ");
  private static final byte[] DASHES = SecretScanner.ascii("-----");
  private static final byte[] GITHUB_PAT = SecretScanner.ascii("github_pat_");
  private static final byte[] GLPAT = SecretScanner.ascii("glpat-");
  private static final byte[] SK_LIVE = SecretScanner.ascii("sk_live_");
  private static final byte[] RK_LIVE = SecretScanner.ascii("rk_live_");
  private static final byte[] SK_ANT = SecretScanner.ascii("sk-ant-");
  private static final byte[] PRIVATE_KEY_JSON = SecretScanner.ascii("\"private_key\"");

  /**
   * The byte pairs (first &lt;&lt; 8 | second) where the pass calls a detector: the starts of what they
   * look for ("--", "AK", "AS", "gh", "gi", "gl", "xo", "sk", "rk") and every '=' or ':'.
   */
  private static final boolean[] TRIGGER = new boolean[1 << 16];

  static {
    for (String pair : new String[] {"--", "AK", "AS", "gh", "gi", "gl", "xo", "sk", "rk"}) {
      TRIGGER[pair.charAt(0) << 8 | pair.charAt(1)] = true;
    }
    for (int next = 0; next < 256; next++) {
      TRIGGER['=' << 8 | next] = true;
      TRIGGER[':' << 8 | next] = true;
    }
  }

  final List<Finding> findings = new ArrayList<>(0);
  final List<Span> spans = new ArrayList<>(0);
  private final SecretAssignment assignments;
  private int line = 1;
  private int lineCountedTo;
  /** Where the current detector was triggered: its finding is reported on that line. */
  private int at;
  /** Bytes before this index belong to a finding already made: no trigger fires inside them. */
  private int quietUntil;

  SecretPass(byte[] c, int end) {
    super(c, end);
    this.assignments = new SecretAssignment(this);
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
        default -> assignments.assignment(i);
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

  // ---- findings ----

  void add(String rule, String description, String masked, int secretFrom, int secretTo) {
    add(rule, description, masked, secretFrom, secretTo, secretFrom, secretTo);
  }

  /** A finding whose value (what a mask hides) is {@code [maskFrom, maskTo)}, fingerprinted by {@code [secretFrom, secretTo)}. */
  void add(String rule, String description, String masked, int secretFrom, int secretTo, int maskFrom, int maskTo) {
    findings.add(new Finding(rule, lineOf(at), description, masked, fingerprint(c, secretFrom, secretTo)));
    spans.add(new Span(rule, maskFrom, maskTo));
  }
}
