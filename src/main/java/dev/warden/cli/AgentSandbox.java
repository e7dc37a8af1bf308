package dev.warden.cli;

import dev.warden.process.Bubblewrap;
import dev.warden.process.SandboxLayout;
import dev.warden.process.SandboxSpec;
import java.io.IOException;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * How {@code warden agent} starts its command: under bubblewrap in the layout Warden describes for the
 * feature, or, said out loud, without a sandbox; either way without Warden's variables
 * ({@link #withheld}). One per invocation.
 */
final class AgentSandbox {

  private final Map<String, String> env;
  private final Consumer<String> warn;

  /** {@code env}: the variables given to this invocation; {@code warn}: where warnings go. */
  AgentSandbox(Map<String, String> env, Consumer<String> warn) {
    this.env = env;
    this.warn = warn;
  }

  /** Variables the agent never gets: Warden's (its token above all) and the user's ssh agent. */
  static boolean withheld(String variable) {
    return variable.startsWith("WARDEN_") || variable.equals("SSH_AUTH_SOCK");
  }

  /**
   * How the command is started: its argv, and what {@code hello} says about it ({@code sandbox}
   * "bubblewrap", or "none" with the reason).
   */
  record Launch(List<String> argv, String sandbox, Optional<String> reason) {}

  /**
   * Under bubblewrap in the layout Warden gives ({@code GET .../sandbox}, {@code ~/} as our HOME), or,
   * with {@code --no-sandbox} or without a usable bubblewrap, as it is, after a loud warning. A sandbox
   * Warden will not describe, or one that cannot be set up here, refuses the run (exit 3): the way
   * around it is {@code --no-sandbox}, said out loud and recorded on the feature.
   */
  Launch launch(HttpClient http, AgentCommand.Options options, String agentName, AskChannel ask)
      throws AgentCommand.Refusal, InterruptedException {
    Map<String, String> set = ask == null ? Map.of() : Map.of(AskChannel.VARIABLE, ask.socket().toString());
    Optional<String> without = Optional.empty();
    Bubblewrap.Availability bubblewrap = Bubblewrap.availability();
    if (options.noSandbox()) {
      without = Optional.of("--no-sandbox was given");
    } else if (!bubblewrap.usable()) {
      without = Optional.of("bubblewrap cannot be used here: " + bubblewrap.problem());
    }
    if (without.isPresent()) {
      warn.accept("WARNING: " + agentName + " runs WITHOUT A SANDBOX (" + without.get() + ").");
      warn.accept("WARNING: it can write anywhere you can, move your branches, and read Warden's tokens;"
          + " feature " + options.feature() + " is marked unsandboxed.");
      return new Launch(argv(options.command(), Optional.empty(), Optional.empty(), environmentNames(), set), "none", without);
    }
    SandboxSpec spec = sandboxSpec(http, options);
    try {
      SandboxLayout layout = spec.resolve(home());
      if (ask != null) {
        // `warden ask` must run inside wherever Warden is installed (even under /tmp, a fresh tmpfs in there)
        layout = layout.withReadOnly(wardenItself()).withMount(new SandboxLayout.Mount(ask.directory(), ask.directory()));
      }
      return new Launch(argv(options.command(), Optional.of(layout), bubblewrap.executable(), environmentNames(), set), "bubblewrap",
          Optional.empty());
    } catch (IllegalArgumentException e) {
      throw new AgentCommand.Refusal("the sandbox Warden described for feature " + options.feature() + " cannot be set up here: "
          + e.getMessage() + " (run the wrapper on Warden's machine, or pass --no-sandbox)");
    }
  }

  /**
   * What {@code warden ask} needs from Warden's own installation, to be seen read-only in the
   * sandbox: the jar this runs from, its {@code lib/} beside it, and the {@code bin/warden} launcher
   * above it (those that exist). Nothing else of the installation (its sources, build output, data)
   * is exposed.
   */
  static List<Path> wardenItself() {
    try {
      Path jar = Path.of(AgentSandbox.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      if (!Files.isRegularFile(jar)) {
        return List.of(); // classes run from a directory (the tests): nothing to expose
      }
      List<Path> paths = new ArrayList<>(List.of(jar));
      Path lib = jar.resolveSibling("lib");
      if (Files.isDirectory(lib)) {
        paths.add(lib);
      }
      Path parent = jar.getParent().getParent();
      Path launcher = parent == null ? null : parent.resolve("bin/warden");
      if (launcher != null && Files.isRegularFile(launcher)) {
        paths.add(launcher);
      }
      return List.copyOf(paths);
    } catch (java.net.URISyntaxException | RuntimeException e) {
      return List.of();
    }
  }

  /**
   * The argv that runs {@code command} inside {@code layout} with {@code bwrap}, or as it is when
   * there is no layout; either way through {@code env -u} for every variable {@link #withheld}. The
   * variables go before bubblewrap starts: its own process, pid 1 inside the sandbox, is visible to
   * the command, {@code /proc/1/environ} included. setsid → env → bwrap → command stay one process
   * group: pausing the group pauses the sandboxed command.
   */
  static List<String> argv(List<String> command, Optional<SandboxLayout> layout, Optional<Path> bwrap,
      Collection<String> environment) {
    return argv(command, layout, bwrap, environment, Map.of());
  }

  /** As above, and {@code set} given to the command (after the unsets: {@code env -u ... -- NAME=VALUE ...}). */
  static List<String> argv(List<String> command, Optional<SandboxLayout> layout, Optional<Path> bwrap,
      Collection<String> environment, Map<String, String> set) {
    List<String> argv = new ArrayList<>();
    argv.add(Files.isExecutable(Path.of("/usr/bin/env")) ? "/usr/bin/env" : "env");
    Set<String> unset = new TreeSet<>(List.of("WARDEN_TOKEN", "SSH_AUTH_SOCK"));
    environment.stream().filter(AgentSandbox::withheld).forEach(unset::add);
    unset.forEach(name -> {
      argv.add("-u");
      argv.add(name);
    });
    argv.add("--");
    new java.util.TreeMap<>(set).forEach((name, value) -> argv.add(name + "=" + value));
    if (layout.isPresent()) {
      argv.addAll(Bubblewrap.argv(bwrap.orElseThrow(() -> new IllegalArgumentException("no bwrap to run the sandbox")),
          layout.get(), command));
    } else {
      argv.addAll(command);
    }
    return List.copyOf(argv);
  }


  /** The names of the variables the command would inherit (ours, and those given to this invocation). */
  private Set<String> environmentNames() {
    Set<String> names = new TreeSet<>(System.getenv().keySet());
    names.addAll(env.keySet());
    return names;
  }

  private Path home() {
    String home = env.getOrDefault("HOME", System.getProperty("user.home"));
    Path path = Path.of(home == null || home.isBlank() ? "/" : home);
    return path.isAbsolute() ? path : Path.of(System.getProperty("user.home"));
  }

  /** {@code GET /api/v1/features/{id}/sandbox}: the layout Warden wants the agent in. */
  private SandboxSpec sandboxSpec(HttpClient http, AgentCommand.Options options) throws AgentCommand.Refusal, InterruptedException {
    String answer;
    try {
      answer = new WardenClient(http, options.warden()).get("/api/v1/features/" + options.feature() + "/sandbox");
    } catch (WardenClient.Unreachable e) {
      throw new AgentCommand.Refusal(e.getMessage());
    } catch (WardenClient.Problem e) {
      throw new AgentCommand.Refusal("Warden gave no sandbox for feature " + options.feature() + ": "
          + AgentCommand.refusal(options.feature(), e.status(), e.detail()));
    }
    try {
      return SPEC_READER.readValue(answer, SandboxSpec.class);
    } catch (IOException | RuntimeException e) {
      // strict: a field this wrapper does not know may be a restriction it would not enforce
      throw new AgentCommand.Refusal("Warden's sandbox for feature " + options.feature() + " is not one this wrapper understands: "
          + e.getMessage());
    }
  }

  private static final com.fasterxml.jackson.databind.ObjectMapper SPEC_READER = new com.fasterxml.jackson.databind.ObjectMapper()
      .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
}
