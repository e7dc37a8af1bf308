package dev.warden.validate;

import dev.warden.plan.Plan;
import dev.warden.git.GitCli;
import dev.warden.process.SandboxRules;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.function.Predicate;

/**
 * The heavy half of validating a checkpoint: the plan's checks whose paths a change touches, and
 * optionally the test command, run one after another in a {@link ThrowawayWorktree} at the
 * checkpoint's commit through {@link CheckRunner}, in the runner's sandbox under the plan's rules
 * (the worktree writable, the repository's git directory read-only: nothing they run can move a ref);
 * the worktree is removed afterwards whatever happened. Blocking: run it through {@link CheckPool} ({@link #submit}).
 *
 * <p>Results are cached by (tree id, plan version, check name, argv, sandbox rules): the same content checked by the
 * same command gives the same verdict, so a checkpoint whose tree was already checked, or a proposal
 * of an already validated checkpoint, costs nothing, and no worktree is made when everything is
 * cached. The argv is part of the key because plan versions are per feature: two features' version 1
 * may name different commands "lint". Timed-out results are not cached (a timeout says as much about
 * the machine's load as about the code); failures are. The cache is bounded, least recently used
 * first out. Glob matching is the caller's: each check comes with the predicate for its
 * {@code paths}.
 */
public final class HeavyChecks {

  /** The name the test command's result carries. */
  public static final String TEST_NAME = "test";

  /** A check of the plan and whether a changed path (repository-relative, '/'-separated) concerns it. */
  public record Candidate(Plan.Check check, Predicate<String> concerns) {}

  /**
   * One checkpoint to check.
   *
   * @param gitDir the repository's git directory (not the feature's worktree)
   * @param commit the checkpoint's commit id
   * @param changedPaths the paths the checkpoint changed, against whatever the caller compares with
   * @param test the plan's test command, run last whatever the changed paths, when present
   * @param sandbox the plan's sandbox rules ({@link Plan#sandboxRules()}): what its checks may reach
   */
  public record Request(Path gitDir, String commit, int planVersion, List<Candidate> checks, Collection<String> changedPaths,
      Optional<Plan.TestCommand> test, SandboxRules sandbox) {
    public Request {
      checks = List.copyOf(checks);
      changedPaths = Set.copyOf(changedPaths);
      Objects.requireNonNull(sandbox, "sandbox");
    }

    /** A request under the default sandbox rules. */
    public Request(Path gitDir, String commit, int planVersion, List<Candidate> checks, Collection<String> changedPaths,
        Optional<Plan.TestCommand> test) {
      this(gitDir, commit, planVersion, checks, changedPaths, test, SandboxRules.defaults());
    }
  }

  public record CacheStats(long hits, long misses, int size, int capacity) {}

  /**
   * What one cached result answers for. The sandbox rules are part of it: two features' plan version 1
   * may run the same command with and without network.
   */
  private record Key(String treeId, int planVersion, String name, List<String> argv, SandboxRules sandbox) {}

  /** A command to run, a plan check or the test command. */
  private record Command(String name, List<String> argv, Duration timeout) {}

  private final GitCli git;
  private final CheckRunner runner;
  private final Path scratch;
  private final ResultCache cache;

  /**
   * @param scratch where throwaway worktrees are made (e.g. {@code <data-dir>/scratch})
   * @param cacheCapacity results kept
   */
  public HeavyChecks(GitCli git, CheckRunner runner, Path scratch, int cacheCapacity) {
    this.git = git;
    this.runner = runner;
    this.scratch = scratch;
    this.cache = new ResultCache(cacheCapacity);
  }

  /** {@link #run} on the pool at {@code priority}; throws {@link CheckPool.PoolFull} as submit does. */
  public CompletionStage<List<CheckResult>> submit(CheckPool pool, CheckPriority priority, Request request) {
    return pool.submit(priority, () -> run(request));
  }

  /**
   * The results of the selected checks in plan order, then the test command's. Interrupting the
   * thread kills the running check and removes the worktree before {@link InterruptedException}
   * propagates. Throws {@link IllegalArgumentException} for a commit that is not in the repository,
   * {@link dev.warden.git.GitFailure} when git fails, {@link IOException} when a check cannot be started.
   */
  public List<CheckResult> run(Request request) throws IOException, InterruptedException {
    List<Command> selected = new ArrayList<>();
    for (Candidate candidate : request.checks()) {
      if (request.changedPaths().stream().anyMatch(candidate.concerns())) {
        Plan.Check check = candidate.check();
        selected.add(new Command(check.name(), check.argv(), Duration.ofSeconds(check.timeoutSeconds())));
      }
    }
    request.test().ifPresent(test -> selected.add(new Command(TEST_NAME, test.argv(), Duration.ofSeconds(test.timeoutSeconds()))));
    if (selected.isEmpty()) {
      return List.of();
    }
    String tree = treeOf(request.gitDir(), request.commit());
    CheckResult[] results = new CheckResult[selected.size()];
    List<Integer> toRun = new ArrayList<>();
    for (int i = 0; i < selected.size(); i++) {
      Optional<CheckResult> cached = cache.get(key(tree, request, selected.get(i)));
      if (cached.isPresent()) {
        results[i] = cached.get();
      } else {
        toRun.add(i);
      }
    }
    if (!toRun.isEmpty()) {
      try (ThrowawayWorktree worktree = ThrowawayWorktree.create(git, request.gitDir(), request.commit(), scratch)) {
        for (int i : toRun) {
          Command command = selected.get(i);
          CheckResult result = runner.run(command.name(), command.argv(), worktree.path(), command.timeout(),
              CheckSandbox.Scope.of(request.gitDir(), request.sandbox()));
          if (!result.timedOut()) {
            cache.put(key(tree, request, command), result);
          }
          results[i] = result;
        }
      }
    }
    return List.of(results);
  }

  public CacheStats cacheStats() {
    return cache.stats();
  }

  private String treeOf(Path gitDir, String commit) {
    ThrowawayWorktree.requireObjectId(commit);
    GitCli.Result tree = git.run(gitDir, List.of("rev-parse", "--verify", "--quiet", commit + "^{tree}"));
    if (!tree.ok()) {
      throw new IllegalArgumentException("no commit " + commit + " in " + gitDir);
    }
    return tree.output().strip();
  }

  private static Key key(String tree, Request request, Command command) {
    return new Key(tree, request.planVersion(), command.name(), command.argv(), request.sandbox());
  }

  /** A bounded LRU map with hit and miss counts; any thread. */
  private static final class ResultCache {
    private final int capacity;
    private final LinkedHashMap<Key, CheckResult> entries;
    private long hits;
    private long misses;

    ResultCache(int capacity) {
      if (capacity < 0) {
        throw new IllegalArgumentException("cache capacity must not be negative, got " + capacity);
      }
      this.capacity = capacity;
      this.entries = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Key, CheckResult> eldest) {
          return size() > ResultCache.this.capacity;
        }
      };
    }

    synchronized Optional<CheckResult> get(Key key) {
      CheckResult result = entries.get(key);
      if (result == null) {
        misses++;
      } else {
        hits++;
      }
      return Optional.ofNullable(result);
    }

    synchronized void put(Key key, CheckResult result) {
      entries.put(key, result);
    }

    synchronized CacheStats stats() {
      return new CacheStats(hits, misses, entries.size(), capacity);
    }
  }
}
