package dev.warden.secrets;

import static dev.warden.secrets.SecretScanner.entropy;
import static dev.warden.secrets.SecretScanner.log2;
import static dev.warden.secrets.SecretScanner.looksRandom;

import java.nio.charset.StandardCharsets;

/**
 * The detector of labelled assignments, run by a {@link SecretPass} at every {@code =} and {@code :}:
 * {@code aws-secret-access-key} (40 characters after an AWS secret label) and {@code generic-secret}
 * (a quoted, random-looking value assigned to a name ending in password, secret, api key, access/auth
 * token...; unquoted only where the name starts its line). Findings go to the pass.
 */
final class SecretAssignment extends SecretBytes {

  private static final int MAX_LABEL = 64;
  private static final byte[] EXPORT = SecretScanner.ascii("export");
  /** Values starting so belong to a specific detector, not to generic-secret. */
  private static final byte[][] VENDOR_PREFIXES = prefixes("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-",
      "xoxa-", "xoxb-", "xoxp-", "xoxr-", "xoxs-", "sk-", "sk_live_", "rk_live_", "AKIA", "ASIA", "-----BEGIN ");
  /** Label endings (lower case, '_' and '-' removed) that make a quoted value a candidate secret. */
  private static final String[] SECRET_NAMES = {"password", "passwd", "secret", "secretkey", "clientsecret", "apikey",
      "apisecret", "accesstoken", "authtoken", "apitoken", "privatetoken"};
  /** Words that mark a value as a placeholder or an example, not a secret. */
  private static final String[] PLACEHOLDER_WORDS = {"example", "changeme", "change_me", "password", "passwd", "secret",
      "xxxx", "your", "dummy", "sample", "placeholder", "redacted", "****", "test", "fake", "todo", "replace", "insert",
      "default", "null", "none", "undefined", "foobar", "lorem"};

  private final SecretPass pass;
  /** The current assignment's normalized name (see normalizedName). */
  private final byte[] name = new byte[MAX_LABEL + 1];

  SecretAssignment(SecretPass pass) {
    super(pass.c, pass.end);
    this.pass = pass;
  }

  private static byte[][] prefixes(String... all) {
    byte[][] out = new byte[all.length][];
    for (int k = 0; k < all.length; k++) {
      out[k] = SecretScanner.ascii(all[k]);
    }
    return out;
  }

  // ---- labelled assignments: AWS secret keys and generic secrets ----

  /** At '=' or ':': the name before it and the value after it. */
  int assignment(int i) {
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
        pass.add("aws-secret-access-key", "AWS secret access key", mask(valueStart, valueEnd), valueStart, valueEnd);
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
    pass.add("generic-secret", "random-looking value assigned to '" + new String(c, nameStart, nameEnd - nameStart,
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
}
