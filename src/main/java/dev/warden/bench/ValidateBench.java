package dev.warden.bench;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import dev.warden.validate.FastRules;
import dev.warden.validate.Rule;
import dev.warden.validate.ValidationCache;
import dev.warden.plan.Plan;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Random;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.lib.Repository;

/**
 * {@code warden bench validate}: times {@link FastRules} from two commits to a {@link FastRules.Result}
 * on a synthetic checkpoint of N changed files, with a cold cache (a fresh {@link ValidationCache} and
 * reader per run) and a warm one (the cache of the previous run of the same checkpoint).
 *
 * <p>The repository: N·1.25 source-like text files of 40–80 lines (assignments, strings, comments, so
 * the secret scanner has work), committed, then a checkpoint that changes exactly N paths — 75 %
 * modified (3 lines each), 20 % added, 5 % deleted — with fake secrets planted in one modified or added file
 * in 25, a new executable script and a symlink. Packed by JGit's gc, as a cloned repository
 * would be. Every run must find exactly the planted secrets and must not be degraded, or the bench fails.
 *
 * <p>Timed: {@link FastRules.Input#fromGit} (the tree walk) plus {@link FastRules#check}; "check only"
 * is the latter alone. Options: {@code --files N} (100) {@code --runs R} (200) {@code --warmup W} (50)
 * {@code --budget-ms B} (1000) {@code --seed S} (1) {@code --json FILE} {@code --keep}.
 */
@Command(name = "validate",
    description = "Times the fast validation rules on a synthetic checkpoint of N changed files, cold and warm cache (docs/performance.md).")
public final class ValidateBench implements Callable<Integer> {

  @Option(names = "--files", paramLabel = "N", description = "changed files in the checkpoint (default: ${DEFAULT-VALUE})")
  int files = 100;

  @Option(names = "--runs", paramLabel = "R", description = "measured runs, cold and warm each (default: ${DEFAULT-VALUE})")
  int runs = 200;

  @Option(names = "--warmup", paramLabel = "W", description = "runs before the measured ones (default: ${DEFAULT-VALUE})")
  int warmup = 50;

  @Option(names = "--budget-ms", paramLabel = "B", description = "the rules' time budget in ms (default: ${DEFAULT-VALUE})")
  long budgetMs = FastRules.DEFAULT_BUDGET.toMillis();

  @Option(names = "--seed", paramLabel = "S", description = "random seed (default: ${DEFAULT-VALUE})")
  long seed = 1;

  @Option(names = "--keep", description = "keep the repository (its path is printed)")
  boolean keep;

  @Mixin
  BenchOutput output = new BenchOutput();

  @Spec
  CommandSpec spec;

  ValidateBench() {}

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the bench with {@code args} (those after {@code warden bench validate}); the exit status. */
  public static int run(String[] args) {
    return BenchCommand.run("validate", args);
  }

  @Override
  public Integer call() {
    if (files < 20 || runs < 1 || warmup < 0 || budgetMs < 1) {
      throw new ParameterException(spec.commandLine(), "need --files >= 20, --runs >= 1, --warmup >= 0, --budget-ms >= 1");
    }
    try {
      Report r = new Runner(files, runs, warmup, Duration.ofMillis(budgetMs), seed, keep).run();
      output.report(r.table(), r.json());
      return 0;
    } catch (Exception e) {
      System.err.println("bench validate failed: " + e);
      e.printStackTrace();
      return 1;
    }
  }

  record Report(int files, int modified, int added, int deleted, int runs, long budgetMs, int planted, double[] cold,
                double[] coldCheck, double[] warm, double[] warmCheck, double warmHitRate, double firstRunMs) {

    String table() {
      StringBuilder t = new StringBuilder();
      t.append(String.format(Locale.ROOT, "validate fast rules: %d changed files (%d modified, %d added, %d deleted; "
          + "%d planted secrets), %d runs each, budget %d ms, %d cores%n", files, modified, added, deleted, planted, runs,
          budgetMs, Runtime.getRuntime().availableProcessors()));
      t.append(String.format(Locale.ROOT, "%-36s %8s %8s %8s %8s%n", "", "p50 ms", "p95 ms", "p99 ms", "max ms"));
      row(t, "cold cache: commits -> Result", cold);
      row(t, "cold cache: check only", coldCheck);
      row(t, "warm cache: commits -> Result", warm);
      row(t, "warm cache: check only", warmCheck);
      t.append(String.format(Locale.ROOT, "warm cache hit rate %.1f %%; every run found the %d planted secrets and none "
          + "was degraded; first run in this JVM %.1f ms%n", warmHitRate * 100, planted, firstRunMs));
      return t.toString();
    }

    private static void row(StringBuilder t, String name, double[] v) {
      t.append(String.format(Locale.ROOT, "%-36s %8.2f %8.2f %8.2f %8.2f%n", name, percentile(v, 50), percentile(v, 95),
          percentile(v, 99), percentile(v, 100)));
    }

    String json() {
      return String.format(Locale.ROOT, "{\"cold_ms\":%s,\"warm_ms\":%s,\"files\":%d,\"cold_check_ms\":%s,\"warm_check_ms\":%s,"
              + "\"modified\":%d,\"added\":%d,\"deleted\":%d,\"planted_secrets\":%d,\"runs\":%d,\"budget_ms\":%d,"
              + "\"warm_hit_rate\":%.4f,\"first_run_ms\":%.3f,\"cores\":%d}%n",
          stats(cold), stats(warm), files, stats(coldCheck), stats(warmCheck), modified, added, deleted, planted, runs,
          budgetMs, warmHitRate, firstRunMs, Runtime.getRuntime().availableProcessors());
    }

    private static String stats(double[] v) {
      return String.format(Locale.ROOT, "{\"p50\":%.3f,\"p95\":%.3f,\"p99\":%.3f}", percentile(v, 50), percentile(v, 95),
          percentile(v, 99));
    }
  }

  /** Nearest-rank percentile (100 = max). */
  static double percentile(double[] values, double p) {
    return dev.warden.metrics.Percentiles.of(values, p);
  }

  private static final class Runner {
    private final int files;
    private final int runs;
    private final int warmup;
    private final Duration budget;
    private final Random random;
    private final boolean keep;
    private final int baseFiles;

    Runner(int files, int runs, int warmup, Duration budget, long seed, boolean keep) {
      this.files = files;
      this.runs = runs;
      this.warmup = warmup;
      this.budget = budget;
      this.random = new Random(seed);
      this.keep = keep;
      this.baseFiles = files + files / 4;
    }

    Report run() throws Exception {
      Path tmp = Files.createTempDirectory("warden-bench-validate-");
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

    private Report run(Path tmp) throws Exception {
      System.out.printf(Locale.ROOT, "building a checkpoint of %d changed files in %s ...%n", files, tmp);
      int deleted = files / 20;
      int added = files / 5;
      int modified = files - added - deleted;
      int planted = 0;
      ObjectId base;
      ObjectId checkpoint;
      try (Git git = Git.init().setDirectory(tmp.toFile()).setInitialBranch("main").call()) {
        for (int i = 0; i < baseFiles; i++) {
          write(tmp, path(i), source(40 + random.nextInt(41), null));
        }
        base = commit(git, "base");
        int secretEvery = 25;
        for (int k = 0; k < modified; k++) {
          Path file = tmp.resolve(path(k));
          List<String> lines = new ArrayList<>(Files.readAllLines(file));
          for (int e = 0; e < 3; e++) {
            lines.set(random.nextInt(lines.size()), "    int edited" + e + " = compute(" + random.nextInt(1000) + ");");
          }
          if (k % secretEvery == 0) {
            lines.add(lines.size() / 2, secretLine(k / secretEvery));
            planted += secretCount(k / secretEvery);
          }
          Files.write(file, (String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8));
        }
        for (int k = 0; k < deleted; k++) {
          Files.delete(tmp.resolve(path(baseFiles - 1 - k)));
        }
        for (int k = 0; k < added - 2; k++) {
          String kind = k % secretEvery == secretEvery / 2 ? secretLine(k) : null; // ~1 in 25 of the new files too
          if (kind != null) {
            planted += secretCount(k);
          }
          write(tmp, String.format(Locale.ROOT, "src/main/java/dev/bench/added/New%05d.java", k), source(40 + random.nextInt(41), kind));
        }
        write(tmp, "scripts/build.sh", "#!/bin/sh\nset -eu\nmvn -B -q verify\n");
        Files.setPosixFilePermissions(tmp.resolve("scripts/build.sh"), PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.createSymbolicLink(tmp.resolve("docs-link"), Path.of("src/main/java"));
        checkpoint = commit(git, "checkpoint");
        git.gc().call();
      }
      Plan plan = new Plan(1, List.of("src/**", "scripts/**", "docs-link"), List.of("**/*.pem", "secrets/"), Optional.empty(),
          new Plan.Limits(Plan.DEFAULT_MAX_CHANGED_LINES, Optional.empty(), Optional.of(1L << 20), Plan.DEFAULT_DISK_QUOTA_BYTES),
          List.of(), Optional.empty());
      long diskUsage = 64L << 20;

      try (Repository repo = Git.open(tmp.toFile()).getRepository()) {
        double firstRunMs = ms(timeOne(repo, base, checkpoint, plan, diskUsage, new ValidationCache(), planted, null));
        System.out.printf(Locale.ROOT, "%d warm-up runs, then %d cold and %d warm measured runs ...%n", warmup, runs, runs);
        ValidationCache shared = new ValidationCache();
        for (int i = 0; i < warmup; i++) {
          timeOne(repo, base, checkpoint, plan, diskUsage, new ValidationCache(), planted, null);
          timeOne(repo, base, checkpoint, plan, diskUsage, shared, planted, null);
        }
        double[] cold = new double[runs];
        double[] coldCheck = new double[runs];
        double[] warm = new double[runs];
        double[] warmCheck = new double[runs];
        long[] checkNanos = new long[1];
        long hits = 0;
        long lookups = 0;
        for (int i = 0; i < runs; i++) {
          cold[i] = ms(timeOne(repo, base, checkpoint, plan, diskUsage, new ValidationCache(), planted, checkNanos));
          coldCheck[i] = ms(checkNanos[0]);
          long h0 = shared.hits();
          long m0 = shared.misses();
          warm[i] = ms(timeOne(repo, base, checkpoint, plan, diskUsage, shared, planted, checkNanos));
          warmCheck[i] = ms(checkNanos[0]);
          hits += shared.hits() - h0;
          lookups += shared.hits() - h0 + shared.misses() - m0;
        }
        double hitRate = lookups == 0 ? 0 : (double) hits / lookups;
        return new Report(files, modified, added, deleted, runs, budget.toMillis(), planted, cold, coldCheck, warm, warmCheck,
            hitRate, firstRunMs);
      }
    }

    /** One validation from the two commits; checks the outcome; returns the elapsed nanos. */
    private long timeOne(Repository repo, ObjectId base, ObjectId checkpoint, Plan plan, long diskUsage, ValidationCache cache,
                         int planted, long[] checkNanos) throws IOException {
      long start = System.nanoTime();
      FastRules.Result r;
      try (ObjectReader reader = repo.newObjectReader()) {
        FastRules.Input in = FastRules.Input.fromGit(reader, base, checkpoint, plan)
            .withDiskUsage(diskUsage).withCache(cache).withBudget(budget);
        r = FastRules.check(in);
      }
      long elapsed = System.nanoTime() - start;
      if (checkNanos != null) {
        checkNanos[0] = r.elapsedNanos();
      }
      long secrets = r.violations().stream().filter(v -> v.rule().equals(Rule.SECRET.id())).count();
      if (r.verdict() == FastRules.Verdict.DEGRADED || !r.unchecked().isEmpty()) {
        throw new IllegalStateException("a run was degraded (budget " + budget.toMillis() + " ms, took "
            + ms(r.elapsedNanos()) + " ms): " + r.unchecked().size() + " checks skipped, e.g. " + r.unchecked().get(0));
      }
      if (secrets != planted) {
        throw new IllegalStateException("found " + secrets + " secrets, planted " + planted + ": " + r.violations());
      }
      return elapsed;
    }

    private String path(int i) {
      return String.format(Locale.ROOT, "src/main/java/dev/bench/m%03d/File%05d.java", i / 20, i);
    }

    /** Source-like text: assignments, string literals, comments and a map literal, as the scanner meets them. */
    private String source(int lines, String secret) {
      StringBuilder b = new StringBuilder(lines * 48);
      b.append("package dev.bench;\n\n/** Generated for the validation benchmark. */\nclass Generated {\n");
      for (int l = 0; l < lines; l++) {
        if (secret != null && l == lines / 2) {
          b.append(secret).append('\n');
          continue;
        }
        switch (random.nextInt(5)) {
          case 0 -> b.append("    int ").append(word()).append(" = compute(").append(random.nextInt(10_000)).append(");\n");
          case 1 -> b.append("    String ").append(word()).append(" = \"").append(word()).append(' ').append(word()).append("\";\n");
          case 2 -> b.append("    // ").append(word()).append(' ').append(word()).append(' ').append(word()).append('\n');
          case 3 -> b.append("    Map<String, Object> ").append(word()).append(" = Map.of(\"key\", \"").append(word())
              .append("\", \"size\", ").append(random.nextInt(100)).append(");\n");
          default -> b.append("    if (").append(word()).append(" > ").append(random.nextInt(100)).append(") { return ")
              .append(word()).append("; }\n");
        }
      }
      return b.append("}\n").toString();
    }

    private String word() {
      int len = 3 + random.nextInt(8);
      StringBuilder w = new StringBuilder(len);
      for (int i = 0; i < len; i++) {
        w.append((char) ('a' + random.nextInt(26)));
      }
      return w.toString();
    }

    /** A FAKE secret line of one of five kinds (random characters in the vendor's shape). */
    private String secretLine(int n) {
      return switch (n % 5) {
        case 0 -> "    String token = \"ghp_" + chars(ALNUM, 36) + "\";";
        case 1 -> "    // aws_access_key_id = AKIA" + chars(UPPER_DIGITS, 16) + "\n    // aws_secret_access_key = " + chars(ALNUM, 40);
        case 2 -> "    String stripe = \"sk_live_" + chars(ALNUM, 32) + "\";";
        case 3 -> "    String slack = \"xoxb-" + chars(DIGITS, 12) + "-" + chars(DIGITS, 13) + "-" + chars(ALNUM, 24) + "\";";
        default -> "    String key = \"-----BEGIN RSA PRIVATE KEY-----\\n"
            + Base64.getEncoder().encodeToString(bytes(48)) + "\\n-----END RSA PRIVATE KEY-----\";";
      };
    }

    private static int secretCount(int n) {
      return n % 5 == 1 ? 2 : 1;
    }

    private static final String ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    private static final String UPPER_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    private static final String DIGITS = "0123456789";

    private String chars(String alphabet, int n) {
      StringBuilder b = new StringBuilder(n);
      for (int i = 0; i < n; i++) {
        b.append(alphabet.charAt(random.nextInt(alphabet.length())));
      }
      return b.toString();
    }

    private byte[] bytes(int n) {
      byte[] b = new byte[n];
      random.nextBytes(b);
      return b;
    }

    private static void write(Path root, String rel, String content) throws IOException {
      Path file = root.resolve(rel);
      Files.createDirectories(file.getParent());
      Files.writeString(file, content);
    }

    private static ObjectId commit(Git git, String message) throws Exception {
      git.add().addFilepattern(".").call();
      git.add().addFilepattern(".").setUpdate(true).call();
      return git.commit().setMessage(message).setAuthor("Bench", "bench@localhost").setCommitter("Bench", "bench@localhost")
          .setSign(false).call().getId().copy();
    }
  }

  private static double ms(long nanos) {
    return nanos / 1e6;
  }

}
