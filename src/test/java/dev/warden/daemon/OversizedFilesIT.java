package dev.warden.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import dev.warden.testing.GitRepos;
import dev.warden.testing.RunningDaemon;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Oversized files against the real daemon, as an operator sees them through the API: a sparse 2 GiB
 * file is left out of its checkpoint (listed in {@code skippedFiles}, verdict {@code invalid} with
 * {@code file-too-large}), and a 100 MB binary patch over the plan's disk quota is refused with 422
 * naming the rule and the path while the worktree stays byte for byte as it was.
 */
class OversizedFilesIT {

  @TempDir Path tmp;

  @Test
  void aSparseFileIsLeftOutOfItsCheckpointAndAPatchOverTheQuotaNeverReachesTheWorktree() throws Exception {
    Path repos = Files.createDirectories(tmp.resolve("repos"));
    Config config = RunningDaemon.config(tmp.resolve("data"), "", "", "", List.of(repos), true);
    String sparse = "s-" + UUID.randomUUID().toString().substring(0, 8);
    String patched = "q-" + UUID.randomUUID().toString().substring(0, 8);
    try (RunningDaemon daemon = RunningDaemon.start(config).awaitReady()) {
      // a quota above the file's size, so only the size cap speaks
      Path worktree = Path.of(create(daemon, GitRepos.create(repos.resolve(sparse)), sparse, "{\"limits\":{\"diskQuotaBytes\":8589934592}}"));
      try (RandomAccessFile huge = new RandomAccessFile(worktree.resolve("huge.img").toFile(), "rw")) {
        huge.setLength(2L << 30);
      }
      Files.writeString(worktree.resolve("notes.txt"), "beside it\n");

      RunningDaemon.Response taken = daemon.post("/api/v1/features/" + sparse + "/checkpoint", RunningDaemon.AGENT, "");
      assertEquals(201, taken.status(), taken.body());
      JsonNode checkpoint = taken.json();
      JsonNode skipped = checkpoint.get("skippedFiles");
      assertEquals(1, skipped.size(), checkpoint.toString());
      assertEquals("huge.img", skipped.get(0).get("path").asText());
      assertEquals(2L << 30, skipped.get(0).get("bytes").asLong());
      assertEquals(100L << 20, skipped.get(0).get("limitBytes").asLong(), "the default cap: warden.checkpoint.max-file-bytes");
      System.out.println("daemon checkpoint with a sparse 2 GiB file: captureMs=" + checkpoint.get("captureMs").asLong());
      assertTrue(checkpoint.get("captureMs").asLong() < 1000, checkpoint.toString());
      String commit = checkpoint.get("commit").asText();
      assertTrue(GitRepos.tryGit(repos.resolve(sparse), "cat-file", "-e", commit + ":huge.img").exitCode() != 0, "not in the checkpoint");
      assertEquals("beside it", GitRepos.git(repos.resolve(sparse), "show", commit + ":notes.txt"));

      JsonNode verdict = finalVerdict(daemon, sparse, checkpoint.get("seq").asLong());
      assertEquals("invalid", verdict.get("status").asText(), verdict.toString());
      assertTrue(verdict.get("violations").toString().contains("\"rule\":\"file-too-large\",\"path\":\"huge.img\""), verdict.toString());

      // patch mode: 100 MiB of zeros against a 10 MiB quota
      Path tree = Path.of(create(daemon, GitRepos.create(repos.resolve(patched)), patched, "{\"limits\":{\"diskQuotaBytes\":10485760}}"));
      String diff = binaryPatch("assets/big.bin", 100L << 20);
      String statusBefore = GitRepos.git(tree, "status", "--porcelain");
      String contentBefore = contentHash(tree);

      RunningDaemon.Response refused = daemon.post("/api/v1/features/" + patched + "/patches", RunningDaemon.AGENT,
          "{\"diff\":" + com.fasterxml.jackson.databind.node.TextNode.valueOf(diff) + "}").assertProblem(422, "diff");

      assertTrue(refused.body().contains("\"rule\":\"disk-quota\""), refused.body());
      assertTrue(refused.body().contains("'assets/big.bin': 104857600") && refused.body().contains("disk quota of 10485760"),
          refused.body());
      assertFalse(Files.exists(tree.resolve("assets/big.bin")));
      assertEquals(statusBefore, GitRepos.git(tree, "status", "--porcelain"));
      assertEquals(contentBefore, contentHash(tree), "every file of the worktree as it was");
    }
  }

  private static String create(RunningDaemon daemon, Path repo, String id, String plan) {
    RunningDaemon.Response created = daemon.post("/api/v1/features", RunningDaemon.AGENT,
        "{\"id\":\"" + id + "\",\"repo\":\"" + repo + "\",\"target\":\"main\",\"plan\":" + plan + "}");
    assertEquals(201, created.status(), created.body());
    return created.json().get("worktree").asText();
  }

  private static JsonNode finalVerdict(RunningDaemon daemon, String id, long seq) throws InterruptedException {
    String path = "/api/v1/features/" + id + "/checkpoints/" + seq + "/validation";
    await("a final verdict for checkpoint " + seq, 30_000, () -> {
      RunningDaemon.Response r = daemon.get(path, RunningDaemon.VIEWER);
      return r.status() == 200 && List.of("valid", "invalid", "degraded").contains(r.json().get("status").asText());
    });
    return daemon.get(path, RunningDaemon.VIEWER).json();
  }

  private static void await(String what, int millis, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + millis * 1_000_000L;
    while (System.nanoTime() < deadline && !condition.getAsBoolean()) {
      Thread.sleep(50);
    }
    assertTrue(condition.getAsBoolean(), what + " within " + millis + " ms");
  }

  /** {@code git diff --binary} of a new file of zeros (sparse: nothing is written), made outside any worktree. */
  private String binaryPatch(String path, long bytes) throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("patch-source"));
    Path file = dir.resolve(path);
    Files.createDirectories(file.getParent());
    try (RandomAccessFile zeros = new RandomAccessFile(file.toFile(), "rw")) {
      zeros.setLength(bytes);
    }
    GitRepos.Result diff = GitRepos.tryGit(dir, "diff", "--no-index", "--binary", "/dev/null", path);
    assertEquals(1, diff.exitCode(), diff.output());
    return diff.output() + "\n";
  }

  /** One hash over every path and content of the worktree outside {@code .git}. */
  private static String contentHash(Path root) throws Exception {
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    try (Stream<Path> files = Files.walk(root)) {
      for (Path p : files.filter(Files::isRegularFile).filter(p -> !root.relativize(p).startsWith(".git")).sorted().toList()) {
        sha.update(root.relativize(p).toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        sha.update(Files.readAllBytes(p));
      }
    }
    return HexFormat.of().formatHex(sha.digest());
  }
}
