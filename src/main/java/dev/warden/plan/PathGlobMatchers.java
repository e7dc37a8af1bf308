package dev.warden.plan;

/**
 * The compiled form of a {@link PathGlob}: one matcher per path segment ({@code **}, any segment, a
 * literal, a suffix or prefix, or the general one-star-restart matcher over code points) and the
 * matcher of a path's segments against them. No regular expressions and no backtracking beyond the
 * classic one-star restart, so a hostile glob cannot make matching slow: this is why PathGlob keeps
 * its own matcher instead of JGit's ignore-rule matcher, whose segments with several wildcards are
 * java.util.regex patterns (docs/validation.md, "Globs").
 */
final class PathGlobMatchers {

  private PathGlobMatchers() {}

  /**
   * Greedy match with a restart at the last '**': correct because '**' matches any run of segments and
   * every other segment matches exactly one, so the leftmost placement of each block is never worse.
   * O(pattern × path) at worst.
   */
  static boolean matchSegments(Seg[] p, String[] t) {
    int pi = 0;
    int ti = 0;
    int starP = -1;
    int starT = 0;
    while (ti < t.length) {
      if (pi < p.length && p[pi] == DOUBLE_STAR) {
        starP = pi++;
        starT = ti;
      } else if (pi < p.length && p[pi].matches(t[ti])) {
        pi++;
        ti++;
      } else if (starP >= 0) {
        pi = starP + 1;
        ti = ++starT;
      } else {
        return false;
      }
    }
    while (pi < p.length && p[pi] == DOUBLE_STAR) {
      pi++;
    }
    return pi == p.length;
  }

  abstract static class Seg {
    abstract boolean matches(String segment);
  }

  /** "**": never asked to match one segment; the segment matcher treats it as a run. */
  static final Seg DOUBLE_STAR = new Seg() {
    @Override
    boolean matches(String segment) {
      throw new IllegalStateException("'**' matches runs of segments");
    }
  };

  static final Seg ANY_SEGMENT = new Seg() {
    @Override
    boolean matches(String segment) {
      return true;
    }
  };

  static final class Literal extends Seg {
    private final String text;

    Literal(String text) {
      this.text = text;
    }

    @Override
    boolean matches(String segment) {
      return segment.equals(text);
    }
  }

  static final class Suffix extends Seg {
    private final String suffix;

    Suffix(String suffix) {
      this.suffix = suffix;
    }

    @Override
    boolean matches(String segment) {
      return segment.endsWith(suffix);
    }
  }

  static final class Prefix extends Seg {
    private final String prefix;

    Prefix(String prefix) {
      this.prefix = prefix;
    }

    @Override
    boolean matches(String segment) {
      return segment.startsWith(prefix);
    }
  }

  /** The general case: the one-star-restart algorithm over code points. */
  static final class Wild extends Seg {
    private final Elem[] elems;

    Wild(Elem[] elems) {
      this.elems = elems;
    }

    @Override
    boolean matches(String s) {
      int pi = 0;
      int si = 0;
      int starP = -1;
      int starS = 0;
      while (si < s.length()) {
        int cp = s.codePointAt(si);
        if (pi < elems.length && elems[pi] instanceof Star) {
          starP = pi++;
          starS = si;
        } else if (pi < elems.length && elems[pi].matches(cp)) {
          pi++;
          si += Character.charCount(cp);
        } else if (starP >= 0) {
          pi = starP + 1;
          starS += Character.charCount(s.codePointAt(starS));
          si = starS;
        } else {
          return false;
        }
      }
      while (pi < elems.length && elems[pi] instanceof Star) {
        pi++;
      }
      return pi == elems.length;
    }
  }

  abstract static class Elem {
    abstract boolean matches(int cp);
  }

  static final class Star extends Elem {
    @Override
    boolean matches(int cp) {
      throw new IllegalStateException("'*' matches runs");
    }
  }

  static final Elem STAR = new Star();

  static final Elem ANY_CHAR = new Elem() {
    @Override
    boolean matches(int cp) {
      return true;
    }
  };

  static final class Lit extends Elem {
    final int cp;

    Lit(int cp) {
      this.cp = cp;
    }

    @Override
    boolean matches(int c) {
      return c == cp;
    }
  }

  static final class CharSet extends Elem {
    private final boolean negated;
    private final int[][] ranges;
    private final String[] classes;

    CharSet(boolean negated, int[][] ranges, String[] classes) {
      this.negated = negated;
      this.ranges = ranges;
      this.classes = classes;
    }

    @Override
    boolean matches(int c) {
      boolean in = false;
      for (int[] r : ranges) {
        if (c >= r[0] && c <= r[1]) {
          in = true;
          break;
        }
      }
      for (int k = 0; !in && k < classes.length; k++) {
        in = inClass(classes[k], c);
      }
      return in != negated;
    }

    private static boolean inClass(String name, int c) {
      return switch (name) {
        case "alnum" -> Character.isLetterOrDigit(c);
        case "alpha" -> Character.isLetter(c);
        case "blank" -> c == ' ' || c == '\t';
        case "cntrl" -> Character.isISOControl(c);
        case "digit" -> c >= '0' && c <= '9';
        case "graph" -> c > ' ' && c != 0x7f && !Character.isWhitespace(c) && !Character.isISOControl(c);
        case "lower" -> Character.isLowerCase(c);
        case "print" -> c >= ' ' && c != 0x7f && !Character.isISOControl(c);
        case "punct" -> c < 0x80 && c > ' ' && c != 0x7f && !Character.isLetterOrDigit(c);
        case "space" -> Character.isWhitespace(c);
        case "upper" -> Character.isUpperCase(c);
        case "xdigit" -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        default -> false;
      };
    }
  }
}
