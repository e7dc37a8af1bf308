package dev.warden.git;

import java.nio.file.Path;

/**
 * A repository Warden accepted: {@code root} is the real path the operator named (symlinks and
 * {@code ..} resolved), {@code gitDir} its git directory ({@code root/.git}, or {@code root} itself
 * when bare).
 */
public record SupervisedRepository(Path root, Path gitDir) {}
