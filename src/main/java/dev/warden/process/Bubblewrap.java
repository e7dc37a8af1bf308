package dev.warden.process;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a command inside a {@link SandboxLayout} with bubblewrap ({@code bwrap}, Debian package
 * {@code bubblewrap}). The command gets new PID, IPC, UTS and cgroup namespaces (it cannot see or
 * signal Warden or any other process), no capabilities even when Warden runs as root (root without
 * {@code --cap-drop ALL} could simply remount the filesystem writable), {@code no_new_privs}
 * (bwrap's own: setuid programs do not raise privileges), and a network namespace of its own with
 * only loopback when the layout says network off.
 *
 * <p>bwrap forks the command; both stay in the process group that {@code setsid} gave bwrap, so a
 * SIGSTOP/SIGCONT to that group pauses and resumes the sandboxed command as before. That is why
 * {@code --new-session} is not used: the group is already a session of its own without a
 * controlling terminal, so the terminal cannot be driven from inside either. {@code --die-with-parent}
 * ends the sandbox when whoever started it dies.
 */
public final class Bubblewrap {

  private static final Logger log = LoggerFactory.getLogger(Bubblewrap.class);
  private static final List<String> USUAL = List.of("/usr/bin/bwrap", "/bin/bwrap");

  private static volatile Optional<Availability> probed;

  /** Whether bubblewrap can be used here, and if not, why. */
  public record Availability(Optional<Path> executable, String problem) {
    public boolean usable() {
      return executable.isPresent();
    }
  }

  private Bubblewrap() {}

  /**
   * Finds bwrap and proves it works here once per JVM (user namespaces may be disabled, or a
   * container may forbid mounts): a sandbox that cannot start is reported as missing, never used.
   */
  public static Availability availability() {
    Optional<Availability> known = probed;
    if (known == null) {
      synchronized (Bubblewrap.class) {
        known = probed;
        if (known == null) {
          known = Optional.of(probe());
          probed = known;
          if (!known.get().usable()) {
            log.warn("sandbox unavailable: {}", known.get().problem());
          }
        }
      }
    }
    return known.get();
  }

  private static Availability probe() {
    Optional<Path> found = find();
    if (found.isEmpty()) {
      return new Availability(Optional.empty(),
          "bwrap not found in " + USUAL + " or on PATH (Debian: apt-get install bubblewrap)");
    }
    List<String> argv = argv(found.get(), SandboxLayout.workdirOnly(Path.of("/"), false), List.of("true"));
    try {
      Process process = new ProcessBuilder(argv).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
      byte[] output = process.getInputStream().readNBytes(4096);
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        return new Availability(Optional.empty(), found.get() + " did not finish a trial run within 10 s");
      }
      if (process.exitValue() != 0) {
        return new Availability(Optional.empty(), found.get() + " cannot create a sandbox here (exit " + process.exitValue()
            + "): " + new String(output, StandardCharsets.UTF_8).strip());
      }
      return new Availability(found, "");
    } catch (IOException e) {
      return new Availability(Optional.empty(), "cannot run " + found.get() + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Availability(Optional.empty(), "interrupted while trying " + found.get());
    }
  }

  private static Optional<Path> find() {
    return Executables.find("bwrap", USUAL);
  }

  /** The full argv that runs {@code command} inside {@code layout}. */
  public static List<String> argv(Path bwrap, SandboxLayout layout, List<String> command) {
    if (command.isEmpty()) {
      throw new IllegalArgumentException("no command to run");
    }
    List<String> argv = new ArrayList<>();
    argv.add(bwrap.toString());
    argv.addAll(List.of("--die-with-parent", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"));
    if (!layout.network()) {
      argv.add("--unshare-net");
    }
    argv.addAll(List.of("--cap-drop", "ALL"));
    argv.addAll(List.of("--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"));
    argv.addAll(List.of("--tmpfs", "/tmp", "--tmpfs", "/var/tmp", "--tmpfs", "/dev/shm"));
    for (Path path : layout.extraWritable()) {
      real(path).ifPresent(p -> argv.addAll(List.of("--bind", p, p)));
    }
    for (Path path : layout.hidden()) {
      real(path).ifPresent(p -> {
        if (Files.isDirectory(Path.of(p))) {
          argv.addAll(List.of("--tmpfs", p));
        } else {
          argv.addAll(List.of("--ro-bind", "/dev/null", p));
        }
      });
    }
    String workdir = real(layout.workdir()).orElseThrow(
        () -> new IllegalArgumentException("the sandbox's working directory " + layout.workdir() + " does not exist"));
    argv.addAll(List.of("--bind", workdir, workdir));
    for (Path path : layout.readOnly()) {
      real(path).ifPresent(p -> argv.addAll(List.of("--ro-bind", p, p)));
    }
    for (SandboxLayout.Mount mount : layout.mounts()) {
      String source = real(mount.source()).orElseThrow(
          () -> new IllegalArgumentException("the sandbox mount " + mount.source() + " does not exist"));
      String target = real(mount.target()).orElse(mount.target().toString());
      argv.addAll(List.of("--bind", source, target));
    }
    argv.addAll(List.of("--chdir", workdir, "--"));
    argv.addAll(command);
    return List.copyOf(argv);
  }

  /** The path with symlinks resolved (mount targets must be real), or empty when it does not exist. */
  private static Optional<String> real(Path path) {
    if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
      return Optional.empty();
    }
    try {
      return Optional.of(path.toRealPath().toString());
    } catch (IOException e) {
      return Optional.empty(); // a dangling link: nothing to expose or hide
    }
  }
}
