package dev.warden.bench;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import dev.warden.checkpoint.Snapshotter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.eclipse.jgit.lib.ObjectId;

/**
 * {@code warden bench checkpoint}: times {@link Snapshotter#capture} on a synthetic repository against
 * the git CLI doing the same snapshot on an identical copy.
 *
 * <p>It builds N files in N/100 directories (a few KB of text each, one commit, packed as a clone would
 * be), then two identical copies, each with a linked worktree made by {@code git worktree add} as the
 * daemon does. Every run changes the same M random files (and adds U new files) in both worktrees,
 * then captures copy A with the Snapshotter (warm, in this JVM, told exactly those paths) and
 * snapshots copy B with {@code git add -A && git write-tree && git commit-tree} using its own index
 * file. Only the capture/snapshot is timed, never the file edits.
 *
 * <p>Options: {@code --files N} (10000) {@code --modify M} (50) {@code --untracked U} (0)
 * {@code --runs R} (200) {@code --warmup W} (30) {@code --seed S} (1) {@code --json FILE} {@code --keep}.
 */
@Command(name = "checkpoint",
    description = "Times Snapshotter.capture on a synthetic repository against git add -A; write-tree; commit-tree (docs/performance.md).")
public final class CheckpointBench implements Callable<Integer> {

  @Option(names = "--files", paramLabel = "N", description = "files in the repository (default: ${DEFAULT-VALUE})")
  int files = 10_000;

  @Option(names = "--modify", paramLabel = "M", description = "files changed per run (default: ${DEFAULT-VALUE})")
  int modify = 50;

  @Option(names = "--untracked", paramLabel = "U", description = "new files per run (default: ${DEFAULT-VALUE})")
  int untracked = 0;

  @Option(names = "--runs", paramLabel = "R", description = "measured runs (default: ${DEFAULT-VALUE})")
  int runs = 200;

  @Option(names = "--warmup", paramLabel = "W", description = "runs before the measured ones (default: ${DEFAULT-VALUE})")
  int warmup = 30;

  @Option(names = "--seed", paramLabel = "S", description = "random seed (default: ${DEFAULT-VALUE})")
  long seed = 1;

  @Option(names = "--keep", description = "keep the repositories (their paths are printed)")
  boolean keep;

  @Mixin
  BenchOutput output = new BenchOutput();

  @Spec
  CommandSpec spec;

  CheckpointBench() {}

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the bench with {@code args} (those after {@code warden bench checkpoint}); the exit status. */
  public static int run(String[] args) {
    return BenchCommand.run("checkpoint", args);
  }

  @Override
  public Integer call() {
    if (files < 100 || modify < 0 || modify > files || untracked < 0 || runs < 1 || warmup < 0) {
      throw new ParameterException(spec.commandLine(), "need --files >= 100, 0 <= --modify <= files, --untracked >= 0, --runs >= 1");
    }
    try {
      Result r = new CheckpointBench.Runner(files, modify, untracked, runs, warmup, seed, keep).run();
      output.report(r.table(), r.json());
      return 0;
    } catch (Exception e) {
      System.err.println("bench checkpoint failed: " + e);
      e.printStackTrace();
      return 1;
    }
  }

  record Result(int files, int modify, int untracked, int runs, double[] ours, double[] git, double firstCaptureMs,
                int packs, long packBytes, double openMs) {

    double ratioP50() {
      return percentile(ours, 50) / percentile(git, 50);
    }

    double first100() {
      return percentile(Arrays.copyOfRange(ours, 0, Math.min(100, ours.length)), 50);
    }

    double last100() {
      return percentile(Arrays.copyOfRange(ours, Math.max(0, ours.length - 100), ours.length), 50);
    }

    String table() {
      StringBuilder t = new StringBuilder();
      t.append(String.format(Locale.ROOT, "checkpoint capture: %d files, %d modified + %d new per run, %d runs (warm)%n",
          files, modify, untracked, runs));
      t.append(String.format(Locale.ROOT, "%-34s %8s %8s %8s %8s%n", "", "p50 ms", "p95 ms", "p99 ms", "max ms"));
      t.append(String.format(Locale.ROOT, "%-34s %8.2f %8.2f %8.2f %8.2f%n", "warden Snapshotter.capture",
          percentile(ours, 50), percentile(ours, 95), percentile(ours, 99), percentile(ours, 100)));
      t.append(String.format(Locale.ROOT, "%-34s %8.2f %8.2f %8.2f %8.2f%n", "git add -A; write-tree; commit-tree",
          percentile(git, 50), percentile(git, 95), percentile(git, 99), percentile(git, 100)));
      t.append(String.format(Locale.ROOT, "ratio p50 (warden / git)           %8.3f%n", ratioP50()));
      t.append(String.format(Locale.ROOT, "first 100 runs p50 %.2f ms, last 100 runs p50 %.2f ms%n", first100(), last100()));
      t.append(String.format(Locale.ROOT, "open %.1f ms, first (full-scan) capture %.1f ms; checkpoint packs at the end: %d (%.1f MB)%n",
          openMs, firstCaptureMs, packs, packBytes / 1e6));
      return t.toString();
    }

    String json() {
      return String.format(Locale.ROOT,
          "{\"checkpoint_ms\":{\"p50\":%.3f,\"p95\":%.3f,\"p99\":%.3f},\"git_cli_ms\":{\"p50\":%.3f,\"p95\":%.3f},"
              + "\"ratio_p50\":%.4f,\"first100_p50\":%.3f,\"last100_p50\":%.3f,\"files\":%d,\"modify\":%d,"
              + "\"untracked\":%d,\"runs\":%d,\"first_capture_ms\":%.3f,\"packs_at_end\":%d}%n",
          percentile(ours, 50), percentile(ours, 95), percentile(ours, 99), percentile(git, 50), percentile(git, 95),
          ratioP50(), first100(), last100(), files, modify, untracked, runs, firstCaptureMs, packs);
    }
  }

  /** Nearest-rank percentile (100 = max). */
  static double percentile(double[] values, double p) {
    return dev.warden.metrics.Percentiles.of(values, p);
  }

  private static final class Runner {
    private final int files;
    private final int modify;
    private final int untracked;
    private final int runs;
    private final int warmup;
    private final Random random;
    private final boolean keep;
    private final int dirs;

    Runner(int files, int modify, int untracked, int runs, int warmup, long seed, boolean keep) {
      this.files = files;
      this.modify = modify;
      this.untracked = untracked;
      this.runs = runs;
      this.warmup = warmup;
      this.random = new Random(seed);
      this.keep = keep;
      this.dirs = Math.max(1, files / 100);
    }

    Result run() throws Exception {
      Path tmp = Files.createTempDirectory("warden-bench-checkpoint-");
      try {
        return run(tmp);
      } finally {
        if (keep) {
          System.out.println("kept " + tmp);
        } else {
          dev.warden.git.Directories.deleteTree(tmp);
        }
      }
    }

    private Result run(Path tmp) throws Exception {
      System.out.printf(Locale.ROOT, "building a %d-file repository in %s ...%n", files, tmp);
      Path repoA = tmp.resolve("a/repo");
      Files.createDirectories(repoA);
      git(repoA, Map.of(), "init", "-q", "-b", "main");
      for (int i = 0; i < files; i++) {
        Path f = repoA.resolve(relative(i));
        Files.createDirectories(f.getParent());
        Files.write(f, text(40 + random.nextInt(40)));
      }
      git(repoA, Map.of(), "add", "-A");
      git(repoA, Map.of(), "-c", "user.name=Bench", "-c", "user.email=bench@localhost", "-c", "gc.auto=0", "commit", "-q", "-m", "base");
      git(repoA, Map.of(), "gc", "-q");
      Path repoB = tmp.resolve("b/repo");
      Files.createDirectories(repoB.getParent());
      CheckpointBench.run(List.of("cp", "-a", repoA.toString(), repoB.toString()), tmp, Map.of());
      Path wtA = tmp.resolve("a/wt");
      Path wtB = tmp.resolve("b/wt");
      for (Path[] pair : new Path[][] {{repoA, wtA}, {repoB, wtB}}) {
        git(pair[0], Map.of(), "branch", "warden/bench");
        git(pair[0], Map.of(), "worktree", "add", "--quiet", pair[1].toString(), "warden/bench");
      }
      ObjectId base = ObjectId.fromString(git(repoA, Map.of(), "rev-parse", "HEAD").trim());
      Path cliIndex = tmp.resolve("b/cli-index");
      Files.copy(repoB.resolve(".git/worktrees/wt/index"), cliIndex);
      Map<String, String> cliEnv = Map.of("GIT_INDEX_FILE", cliIndex.toString(),
          "GIT_AUTHOR_NAME", "Bench", "GIT_AUTHOR_EMAIL", "bench@localhost",
          "GIT_COMMITTER_NAME", "Bench", "GIT_COMMITTER_EMAIL", "bench@localhost");

      long t0 = System.nanoTime();
      // the daemon passes its blocking dispatcher; the bench owns a pool of its own and stops it
      java.util.concurrent.ExecutorService background = java.util.concurrent.Executors.newFixedThreadPool(4);
      Snapshotter snap = Snapshotter.open(repoA.resolve(".git"), wtA, "refs/warden/bench/checkpoints", base, Optional.empty(),
          background);
      double openMs = ms(System.nanoTime() - t0);
      try {
        Snapshotter.Capture first = snap.capture(List.of(), true, true, "first");
        double firstMs = ms(first.captureNanos());
        String cliPrev = git(wtB, cliEnv, "commit-tree", git(wtB, cliEnv, "write-tree").trim(), "-p", base.name(), "-m", "x").trim();
        double[] ours = new double[runs];
        double[] cli = new double[runs];
        int counter = 0;
        System.out.printf(Locale.ROOT, "%d warm-up runs, then %d measured runs ...%n", warmup, runs);
        for (int run = 0; run < warmup + runs; run++) {
          List<String> changed = new ArrayList<>();
          for (int k : pick(modify)) {
            String rel = relative(k);
            byte[] content = text(40 + random.nextInt(40));
            Files.write(wtA.resolve(rel), content);
            Files.write(wtB.resolve(rel), content);
            changed.add(rel);
          }
          for (int u = 0; u < untracked; u++) {
            String rel = String.format(Locale.ROOT, "d%03d/new-%06d.txt", random.nextInt(dirs), counter++);
            byte[] content = text(20 + random.nextInt(40));
            Files.write(wtA.resolve(rel), content);
            Files.write(wtB.resolve(rel), content);
            changed.add(rel);
          }
          long start = System.nanoTime();
          Snapshotter.Capture c = snap.capture(changed, false, false, "bench " + run);
          long oursNanos = System.nanoTime() - start;
          if (c.unchanged()) {
            throw new IllegalStateException("run " + run + " captured nothing");
          }
          start = System.nanoTime();
          git(wtB, cliEnv, "add", "-A");
          String tree = git(wtB, cliEnv, "write-tree").trim();
          cliPrev = git(wtB, cliEnv, "commit-tree", tree, "-p", cliPrev, "-m", "x").trim();
          long cliNanos = System.nanoTime() - start;
          if (!tree.equals(c.tree().name())) {
            throw new IllegalStateException("run " + run + ": warden tree " + c.tree().name() + " but git wrote " + tree);
          }
          if (run >= warmup) {
            ours[run - warmup] = ms(oursNanos);
            cli[run - warmup] = ms(cliNanos);
          }
          if ((run + 1) % 100 == 0) {
            System.out.printf(Locale.ROOT, "  %d runs done%n", run + 1);
          }
        }
        snap.awaitPackMerges();
        List<String> packs = snap.packNames();
        long bytes = 0;
        for (String pack : packs) {
          bytes += Files.size(repoA.resolve(".git/objects/pack/" + pack + ".pack"));
        }
        String fsck = git(repoA, Map.of(), "fsck", "--connectivity-only", "--no-progress");
        if (!fsck.isBlank()) {
          System.out.println("git fsck: " + fsck.strip());
        }
        return new Result(files, modify, untracked, runs, ours, cli, firstMs, packs.size(), bytes, openMs);
      } finally {
        snap.close();
        background.shutdown();
      }
    }

    private String relative(int i) {
      return String.format(Locale.ROOT, "d%03d/f%05d.txt", i % dirs, i);
    }

    private int[] pick(int count) {
      return random.ints(0, files).distinct().limit(count).toArray();
    }

    private byte[] text(int lines) {
      StringBuilder b = new StringBuilder(lines * 50);
      for (int l = 0; l < lines; l++) {
        int words = 4 + random.nextInt(8);
        for (int w = 0; w < words; w++) {
          int len = 2 + random.nextInt(8);
          for (int c = 0; c < len; c++) {
            b.append((char) ('a' + random.nextInt(26)));
          }
          b.append(w + 1 < words ? ' ' : '\n');
        }
      }
      return b.toString().getBytes(StandardCharsets.UTF_8);
    }
  }

  private static double ms(long nanos) {
    return nanos / 1e6;
  }

  private static String git(Path dir, Map<String, String> env, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add("git");
    command.add("-C");
    command.add(dir.toString());
    command.addAll(List.of(args));
    return run(command, dir, env);
  }

  private static String run(List<String> command, Path dir, Map<String, String> env) throws IOException, InterruptedException {
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().keySet().removeIf(k -> k.startsWith("GIT_"));
    builder.environment().putAll(env);
    Process process = builder.start();
    process.getOutputStream().close();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(120, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new IOException(String.join(" ", command) + " timed out");
    }
    if (process.exitValue() != 0) {
      throw new IOException(String.join(" ", command) + " failed: " + out);
    }
    return out;
  }

}
