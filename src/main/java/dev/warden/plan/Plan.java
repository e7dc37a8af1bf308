package dev.warden.plan;

import dev.warden.CborSerializable;
import dev.warden.process.SandboxRules;
import java.util.List;
import java.util.Optional;

/**
 * What a feature may do (design brief §1): which paths it may touch, its limits, and the checks and
 * test command its checkpoints must pass. Stored in the feature's events; {@code version} grows with
 * every change so cached verdicts can be keyed by it.
 */
public record Plan(
    int version,
    List<String> allowedPaths,
    List<String> forbiddenPaths,
    Optional<List<String>> plannedFiles,
    Limits limits,
    List<Check> checks,
    Optional<TestCommand> test,
    Optional<String> autoRollback,
    Optional<Tier> minimumTier,
    Optional<SandboxRules> sandbox)
    implements CborSerializable {

  /** {@code autoRollback} value: undo only the files behind a critical violation, then carry on. */
  public static final String SMART = "smart";

  public static final long DEFAULT_MAX_CHANGED_LINES = 10_000;
  public static final long DEFAULT_DISK_QUOTA_BYTES = 1L << 30;

  /** A plan without automatic rollback. */
  public Plan(int version, List<String> allowedPaths, List<String> forbiddenPaths, Optional<List<String>> plannedFiles,
      Limits limits, List<Check> checks, Optional<TestCommand> test) {
    this(version, allowedPaths, forbiddenPaths, plannedFiles, limits, checks, test, Optional.empty(), Optional.empty());
  }

  /** A plan that leaves its proposals' tier to the policy. */
  public Plan(int version, List<String> allowedPaths, List<String> forbiddenPaths, Optional<List<String>> plannedFiles,
      Limits limits, List<Check> checks, Optional<TestCommand> test, Optional<String> autoRollback) {
    this(version, allowedPaths, forbiddenPaths, plannedFiles, limits, checks, test, autoRollback, Optional.empty());
  }

  /** A plan with the default sandbox. */
  public Plan(int version, List<String> allowedPaths, List<String> forbiddenPaths, Optional<List<String>> plannedFiles,
      Limits limits, List<Check> checks, Optional<TestCommand> test, Optional<String> autoRollback,
      Optional<Tier> minimumTier) {
    this(version, allowedPaths, forbiddenPaths, plannedFiles, limits, checks, test, autoRollback, minimumTier,
        Optional.empty());
  }

  /**
   * {@code minimumTier}: the plan may raise its proposals' tier above what the policy gives their
   * paths, never lower it. Absent in plans stored before it existed.
   */
  public Plan {
    autoRollback = autoRollback == null ? Optional.empty() : autoRollback;
    minimumTier = minimumTier == null ? Optional.empty() : minimumTier;
    sandbox = sandbox == null ? Optional.empty() : sandbox;
    allowedPaths = List.copyOf(allowedPaths);
    forbiddenPaths = List.copyOf(forbiddenPaths);
    plannedFiles = plannedFiles.map(List::copyOf);
    checks = List.copyOf(checks);
  }

  public Plan withVersion(int newVersion) {
    return new Plan(newVersion, allowedPaths, forbiddenPaths, plannedFiles, limits, checks, test, autoRollback, minimumTier,
        sandbox);
  }

  /** The sandbox rules in force: the plan's, or the defaults. */
  public SandboxRules sandboxRules() {
    return sandbox.orElseGet(SandboxRules::defaults);
  }

  public boolean rollsBackSmartly() {
    return autoRollback.filter(SMART::equals).isPresent();
  }

  /** The plan of a feature created without one: anything in the worktree, default limits, no checks. */
  public static Plan defaults() {
    return new Plan(1, List.of("**"), List.of(), Optional.empty(), Limits.defaults(), List.of(), Optional.empty());
  }

  /** Size limits; absent ones are not enforced. */
  public record Limits(
      long maxChangedLines, Optional<Long> maxChangedFiles, Optional<Long> maxFileBytes, long diskQuotaBytes)
      implements CborSerializable {
    public static Limits defaults() {
      return new Limits(DEFAULT_MAX_CHANGED_LINES, Optional.empty(), Optional.empty(), DEFAULT_DISK_QUOTA_BYTES);
    }
  }

  /** A command run against every checkpoint touching {@code paths}. */
  public record Check(String name, List<String> argv, String paths, long timeoutSeconds) implements CborSerializable {
    public Check {
      argv = List.copyOf(argv);
    }
  }

  /** The test command run before a proposal is applied. */
  public record TestCommand(List<String> argv, long timeoutSeconds) implements CborSerializable {
    public TestCommand {
      argv = List.copyOf(argv);
    }
  }
}
