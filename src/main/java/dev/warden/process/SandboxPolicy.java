package dev.warden.process;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Warden's side of every sandbox: which of its own paths no sandboxed command may see (its data
 * directory with the tokens, the journal and the other features' worktrees; its configuration), the
 * operator's defaults from {@code warden.sandbox}, and a plan's {@link SandboxRules} on top. Builds
 * the layout of an agent's run ({@link #agentSpec}) and of a check or test ({@link #checkLayout}).
 */
public final class SandboxPolicy {

  /** What to do where bubblewrap cannot be used. */
  public enum Mode {
    /** Sandbox when bubblewrap works here; otherwise run without one and mark the run {@code unsandboxed}. */
    AUTO,
    /** Never run an agent's check or test without a sandbox: a check that cannot be sandboxed fails. */
    REQUIRED
  }

  /**
   * {@code warden.sandbox}.
   *
   * @param agentHomeWritable directories under the home directory an agent CLI keeps its own settings and
   *     caches in, writable for the agent unless the plan gives its own list ({@code ~/}-paths)
   * @param hidden paths hidden from every agent and check (credentials: ssh keys, cloud and registry
   *     logins, the user's runtime sockets), on top of Warden's own data and configuration
   */
  public record Settings(Mode mode, List<String> agentHomeWritable, List<String> hidden) {
    public Settings {
      agentHomeWritable = List.copyOf(agentHomeWritable);
      hidden = List.copyOf(hidden);
      for (String spec : agentHomeWritable) {
        SandboxRules.problem(spec).ifPresent(p -> {
          throw new IllegalArgumentException("warden.sandbox.agent-home-writable: '" + spec + "' " + p);
        });
      }
      for (String spec : hidden) {
        SandboxRules.problem(spec).ifPresent(p -> {
          throw new IllegalArgumentException("warden.sandbox.hidden: '" + spec + "' " + p);
        });
      }
    }

    public static Settings fromConfig(Config warden) {
      Config c = warden.getConfig("sandbox");
      String mode = c.getString("mode").trim().toUpperCase(Locale.ROOT);
      Mode parsed;
      try {
        parsed = Mode.valueOf(mode);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("warden.sandbox.mode must be \"auto\" or \"required\", got \"" + c.getString("mode") + "\"");
      }
      return new Settings(parsed, c.getStringList("agent-home-writable"), c.getStringList("hidden"));
    }

    /** Defaults as in application.conf, for tests. */
    public static Settings defaults() {
      return new Settings(Mode.AUTO,
          List.of("~/.claude", "~/.claude.json", "~/.config/claude", "~/.codex", "~/.aider", "~/.cache", "~/.npm"),
          List.of("~/.ssh", "~/.gnupg", "~/.git-credentials", "~/.netrc", "~/.aws", "~/.azure", "~/.config/gcloud",
              "~/.config/gh", "~/.kube", "~/.docker", "~/.pypirc", "/run/user", "/run/docker.sock", "/var/run/docker.sock"));
    }
  }

  private final Settings settings;
  private final List<String> wardenPaths;

  /**
   * @param dataDir Warden's data directory: hidden whole; the command's own worktree is bound back
   * @param configFiles Warden's configuration files (they may hold the database password), hidden
   */
  public SandboxPolicy(Settings settings, Path dataDir, List<Path> configFiles) {
    this.settings = settings;
    List<String> own = new ArrayList<>();
    own.add(dataDir.toAbsolutePath().normalize().toString());
    configFiles.forEach(f -> own.add(f.toAbsolutePath().normalize().toString()));
    this.wardenPaths = List.copyOf(own);
  }

  public Settings settings() {
    return settings;
  }

  /**
   * The agent's sandbox for one feature: its worktree writable (its {@code .git} link read-only), the
   * repository's git directory read-only, {@code privateGitDir} placed over the worktree's admin
   * directory so the agent's {@code git add}/{@code commit} write there and nowhere in the repository.
   */
  public SandboxSpec agentSpec(Path worktree, Path repoGitDir, Path adminDir, Path privateGitDir, SandboxRules rules) {
    List<String> writable = new ArrayList<>(rules.homeWritable().orElse(settings.agentHomeWritable()));
    writable.addAll(rules.writable());
    return new SandboxSpec(
        worktree.toString(),
        writable,
        hidden(rules),
        List.of(repoGitDir.toString(), worktree.resolve(".git").toString()),
        List.of(new SandboxSpec.MountSpec(privateGitDir.toString(), adminDir.toString())),
        rules.agentHasNetwork());
  }

  /**
   * A check's or test's sandbox: {@code directory} (a throwaway worktree in Warden's scratch space)
   * writable, the repository's git directory read-only, no network unless the plan allows it,
   * {@code ~/} resolved to the daemon's own home.
   */
  public SandboxLayout checkLayout(Path directory, Optional<Path> repoGitDir, SandboxRules rules, Path home) {
    List<String> readOnly = new ArrayList<>();
    repoGitDir.ifPresent(dir -> readOnly.add(dir.toString()));
    return new SandboxLayout(
        directory,
        SandboxPaths.resolveAll(rules.writable(), home),
        SandboxPaths.resolveAll(hidden(rules), home),
        SandboxPaths.resolveAll(readOnly, home),
        List.of(),
        rules.checksHaveNetwork());
  }

  private List<String> hidden(SandboxRules rules) {
    List<String> hidden = new ArrayList<>(wardenPaths);
    hidden.addAll(settings.hidden());
    hidden.addAll(rules.hidden());
    return hidden;
  }
}
