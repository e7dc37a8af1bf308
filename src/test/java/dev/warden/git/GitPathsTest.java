package dev.warden.git;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Hostile names: whatever git, Windows or macOS would take for {@code .git} is git's; look-alikes are not. */
class GitPathsTest {

  @ParameterizedTest
  @ValueSource(strings = {
      ".git", ".GIT", ".Git", ".gIt",
      // NTFS drops trailing dots and spaces
      ".git.", ".git ", ".git..", ".git. ", ".GIT .",
      // the NTFS 8.3 short name, in any case, with NTFS's trailing dots too
      "git~1", "GIT~1", "Git~1", "git~1.", "git~1 ",
      // HFS+ ignores these code points
      ".g\u200cit", ".\u200dgit", ".gi\u200et", ".git\u200f", ".g\u202ait", ".g\u206ait", "\ufeff.git", ".g\u200bit",
      ".G\u200cIT",
      // both at once
      ".g\u200cit.",
  })
  void gitsNamesAndTheirAliasesAreGits(String name) {
    assertTrue(GitPaths.isGitName(name), name);
    assertTrue(GitPaths.isGitPath("sub/" + name + "/hooks/pre-commit"), name);
    assertEquals(name, GitPaths.gitSegment("a/b/" + name + "/config"));
  }

  @ParameterizedTest
  @ValueSource(strings = {
      ".gitignore", ".github", ".gitmodules", ".gitattributes", ".gitkeep", "git", "gi", ".gi", ".git~1", "git~2",
      "git~10", "my.git", "x.git", ".gitx", "_git", "git~1x", ".g it", "", ".", "..", "g.it", ".gît", "config",
      "aux", "con.txt", "a:b",
  })
  void lookAlikesAreNotGits(String name) {
    assertFalse(GitPaths.isGitName(name), name);
    assertNull(GitPaths.gitSegment("src/" + name + "/main.c"), name);
  }

  @Test
  void anySegmentOfAPathMakesItGits() {
    assertTrue(GitPaths.isGitPath(".git"));
    assertTrue(GitPaths.isGitPath(".Git/config"));
    assertTrue(GitPaths.isGitPath("sub/.git/hooks/x"));
    assertTrue(GitPaths.isGitPath("vendor/lib/GIT~1/HEAD"));
    assertFalse(GitPaths.isGitPath(".github/workflows/ci.yml"));
    assertFalse(GitPaths.isGitPath("src/.gitignore"));
    assertFalse(GitPaths.isGitPath("docs/git/intro.md"));
    assertEquals(".GIT", GitPaths.gitSegment("a/.GIT/b/.git/c"), "the first git segment is named");
  }

  @Test
  void pathsAreJudgedNameByName() {
    assertTrue(GitPaths.isGitName(Path.of("/work/tree/sub/.GIT")));
    assertFalse(GitPaths.isGitName(Path.of("/work/tree/.git/config")), "the file name is config");
    assertTrue(GitPaths.isGitPath(Path.of("sub/.git./objects")));
    assertTrue(GitPaths.isInsideGit(Path.of("sub/git~1/config")));
    assertFalse(GitPaths.isInsideGit(Path.of("sub/.git")), "the .git itself is not inside one");
    assertFalse(GitPaths.isInsideGit(Path.of(".github/workflows/ci.yml")));
    assertFalse(GitPaths.isGitName(Path.of("/")), "a root has no name");
  }

  @Test
  void aNameWithANulByteIsNeverTakenForGit() {
    assertFalse(GitPaths.isGitName(".git\0x"));
  }
}
