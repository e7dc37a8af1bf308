package dev.warden.validate;

import dev.warden.plan.PathGlob;
import dev.warden.plan.Plan;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;

/**
 * Patch mode, the part before anything touches the feature's worktree: judge what the diff would
 * write against the plan's disk quota and file size limits ({@link PatchSizes}), then apply it in a
 * shadow worktree at the latest checkpoint, commit the result there (a commit on no branch), and
 * judge it with the fast rules and the plan's checks. Only a {@code valid} result may be promoted.
 * Blocking.
 */
final class PatchGate {

  private static final Duration GIT_TIMEOUT = Duration.ofSeconds(60);

  /** What the shadow made of a patch. */
  sealed interface Judgement {}

  /** The patch does not apply; {@code output} has git's account of the failing hunks. */
  record DoesNotApply(String output) implements Judgement {}

  /** Refused on its sizes alone (disk quota, file size limits), before anything was applied anywhere. */
  record TooLarge(List<Violation> violations) implements Judgement {}

  /** Applied and judged: {@code commit} holds the shadow's result, {@code paths} what the patch touched. */
  record Judged(String commit, String tree, List<String> paths, FastRules.Result rules, List<CheckResult> checks) implements Judgement {
    boolean valid() {
      return rules.verdict() == FastRules.Verdict.VALID && checks.stream().allMatch(CheckResult::passed);
    }
  }

  private final Validator.ValidationServices services;
  /**
   * Runs git, not the agent's code, so without a sandbox: git here must write the repository's objects
   * and the shadow's index (a read-only git directory would refuse {@code add} and {@code commit}),
   * and it runs nothing the patch brings. Hooks are off for every command ({@code core.hooksPath=/dev/null},
   * which also silences {@code post-index-change} on {@code add}); clean/smudge filters, textconv
   * drivers and fsmonitor run only when git's configuration names them, and the configuration is
   * outside the agent's reach (its sandbox sees the repository's git directory read-only), while a
   * patch can neither touch {@code .git} ({@code git apply} refuses such paths) nor do more with a
   * {@code .gitattributes} than pick a driver the configuration already defines. The plan's checks
   * and test on the shadow's commit go through {@link HeavyChecks}, sandboxed like every check.
   */
  private final CheckRunner git = new CheckRunner(CheckRunner.Settings.defaults(),
      CheckSandbox.none("git run by Warden for patch mode (no code from the patch)"));

  PatchGate(Validator.ValidationServices services) {
    this.services = services;
  }

  Judgement judge(Path gitDir, String base, String at, String diff, Plan plan, OptionalLong diskUsage, ValidationCache cache)
      throws IOException, InterruptedException {
    // sizes first: a patch over the quota or the size limits is refused before even a shadow worktree sees it
    try (Repository repo = new FileRepositoryBuilder().setGitDir(gitDir.toFile()).setMustExist(true).build();
        ObjectReader reader = repo.newObjectReader()) {
      PatchSizes.Estimate sizes = PatchSizes.estimate(diff, reader, GitChanges.treeOf(reader, ObjectId.fromString(at)));
      List<Violation> tooLarge = PatchSizes.judge(sizes, plan, services.checkpointMaxFileBytes(), diskUsage);
      if (!tooLarge.isEmpty()) {
        return new TooLarge(tooLarge);
      }
    }
    try (ThrowawayWorktree shadow = ThrowawayWorktree.create(services.git(), gitDir, at, services.scratch())) {
      Path patch = Files.createTempFile(services.scratch(), "patch-", ".diff");
      try {
        Files.writeString(patch, diff, StandardCharsets.UTF_8);
        CheckResult applied = run(shadow.path(), "git", "apply", "--binary", "--whitespace=nowarn", patch.toString());
        if (!applied.passed()) {
          return new DoesNotApply(applied.output());
        }
      } finally {
        Files.deleteIfExists(patch);
      }
      require(run(shadow.path(), "git", "add", "-A"));
      require(run(shadow.path(), "git", "-c", "user.name=Warden", "-c", "user.email=warden@localhost",
          "commit", "-q", "--no-verify", "--allow-empty", "-m", "warden: shadow of a patch"));
      String commit = require(run(shadow.path(), "git", "rev-parse", "HEAD")).outputHead().trim();
      String tree = require(run(shadow.path(), "git", "rev-parse", "HEAD^{tree}")).outputHead().trim();
      CheckResult names = require(run(shadow.path(), "git", "diff", "--name-only", "-z", "--no-renames", at, commit));
      if (names.droppedBytes() > 0) {
        throw new IOException("the patch touches too many paths to list");
      }
      List<String> paths = new ArrayList<>();
      for (String name : names.outputHead().split("\0")) {
        if (!name.isBlank()) {
          paths.add(name);
        }
      }
      FastRules.Result rules;
      try (Repository repo = new FileRepositoryBuilder().setGitDir(gitDir.toFile()).setMustExist(true).build();
          ObjectReader reader = repo.newObjectReader()) {
        FastRules.Input input = FastRules.Input.fromGit(reader, ObjectId.fromString(base), ObjectId.fromString(commit), plan)
            .withCache(cache).withBudget(services.fastBudget());
        if (diskUsage.isPresent()) {
          input = input.withDiskUsage(diskUsage.getAsLong());
        }
        rules = FastRules.check(input);
      }
      List<CheckResult> checks = List.of();
      if (rules.verdict() == FastRules.Verdict.VALID && (!plan.checks().isEmpty() || plan.test().isPresent())) {
        List<HeavyChecks.Candidate> candidates = plan.checks().stream()
            .map(check -> new HeavyChecks.Candidate(check, PathGlob.compile(check.paths())::matches)).toList();
        // through the global pool like every heavy check: bounded concurrency, a person's patch ranks as manual
        try {
          checks = services.heavy().submit(services.pool(), CheckPriority.MANUAL,
              new HeavyChecks.Request(gitDir, commit, plan.version(), candidates, paths, plan.test(), plan.sandboxRules()))
              .toCompletableFuture().get();
        } catch (java.util.concurrent.ExecutionException e) {
          throw new IOException("the plan's checks could not run: " + e.getCause(), e.getCause());
        }
      }
      return new Judged(commit, tree, List.copyOf(paths), rules, checks);
    }
  }

  /** {@code git <args>} in {@code dir}, hooks off ({@code argv[0]} is "git"). */
  private CheckResult run(Path dir, String... argv) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(argv[0], "-c", "core.hooksPath=/dev/null"));
    command.addAll(List.of(argv).subList(1, argv.length));
    return git.run(argv[1], command, dir, GIT_TIMEOUT);
  }

  private static CheckResult require(CheckResult result) throws IOException {
    if (!result.passed()) {
      throw new IOException(String.join(" ", result.argv()) + " failed: " + result.output());
    }
    return result;
  }
}
