package dev.warden.git;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warden.Rejection;
import dev.warden.testing.GitRepos;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hostile and innocent repository paths against allowed roots, with real directories and symlinks. */
class RepositoryGuardTest {

  @TempDir Path tmp;
  private Path allowed;
  private Path outside;
  private RepositoryGuard guard;

  @BeforeEach
  void layout() throws Exception {
    allowed = Files.createDirectories(tmp.resolve("allowed"));
    outside = Files.createDirectories(tmp.resolve("outside"));
    GitRepos.create(allowed.resolve("app"));
    GitRepos.create(outside.resolve("secret"));
    guard = new RepositoryGuard(List.of(allowed));
  }

  private Rejection rejected(String path) {
    Rejection rejection = assertThrows(Rejection.class, () -> guard.resolve(path));
    assertEquals(Rejection.Kind.INVALID, rejection.kind());
    assertEquals("repo", rejection.field().orElseThrow());
    return rejection;
  }

  @Test
  void acceptsARepositoryUnderAnAllowedRoot() throws Exception {
    SupervisedRepository repo = guard.resolve(allowed.resolve("app").toString());
    assertEquals(allowed.resolve("app").toRealPath(), repo.root());
    assertEquals(allowed.resolve("app/.git").toRealPath(), repo.gitDir());
  }

  @Test
  void acceptsABareRepository() throws Exception {
    Path bare = allowed.resolve("bare.git");
    GitRepos.git(allowed, "clone", "-q", "--bare", allowed.resolve("app").toString(), bare.toString());
    assertEquals(bare.toRealPath(), guard.resolve(bare.toString()).gitDir());
  }

  @Test
  void refusesARepositoryOutsideTheAllowedRoots() {
    assertTrue(rejected(outside.resolve("secret").toString()).getMessage().contains("outside the allowed roots"));
  }

  @Test
  void refusesDotDotThatEscapesTheRoots() {
    String escape = allowed + "/../outside/secret";
    assertTrue(rejected(escape).getMessage().contains("outside the allowed roots"));
  }

  @Test
  void refusesASymlinkInsideTheRootsThatPointsOutside() throws Exception {
    Path link = Files.createSymbolicLink(allowed.resolve("innocent"), outside.resolve("secret"));
    assertTrue(rejected(link.toString()).getMessage().contains("outside the allowed roots"));
  }

  @Test
  void refusesARelativePath() {
    assertTrue(rejected("allowed/app").getMessage().contains("absolute"));
  }

  @Test
  void refusesAPathThatDoesNotExist() {
    assertTrue(rejected(allowed.resolve("nope").toString()).getMessage().contains("does not exist"));
  }

  @Test
  void refusesADirectoryThatIsNotARepository() throws Exception {
    Path plain = Files.createDirectories(allowed.resolve("plain"));
    assertTrue(rejected(plain.toString()).getMessage().contains("not a git repository"));
  }

  @Test
  void refusesASubdirectoryOfARepositoryInsteadOfSearchingUpwards() throws Exception {
    Path sub = Files.createDirectories(allowed.resolve("app/src"));
    assertTrue(rejected(sub.toString()).getMessage().contains("not a git repository"));
  }

  @Test
  void refusesAFile() throws Exception {
    Path file = Files.writeString(allowed.resolve("file.txt"), "x");
    assertTrue(rejected(file.toString()).getMessage().contains("not a directory"));
  }

  @Test
  void refusesAPathWithANulByte() {
    rejected(allowed + "/app\0/x");
  }

  @Test
  void withoutAllowedRootsAnyLocalRepositoryIsAccepted() throws Exception {
    RepositoryGuard open = new RepositoryGuard(List.of());
    assertEquals(outside.resolve("secret").toRealPath(), open.resolve(outside.resolve("secret").toString()).root());
  }
}
