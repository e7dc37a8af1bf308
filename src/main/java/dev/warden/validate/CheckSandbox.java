package dev.warden.validate;

import dev.warden.process.Bubblewrap;
import dev.warden.process.SandboxLayout;
import dev.warden.process.SandboxPolicy;
import dev.warden.process.SandboxRules;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * How {@link CheckRunner} contains what it runs. Plan checks, the plan's test and the landing's test
 * run code the agent wrote, so they run inside bubblewrap ({@link Bubblewrap}) with the layout
 * {@link SandboxPolicy#checkLayout} gives: their throwaway worktree writable (its {@code .git} link
 * read-only), the repository's git directory read-only (git in the worktree reads its objects, but
 * nothing can move a ref, write a hook or the config), Warden's data directory and configuration
 * hidden, a private {@code /tmp}, no network unless the plan's {@code sandbox.checkNetwork} says so.
 *
 * <p>Where bubblewrap cannot be used here, {@code warden.sandbox.mode} decides: {@code auto} runs the
 * command without a sandbox and its result says {@code unsandboxed: <why>}; {@code required} does not
 * run it at all, and the check fails saying why. {@link #none} is for runners of Warden's own commands
 * (git in a shadow worktree), which run no code the agent wrote.
 */
public final class CheckSandbox {

  /** What one run is confined to, besides Warden's own defaults. */
  public record Scope(Optional<Path> repoGitDir, SandboxRules rules) {
    public Scope {
      Objects.requireNonNull(repoGitDir, "repoGitDir");
      Objects.requireNonNull(rules, "rules");
    }

    /** The default rules, and no repository to read (a command that does not need git). */
    public static Scope defaults() {
      return new Scope(Optional.empty(), SandboxRules.defaults());
    }

    public static Scope of(Path repoGitDir, SandboxRules rules) {
      return new Scope(Optional.of(repoGitDir), rules);
    }
  }

  /**
   * How to start one run: {@code argv} to execute and the line its result carries ({@code sandbox: ...}
   * or {@code unsandboxed: ...}); or, when {@code refusal} is present, nothing to start and why.
   */
  public record Launch(List<String> argv, String description, Optional<String> refusal) {
    public Launch {
      argv = List.copyOf(argv);
    }
  }

  private final Optional<SandboxPolicy> policy;
  private final Supplier<Bubblewrap.Availability> availability;
  private final Path home;
  private final String noneReason;

  private CheckSandbox(Optional<SandboxPolicy> policy, Supplier<Bubblewrap.Availability> availability, Path home,
      String noneReason) {
    this.policy = policy;
    this.availability = availability;
    this.home = home;
    this.noneReason = noneReason;
  }

  /** Commands run as they are, their results marked {@code unsandboxed: <why>}. */
  public static CheckSandbox none(String why) {
    return new CheckSandbox(Optional.empty(), () -> new Bubblewrap.Availability(Optional.empty(), why),
        Path.of(System.getProperty("user.home")), why);
  }

  /** Sandboxed by {@code policy} with this host's bubblewrap; {@code ~/} in plan paths is the daemon's home. */
  public static CheckSandbox of(SandboxPolicy policy) {
    return new CheckSandbox(Optional.of(policy), Bubblewrap::availability, Path.of(System.getProperty("user.home")), "");
  }

  /** For tests: a given availability (a host without bubblewrap) and home directory. */
  static CheckSandbox of(SandboxPolicy policy, Supplier<Bubblewrap.Availability> availability, Path home) {
    return new CheckSandbox(Optional.of(policy), availability, home, "");
  }

  /** How {@code argv} is to be started in {@code directory} within {@code scope}. */
  public Launch prepare(List<String> argv, Path directory, Scope scope) {
    if (policy.isEmpty()) {
      return new Launch(argv, "unsandboxed: " + noneReason, Optional.empty());
    }
    Bubblewrap.Availability bwrap = availability.get();
    if (!bwrap.usable()) {
      String why = "unsandboxed: " + bwrap.problem();
      if (policy.get().settings().mode() == SandboxPolicy.Mode.REQUIRED) {
        return new Launch(argv, why, Optional.of("not run: warden.sandbox.mode is \"required\" and no sandbox can be made here: "
            + bwrap.problem()));
      }
      return new Launch(argv, why, Optional.empty());
    }
    SandboxLayout layout = layout(directory, scope);
    return new Launch(Bubblewrap.argv(bwrap.executable().orElseThrow(), layout, argv), layout.describe(), Optional.empty());
  }

  /** The layout of a run in {@code directory}: the policy's check layout, the worktree's {@code .git} link read-only. */
  SandboxLayout layout(Path directory, Scope scope) {
    Path absolute = directory.toAbsolutePath().normalize();
    // a check could rewrite the link to name another worktree's record; nothing in it needs to write there
    Optional<Path> repoGitDir = scope.repoGitDir().map(p -> p.toAbsolutePath().normalize());
    return policy.orElseThrow().checkLayout(absolute, repoGitDir, scope.rules(), home)
        .withReadOnly(List.of(absolute.resolve(".git")));
  }
}
