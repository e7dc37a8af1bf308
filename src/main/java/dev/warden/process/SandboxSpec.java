package dev.warden.process;

import java.nio.file.Path;
import java.util.List;

/**
 * A {@link SandboxLayout} before {@code ~/} is resolved: the daemon decides the layout of an agent's
 * sandbox (it knows its data directory, the repository and the plan) and the wrapper, which runs as
 * the user whose home {@code ~/} means, resolves and enforces it. Also the JSON of
 * {@code GET /api/v1/features/{id}/sandbox}.
 */
public record SandboxSpec(
    String workdir,
    List<String> writable,
    List<String> hidden,
    List<String> readOnly,
    List<MountSpec> mounts,
    boolean network) {

  /** A writable {@code source} seen at {@code target} inside the sandbox (absolute paths). */
  public record MountSpec(String source, String target) {}

  public SandboxSpec {
    writable = List.copyOf(writable);
    hidden = List.copyOf(hidden);
    readOnly = List.copyOf(readOnly);
    mounts = List.copyOf(mounts);
  }

  /** The layout for a user whose home directory is {@code home}. */
  public SandboxLayout resolve(Path home) {
    return new SandboxLayout(
        Path.of(workdir),
        SandboxPaths.resolveAll(writable, home),
        SandboxPaths.resolveAll(hidden, home),
        SandboxPaths.resolveAll(readOnly, home),
        mounts.stream().map(m -> new SandboxLayout.Mount(Path.of(m.source()), Path.of(m.target()))).toList(),
        network);
  }
}
