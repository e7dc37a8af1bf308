package dev.warden.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.eclipse.jgit.ignore.FastIgnoreRule;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PathGlobTest {

  @ParameterizedTest(name = "{0} ~ {1} -> {2}")
  @CsvSource(delimiter = '|', textBlock = """
      # everything
      **                 | a                       | true
      **                 | a/b/c.txt               | true
      /**                | a/b                     | true
      **/*               | a/b                     | true
      # no slash: the name at any depth, and what is below it
      *.java             | A.java                  | true
      *.java             | src/main/A.java         | true
      *.java             | src/A.javax             | false
      *.java             | x.java/notes.txt        | true
      build              | build                   | true
      build              | src/build/out.o         | true
      build              | builder/x               | false
      README.md          | docs/README.md          | true
      .env               | .env                    | true
      .env               | config/.env             | true
      .env               | .env.example            | false
      .env*              | .env.example            | true
      # a trailing slash: directories only
      build/             | build/x                 | true
      build/             | src/build/x             | true
      build/             | build                   | false
      # anchored by a leading or middle slash
      /README.md         | README.md               | true
      /README.md         | docs/README.md          | false
      src/*.java         | src/A.java              | true
      src/*.java         | lib/src/A.java          | false
      src/*.java         | src/a/B.java            | false
      docs/*             | docs/a.md               | true
      docs/*             | docs/a/b.md             | true
      docs/*             | docs                    | false
      src                | src/main/A.java         | true
      src/main           | src/main/A.java         | true
      src/main           | src/mainly/A.java       | false
      # **
      src/**             | src/a/b/c               | true
      src/**             | src                     | false
      src/**             | srcx/a                  | false
      **/test/**         | a/test/b                | true
      **/test/**         | test/b                  | true
      **/test/**         | a/test                  | false
      **/*.pem           | keys/a.pem              | true
      **/*.pem           | a.pem                   | true
      a/**/b             | a/b                     | true
      a/**/b             | a/x/y/b                 | true
      a/**/b             | a/x/y/bb                | false
      a/**/b/*.txt       | a/b/c.txt               | true
      a/**/b/*.txt       | a/q/b/c.txt             | true
      a**b               | axyb                    | true
      a**b               | ax/yb                   | false
      # ? and [...]
      ?.txt              | a.txt                   | true
      ?.txt              | ab.txt                  | false
      file[0-9].txt      | file7.txt               | true
      file[0-9].txt      | filex.txt               | false
      file[!0-9].txt     | filex.txt               | true
      file[^0-9].txt     | file7.txt               | false
      [[:upper:]]*.md    | README.md               | true
      [[:upper:]]*.md    | readme.md               | false
      x[]]y              | x]y                     | true
      x[!]]y             | xay                     | true
      x[!]]y             | x]y                     | false
      # escapes
      \\*.txt            | *.txt                   | true
      \\*.txt            | a.txt                   | false
      # case-sensitive
      *.JAVA             | A.java                  | false
      # the general matcher with several stars
      *a*b*c*            | xxaxxbxxcxx             | true
      *a*b*c*            | xxaxxcxxbxx             | false
      te?t-*-[0-9]*.log  | test-run-42.log         | true
      """)
  void matches(String glob, String path, boolean expected) {
    assertEquals(expected, PathGlob.compile(glob).matches(path), glob + " vs " + path);
    // the same line in a .gitignore means the same: git's own rule (JGit's) agrees on every row
    assertEquals(expected, new FastIgnoreRule(glob).isMatch(path, false, false), "JGit's ignore rule: " + glob + " vs " + path);
  }

  @Test
  void aTrailingSlashGlobMatchesADirectoryPathItself() {
    assertTrue(PathGlob.compile("vendor/").matches("vendor", true));
    assertTrue(!PathGlob.compile("vendor/").matches("vendor", false));
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
      ""                 | empty
      "   "              | empty
      " src/**"          | leading or trailing whitespace
      "src/** "          | leading or trailing whitespace
      !secret            | negation
      /                  | '/' alone names the worktree root
      a//b               | empty path segment ('//') at position 3
      //a                | empty path segment ('//') at position 2
      ../x               | '..' segment at position 1: globs are relative to the worktree and cannot leave it
      a/../b             | '..' segment at position 3
      ./a                | '.' segment at position 1
      src/[a-z           | unclosed '[' at position 5
      [abc               | unclosed '[' at position 1
      x[/]y              | '/' inside '[...]' at position 3
      [z-a]              | reversed range 'z-a' at position 2
      [[:word:]]         | unknown character class '[:word:]' at position 2
      abc\\              | a trailing '\\' at position 4 escapes nothing
      a\\/b              | '\\/' at position 2
      ~/src/**           | starts with '~'
      C:/src             | starts with the drive 'C:'
      """)
  void rejects(String glob, String message) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PathGlob.compile(glob));
    assertTrue(e.getMessage().contains(message), e.getMessage());
    assertTrue(e.getMessage().startsWith("glob '"), e.getMessage());
  }

  @Test
  void rejectsNullTooLongAndControlCharacters() {
    assertThrows(IllegalArgumentException.class, () -> PathGlob.compile(null));
    assertThrows(IllegalArgumentException.class, () -> PathGlob.compile("a".repeat(PathGlob.MAX_LENGTH + 1)));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PathGlob.compile("a\nb"));
    assertTrue(e.getMessage().contains("control character U+000A at position 2"), e.getMessage());
  }

  @Test
  void escapedTrailingSpaceIsAName() {
    assertTrue(PathGlob.compile("odd\\ ").matches("odd "));
  }

  @Test
  void problemsNamesEachBadGlobByIndex() {
    assertEquals(List.of(), PathGlob.problems(List.of("src/**", "*.md")));
    List<String> problems = PathGlob.problems(List.of("src/**", "src/[a", "", "../x"));
    assertEquals(3, problems.size(), problems.toString());
    assertTrue(problems.get(0).startsWith("[1] glob 'src/[a': unclosed '['"), problems.get(0));
    assertTrue(problems.get(1).startsWith("[2] glob '': empty"), problems.get(1));
    assertTrue(problems.get(2).startsWith("[3] glob '../x': '..' segment"), problems.get(2));
  }

  @Test
  void anchoredCompilationIsForPlannedFiles() {
    PathGlob planned = PathGlob.compile("README.md", true);
    assertTrue(planned.matches("README.md"));
    assertTrue(!planned.matches("docs/README.md"));
  }

  @Test
  void hostileGlobsStayFast() {
    PathGlob g = PathGlob.compile("*a*a*a*a*a*a*a*a*a*a*b");
    PathGlob deep = PathGlob.compile("**/a/**/a/**/a/**/a/**/b");
    String name = "a".repeat(4000);
    String path = String.join("/", java.util.Collections.nCopies(500, "a"));
    long start = System.nanoTime();
    for (int i = 0; i < 100; i++) {
      assertTrue(!g.matches(name));
      assertTrue(!deep.matches(path));
    }
    long ms = (System.nanoTime() - start) / 1_000_000;
    assertTrue(ms < 2_000, "100 hostile matches took " + ms + " ms");
  }
}
