package dev.warden.process;

import java.nio.file.Path;
import java.util.List;

/** Turns sandbox path specs ({@code /abs/path} or {@code ~/in/home}) into paths for one home directory. */
public final class SandboxPaths {

  private SandboxPaths() {}

  /** {@code spec} as a path, {@code ~/} replaced by {@code home}; specs must have passed {@link SandboxRules#problem}. */
  public static Path resolve(String spec, Path home) {
    if (SandboxRules.problem(spec).isPresent()) {
      throw new IllegalArgumentException("not a sandbox path: " + spec + " (" + SandboxRules.problem(spec).get() + ")");
    }
    return spec.startsWith("~/") ? home.resolve(spec.substring(2)).normalize() : Path.of(spec).normalize();
  }

  public static List<Path> resolveAll(List<String> specs, Path home) {
    return specs.stream().map(spec -> resolve(spec, home)).toList();
  }
}
