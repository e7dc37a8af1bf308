package dev.warden.plan;

import static dev.warden.plan.PathGlobMatchers.*;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A git-style path glob compiled into a matcher: the plan's allowed, forbidden and planned paths.
 * Immutable and thread-safe; compile once, match many times (no regex, no backtracking beyond the
 * classic one-star restart, so a hostile glob cannot make matching slow).
 *
 * <p>Paths are worktree-relative and {@code /}-separated without a leading {@code /}, as git stores
 * them ({@code src/main/A.java}). The semantics are those of {@code .gitignore}, applied to files:
 * <ul>
 *   <li>Matching is per path segment and case-sensitive. {@code *} matches any run of characters
 *       inside one segment (never {@code /}), {@code ?} one character, {@code [...]} one character of a
 *       set: ranges {@code a-z}, negation {@code [!...]} or {@code [^...]}, POSIX classes
 *       {@code [[:alpha:]]}; a {@code ]} right after the opening (or after the negation) is literal.
 *       A backslash makes the next character literal ({@code \*}, {@code \[}).
 *   <li>A segment that is exactly {@code **} matches zero or more whole segments: {@code **}/x is x at
 *       any depth, {@code a/**}/b is b anywhere below a. {@code **} inside a segment ({@code a**b})
 *       is an ordinary {@code *}, as in git.
 *   <li>A glob with no {@code /} (a trailing one aside) matches a file or directory of that name at
 *       any depth: {@code *.log} matches {@code a.log} and {@code x/y/a.log}; {@code build} matches
 *       {@code build} and {@code src/build/out.o}.
 *   <li>A glob with a {@code /} at the start or in the middle is anchored at the worktree root:
 *       {@code src/*.java} matches {@code src/A.java} but not {@code lib/src/A.java};
 *       {@code /README.md} only the top-level README. The leading {@code /} is only an anchor.
 *   <li>A glob that matches a directory matches everything below it: {@code docs/*} covers
 *       {@code docs/a/b.md} (because it matches the directory {@code docs/a}); so does {@code *.d}
 *       for {@code conf.d/x}.
 *   <li>A trailing {@code /} matches directories only: {@code build/} covers {@code build/x} and
 *       {@code src/build/x}, not a file named {@code build}. A trailing {@code /**} is the same as a
 *       trailing {@code /}: everything inside, not the name itself.
 * </ul>
 * Rejected by {@link #compile} with a message naming the problem and its position: null, empty or
 * blank globs, leading or trailing whitespace, control characters, a leading {@code !} (negation is
 * not supported: list the path under forbidden paths), the bare anchor {@code /}, empty segments
 * ({@code a//b}), {@code .} and {@code ..} segments, a first segment {@code ~} or a drive
 * ({@code C:}), an unclosed {@code [}, a {@code /} inside {@code [...]}, a reversed range, an unknown
 * {@code [:class:]}, a trailing lone backslash, and globs longer than {@value #MAX_LENGTH} characters.
 */
public final class PathGlob {

  public static final int MAX_LENGTH = 4096;

  private final String glob;
  /** Segments to match a file path against (including the leading "any depth" and the "below" tail). */
  private final Seg[] forFile;
  /** The same for a directory path (a gitlink): a trailing-slash glob may match the path itself. */
  private final Seg[] forDirectory;
  private final boolean matchesEverything;

  private PathGlob(String glob, Seg[] forFile, Seg[] forDirectory) {
    this.glob = glob;
    this.forFile = forFile;
    this.forDirectory = forDirectory;
    this.matchesEverything = forFile.length == 1 && forFile[0] == DOUBLE_STAR;
  }

  /** Compiles {@code glob}; throws {@link IllegalArgumentException} saying what is wrong and where. */
  public static PathGlob compile(String glob) {
    return compile(glob, false);
  }

  /**
   * The problems of a list of globs, one message per bad glob prefixed by its index ({@code [2] glob
   * 'src/[a': unclosed '[' at position 5}); empty when all compile. For validation at the edge:
   * {@code Rejection.invalid("plan.allowedPaths", String.join("; ", problems))}.
   */
  public static List<String> problems(List<String> globs) {
    List<String> out = new ArrayList<>();
    if (globs == null) {
      out.add("the list of globs is null");
      return out;
    }
    for (int i = 0; i < globs.size(); i++) {
      try {
        compile(globs.get(i));
      } catch (IllegalArgumentException e) {
        out.add("[" + i + "] " + e.getMessage());
      }
    }
    return out;
  }

  /** The glob as written. */
  public String glob() {
    return glob;
  }

  /** Whether the file at {@code path} (worktree-relative, '/'-separated) matches. */
  public boolean matches(String path) {
    return matches(path, false);
  }

  /** Whether {@code path} matches; {@code directory}: the path names a directory (e.g. a submodule). */
  public boolean matches(String path, boolean directory) {
    if (matchesEverything) {
      return true;
    }
    String[] segments = path.split("/", -1);
    return matches(segments, directory);
  }

  /** For callers that split a path once and match it against many globs. */
  public boolean matches(String[] segments, boolean directory) {
    return matchesEverything || matchSegments(directory ? forDirectory : forFile, segments);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PathGlob other && other.glob.equals(glob);
  }

  @Override
  public int hashCode() {
    return glob.hashCode();
  }

  @Override
  public String toString() {
    return glob;
  }

  // ================================================================== compiling

  /** anchored: compile as if the glob started with '/' (planned files name paths from the root). */
  public static PathGlob compile(String glob, boolean anchored) {
    if (glob == null) {
      throw new IllegalArgumentException("glob is null");
    }
    String quoted = "glob '" + printable(glob) + "': ";
    if (glob.isEmpty() || glob.isBlank()) {
      throw new IllegalArgumentException(quoted + "empty");
    }
    if (glob.length() > MAX_LENGTH) {
      throw new IllegalArgumentException(quoted + "longer than " + MAX_LENGTH + " characters");
    }
    for (int i = 0; i < glob.length(); i++) {
      char c = glob.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        throw new IllegalArgumentException(quoted + String.format(Locale.ROOT, "control character U+%04X at position %d", (int) c, i + 1));
      }
    }
    if (Character.isWhitespace(glob.charAt(0))
        || (Character.isWhitespace(glob.charAt(glob.length() - 1)) && !escapedAt(glob, glob.length() - 1))) {
      throw new IllegalArgumentException(quoted + "leading or trailing whitespace (escape a space that is part of a name with '\\')");
    }
    if (glob.charAt(0) == '!') {
      throw new IllegalArgumentException(quoted + "a leading '!' (negation) is not supported: list the path under forbidden paths"
          + " instead (write '\\!' for a name that starts with '!')");
    }
    if (glob.equals("/")) {
      throw new IllegalArgumentException(quoted + "'/' alone names the worktree root: use '**' to match everything");
    }
    String body = glob;
    int offset = 0;
    boolean leadingSlash = body.startsWith("/");
    if (leadingSlash) {
      body = body.substring(1);
      offset = 1;
    }
    boolean dirOnly = body.endsWith("/") && !escapedAt(body, body.length() - 1);
    if (dirOnly) {
      body = body.substring(0, body.length() - 1);
    }
    List<String> raw = splitSegments(body, offset, quoted);
    String first = raw.get(0);
    if (first.equals("~")) {
      throw new IllegalArgumentException(quoted + "starts with '~': globs are relative to the worktree root, not a home directory");
    }
    if (first.length() == 2 && first.charAt(1) == ':' && Character.isLetter(first.charAt(0))) {
      throw new IllegalArgumentException(quoted + "starts with the drive '" + first + "': globs are relative to the worktree root");
    }
    List<Seg> segs = new ArrayList<>();
    int position = offset;
    for (String s : raw) {
      Seg seg = s.equals("**") ? DOUBLE_STAR : segment(s, position, quoted);
      if (!(seg == DOUBLE_STAR && !segs.isEmpty() && segs.get(segs.size() - 1) == DOUBLE_STAR)) {
        segs.add(seg);
      }
      position += s.length() + 1;
    }
    // "a/**" is "a/": everything inside a, not a file named a
    if (segs.size() > 1 && segs.get(segs.size() - 1) == DOUBLE_STAR) {
      segs.remove(segs.size() - 1);
      dirOnly = true;
    }
    boolean rooted = anchored || leadingSlash || raw.size() > 1;
    List<Seg> head = new ArrayList<>();
    if (!rooted && segs.get(0) != DOUBLE_STAR) {
      head.add(DOUBLE_STAR);
    }
    head.addAll(segs);
    Seg[] forFile = withTail(head, dirOnly ? new Seg[] {ANY_SEGMENT, DOUBLE_STAR} : new Seg[] {DOUBLE_STAR});
    Seg[] forDirectory = withTail(head, new Seg[] {DOUBLE_STAR});
    return new PathGlob(glob, forFile, forDirectory);
  }

  private static Seg[] withTail(List<Seg> head, Seg[] tail) {
    List<Seg> all = new ArrayList<>(head);
    for (Seg t : tail) {
      if (!(t == DOUBLE_STAR && all.get(all.size() - 1) == DOUBLE_STAR)) {
        all.add(t);
      }
    }
    return all.toArray(new Seg[0]);
  }

  private static boolean escapedAt(String s, int index) {
    int backslashes = 0;
    for (int i = index - 1; i >= 0 && s.charAt(i) == '\\'; i--) {
      backslashes++;
    }
    return backslashes % 2 == 1;
  }

  /** Splits on unescaped '/' outside brackets; rejects empty, '.' and '..' segments. */
  private static List<String> splitSegments(String body, int offset, String quoted) {
    List<String> out = new ArrayList<>();
    int start = 0;
    int i = 0;
    while (i <= body.length()) {
      if (i == body.length() || body.charAt(i) == '/') {
        String s = body.substring(start, i);
        int position = offset + start + 1;
        if (s.isEmpty()) {
          throw new IllegalArgumentException(quoted + "empty path segment ('//') at position " + position);
        }
        if (s.equals(".") || s.equals("..")) {
          throw new IllegalArgumentException(quoted + "'" + s + "' segment at position " + position
              + (s.equals("..") ? ": globs are relative to the worktree and cannot leave it" : ": write the path without it"));
        }
        out.add(s);
        start = i + 1;
        i++;
      } else if (body.charAt(i) == '\\') {
        i = Math.min(i + 2, body.length()); // a trailing lone '\\' is reported by segment()
      } else if (body.charAt(i) == '[') {
        int end = bracketEnd(body, i);
        if (end < 0) {
          i++; // unclosed: the segment parser says so, with its position
        } else {
          for (int k = i + 1; k < end; k++) {
            if (body.charAt(k) == '/' && !escapedAt(body, k)) {
              throw new IllegalArgumentException(quoted + "'/' inside '[...]' at position " + (offset + k + 1)
                  + " can never match: '[...]' matches one character of a name");
            }
          }
          i = end;
        }
      } else {
        i++;
      }
    }
    return out;
  }

  /** The index after the ']' closing the bracket expression that opens at s[i], or -1 when unclosed. */
  private static int bracketEnd(String s, int i) {
    int j = i + 1;
    if (j < s.length() && (s.charAt(j) == '!' || s.charAt(j) == '^')) {
      j++;
    }
    if (j < s.length() && s.charAt(j) == ']') {
      j++;
    }
    while (j < s.length()) {
      char c = s.charAt(j);
      if (c == ']') {
        return j + 1;
      } else if (c == '\\') {
        j += 2;
      } else if (c == '[' && j + 1 < s.length() && s.charAt(j + 1) == ':') {
        int close = s.indexOf(":]", j + 2);
        j = close < 0 ? j + 1 : close + 2;
      } else {
        j++;
      }
    }
    return -1;
  }

  /** One segment (no '/'), as the fastest matcher that fits. */
  private static Seg segment(String s, int position, String quoted) {
    List<Elem> elems = new ArrayList<>();
    boolean special = false;
    StringBuilder literal = new StringBuilder();
    int i = 0;
    while (i < s.length()) {
      char c = s.charAt(i);
      int at = position + i + 1;
      switch (c) {
        case '\\' -> {
          if (i + 1 >= s.length()) {
            throw new IllegalArgumentException(quoted + "a trailing '\\' at position " + at + " escapes nothing");
          }
          int cp = s.codePointAt(i + 1);
          if (cp == '/') {
            throw new IllegalArgumentException(quoted + "'\\/' at position " + at + ": a name never contains '/'");
          }
          elems.add(new Lit(cp));
          literal.appendCodePoint(cp);
          i += 1 + Character.charCount(cp);
        }
        case '*' -> {
          special = true;
          if (elems.isEmpty() || !(elems.get(elems.size() - 1) instanceof Star)) {
            elems.add(STAR); // "a**b" is "a*b"
          }
          i++;
        }
        case '?' -> {
          special = true;
          elems.add(ANY_CHAR);
          i++;
        }
        case '[' -> {
          special = true;
          i = charClass(s, i, at, quoted, elems);
        }
        default -> {
          int cp = s.codePointAt(i);
          elems.add(new Lit(cp));
          literal.appendCodePoint(cp);
          i += Character.charCount(cp);
        }
      }
    }
    if (!special) {
      return new Literal(literal.toString());
    }
    if (elems.size() == 1 && elems.get(0) instanceof Star) {
      return ANY_SEGMENT;
    }
    // "*.java" and "Makefile*": the common shapes, without the general matcher
    boolean restLiteral = true;
    for (int k = 1; k < elems.size(); k++) {
      restLiteral &= elems.get(k) instanceof Lit;
    }
    if (elems.get(0) instanceof Star && restLiteral) {
      return new Suffix(literalOf(elems.subList(1, elems.size())));
    }
    boolean headLiteral = true;
    for (int k = 0; k < elems.size() - 1; k++) {
      headLiteral &= elems.get(k) instanceof Lit;
    }
    if (elems.get(elems.size() - 1) instanceof Star && headLiteral) {
      return new Prefix(literalOf(elems.subList(0, elems.size() - 1)));
    }
    return new Wild(elems.toArray(new Elem[0]));
  }

  private static String literalOf(List<Elem> elems) {
    StringBuilder b = new StringBuilder();
    for (Elem e : elems) {
      b.appendCodePoint(((Lit) e).cp);
    }
    return b.toString();
  }

  private static final String[] POSIX_CLASSES = {"alnum", "alpha", "blank", "cntrl", "digit", "graph", "lower", "print",
      "punct", "space", "upper", "xdigit"};

  /** Parses "[...]" starting at s[i] == '['; returns the index after the closing ']'. */
  private static int charClass(String s, int i, int at, String quoted, List<Elem> elems) {
    int j = i + 1;
    boolean negated = false;
    if (j < s.length() && (s.charAt(j) == '!' || s.charAt(j) == '^')) {
      negated = true;
      j++;
    }
    List<int[]> ranges = new ArrayList<>();
    List<String> classes = new ArrayList<>();
    boolean first = true;
    while (true) {
      if (j >= s.length()) {
        throw new IllegalArgumentException(quoted + "unclosed '[' at position " + at);
      }
      char c = s.charAt(j);
      if (c == ']' && !first) {
        j++;
        break;
      }
      first = false;
      if (c == '[' && j + 1 < s.length() && s.charAt(j + 1) == ':') {
        int close = s.indexOf(":]", j + 2);
        if (close < 0) {
          throw new IllegalArgumentException(quoted + "unclosed '[:' at position " + (at + j - i));
        }
        String name = s.substring(j + 2, close);
        if (!List.of(POSIX_CLASSES).contains(name)) {
          throw new IllegalArgumentException(quoted + "unknown character class '[:" + name + ":]' at position " + (at + j - i));
        }
        classes.add(name);
        j = close + 2;
        continue;
      }
      int loStart = j;
      int lo;
      if (c == '\\') {
        if (j + 1 >= s.length()) {
          throw new IllegalArgumentException(quoted + "unclosed '[' at position " + at);
        }
        lo = s.codePointAt(j + 1);
        j += 1 + Character.charCount(lo);
      } else {
        lo = s.codePointAt(j);
        j += Character.charCount(lo);
      }
      int hi = lo;
      if (j + 1 < s.length() && s.charAt(j) == '-' && s.charAt(j + 1) != ']') {
        int k = j + 1;
        if (s.charAt(k) == '\\') {
          if (k + 1 >= s.length()) {
            throw new IllegalArgumentException(quoted + "unclosed '[' at position " + at);
          }
          k++;
        }
        hi = s.codePointAt(k);
        j = k + Character.charCount(hi);
        if (hi < lo) {
          throw new IllegalArgumentException(quoted + "reversed range '" + new String(Character.toChars(lo)) + "-"
              + new String(Character.toChars(hi)) + "' at position " + (at + loStart - i));
        }
      }
      ranges.add(new int[] {lo, hi});
    }
    elems.add(new CharSet(negated, ranges.toArray(new int[0][]), classes.toArray(new String[0])));
    return j;
  }

  private static String printable(String s) {
    StringBuilder b = new StringBuilder(Math.min(s.length(), 200));
    for (int i = 0; i < s.length() && b.length() < 200; i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
      } else {
        b.append(c);
      }
    }
    return s.length() > 200 ? b + "..." : b.toString();
  }
}
