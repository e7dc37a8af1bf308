package dev.warden.process;

import dev.warden.CborSerializable;
import java.util.List;
import java.util.Optional;

/**
 * A plan's {@code sandbox} section: what its agent and its checks may reach beyond the defaults.
 * Paths are absolute or start with {@code ~/} (the home directory of whoever runs the sandbox: the
 * user running {@code warden agent}, or the daemon's user for checks). Stored in the feature's plan
 * events: add fields as {@code Optional}, never rename.
 *
 * @param agentNetwork the agent's network (default on: it talks to its model)
 * @param checkNetwork the network of checks and tests (default off)
 * @param writable extra writable paths, for the agent and for checks
 * @param hidden extra paths hidden from the agent and from checks, on top of Warden's defaults
 * @param homeWritable the agent CLI's own directories under the home directory, writable for the agent;
 *     absent: Warden's default list ({@code warden.sandbox.agent-home-writable})
 */
public record SandboxRules(
    Optional<Boolean> agentNetwork,
    Optional<Boolean> checkNetwork,
    List<String> writable,
    List<String> hidden,
    Optional<List<String>> homeWritable) implements CborSerializable {

  public SandboxRules {
    agentNetwork = agentNetwork == null ? Optional.empty() : agentNetwork;
    checkNetwork = checkNetwork == null ? Optional.empty() : checkNetwork;
    writable = writable == null ? List.of() : List.copyOf(writable);
    hidden = hidden == null ? List.of() : List.copyOf(hidden);
    homeWritable = homeWritable == null ? Optional.empty() : homeWritable.map(List::copyOf);
  }

  public static SandboxRules defaults() {
    return new SandboxRules(Optional.empty(), Optional.empty(), List.of(), List.of(), Optional.empty());
  }

  public boolean agentHasNetwork() {
    return agentNetwork.orElse(true);
  }

  public boolean checksHaveNetwork() {
    return checkNetwork.orElse(false);
  }

  /** True when these rules give more than the defaults (network for checks, any writable path). */
  public boolean widens() {
    return checksHaveNetwork() || !writable.isEmpty() || homeWritable.isPresent();
  }

  /**
   * What is wrong with {@code spec} as a sandbox path, or empty when it is fine: it must be absolute
   * or start with {@code ~/}, hold no {@code ..} segment, no NUL or control character, and name
   * something below the root (or below the home directory).
   */
  public static Optional<String> problem(String spec) {
    if (spec == null || spec.isBlank()) {
      return Optional.of("must not be empty");
    }
    if (spec.length() > 4096) {
      return Optional.of("is longer than 4096 characters");
    }
    for (int i = 0; i < spec.length(); i++) {
      if (Character.isISOControl(spec.charAt(i))) {
        return Optional.of("must not contain control characters");
      }
    }
    if (!spec.startsWith("/") && !spec.startsWith("~/")) {
      return Optional.of("must be an absolute path or start with ~/");
    }
    String rest = spec.startsWith("~/") ? spec.substring(2) : spec.substring(1);
    for (String segment : rest.split("/")) {
      if (segment.equals("..") || segment.equals(".")) {
        return Optional.of("must not contain '.' or '..' segments");
      }
    }
    if (rest.replace("/", "").isEmpty()) {
      return Optional.of(spec.startsWith("~") ? "must name something inside the home directory, not all of it"
          : "must name something below /, not the whole filesystem");
    }
    return Optional.empty();
  }
}
