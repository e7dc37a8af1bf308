package dev.warden.validate;

import static dev.warden.testing.GitRepos.git;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warden.plan.Plan;
import dev.warden.testing.GitRepos;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Random;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a patch would write, read from real {@code git diff --binary} output before anything applies
 * it: binary literals and deltas by their declared sizes (a few hundred bytes of diff may declare
 * megabytes), text by its lines, and the verdicts against the plan's limits and the checkpoint cap.
 */
class PatchSizesTest {

  @TempDir Path tmp;
  private Path repo;
  private ObjectId tree;

  @BeforeEach
  void setUp() throws IOException {
    repo = GitRepos.create(tmp.resolve("repo"));
    byte[] random = new byte[3000];
    new Random(3).nextBytes(random);
    Files.write(repo.resolve("photo.bin"), random);
    git(repo, "add", "-A");
    git(repo, "-c", "user.email=t@example.com", "-c", "user.name=Test", "commit", "-q", "-m", "photo");
    tree = ObjectId.fromString(git(repo, "rev-parse", "HEAD^{tree}"));
  }

  @Test
  void binaryLiteralsAndDeltasCountTheirDeclaredSizesAndTextItsLines() throws IOException {
    try (RandomAccessFile zeros = new RandomAccessFile(repo.resolve("zeros.bin").toFile(), "rw")) {
      zeros.setLength(2L << 20);
    }
    byte[] more = new byte[100];
    new Random(4).nextBytes(more);
    Files.write(repo.resolve("photo.bin"), more, java.nio.file.StandardOpenOption.APPEND);
    Files.writeString(repo.resolve("a.txt"), "hello\nworld\n");
    git(repo, "add", "-A");
    String diff = git(repo, "diff", "--cached", "--binary") + "\n";
    assertTrue(diff.contains("delta ") && diff.contains("literal 2097152"), diff);
    assertTrue(diff.length() < 64 * 1024, "2 MiB of zeros is a small diff: " + diff.length());

    PatchSizes.Estimate e = estimate(diff);

    assertEquals(List.of(new PatchSizes.FileSize("a.txt", 12, 6), new PatchSizes.FileSize("photo.bin", 3100, 100),
        new PatchSizes.FileSize("zeros.bin", 2L << 20, 2L << 20)), e.files());
    assertEquals(List.of(), e.unsized());
    assertEquals(6 + 100 + (2L << 20), e.growth());
  }

  @Test
  void theSmallerOfThePlansLimitAndTheCheckpointCapSpeaksAndTheQuotaCountsWhatIsAlreadyThere() {
    PatchSizes.Estimate e = new PatchSizes.Estimate(List.of(new PatchSizes.FileSize("big.bin", 5000, 5000),
        new PatchSizes.FileSize("small.txt", 10, 10)), List.of());

    assertEquals(List.of("max-file-bytes big.bin error"), summary(PatchSizes.judge(e, plan(Optional.of(1000L), 1L << 30),
        2000, OptionalLong.of(0))));
    List<Violation> capped = PatchSizes.judge(e, plan(Optional.empty(), 1L << 30), 2000, OptionalLong.of(0));
    assertEquals(List.of("file-too-large big.bin error"), summary(capped));
    assertTrue(capped.get(0).message().contains("warden.checkpoint.max-file-bytes"), capped.toString());
    List<Violation> quota = PatchSizes.judge(e, plan(Optional.empty(), 10_000), Long.MAX_VALUE, OptionalLong.of(6000));
    assertEquals(List.of("disk-quota . error"), summary(quota));
    assertTrue(quota.get(0).message().contains("add up to 5010 bytes ('big.bin': 5000) to a worktree holding 6000 bytes"),
        quota.toString());
    assertEquals(List.of(), PatchSizes.judge(e, plan(Optional.empty(), 20_000), Long.MAX_VALUE, OptionalLong.of(6000)));
  }

  @Test
  void aBinaryHunkWhoseSizeCannotBeReadIsRefusedNotGuessed() throws IOException {
    String broken = "diff --git a/photo.bin b/photo.bin\nindex " + "1".repeat(40) + ".." + "2".repeat(40) + " 100644\n"
        + "GIT binary patch\ndelta 50\nzcmV-y0F(c?7n~TdxC><\n\nliteral 0\nHcmV?d00001\n\n";
    PatchSizes.Estimate e = estimate(broken);
    assertEquals(List.of("photo.bin"), e.unsized());
    assertEquals(List.of("file-too-large photo.bin error"),
        summary(PatchSizes.judge(e, plan(Optional.empty(), 1L << 30), Long.MAX_VALUE, OptionalLong.of(0))));

    // a binary hunk the parser cannot tie to a file is not waved through either
    PatchSizes.Estimate orphan = estimate("garbage\nGIT binary patch\nliteral 104857600\nzcmeIuF#!Mo0K%a4Pi+Wah(KY$\n\n");
    assertEquals(1, orphan.unsized().size(), orphan.toString());
  }

  private PatchSizes.Estimate estimate(String diff) throws IOException {
    try (Repository r = new FileRepositoryBuilder().setGitDir(repo.resolve(".git").toFile()).setMustExist(true).build();
        ObjectReader reader = r.newObjectReader()) {
      return PatchSizes.estimate(diff, reader, tree);
    }
  }

  private static Plan plan(Optional<Long> maxFileBytes, long quota) {
    return new Plan(1, List.of("**"), List.of(), Optional.empty(),
        new Plan.Limits(Plan.DEFAULT_MAX_CHANGED_LINES, Optional.empty(), maxFileBytes, quota), List.of(), Optional.empty());
  }

  private static List<String> summary(List<Violation> violations) {
    return violations.stream().map(v -> v.rule() + " " + v.path() + " " + v.severity().label()).toList();
  }
}
