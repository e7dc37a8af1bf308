package dev.warden.process;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What a sandboxed command may see and touch, independent of the tool that enforces it
 * ({@link Bubblewrap}). The whole filesystem is read-only; {@code /tmp}, {@code /var/tmp} and
 * {@code /dev/shm} are private and empty. On top of that, in this order (a later entry wins where
 * two overlap):
 * <ol>
 *   <li>{@code extraWritable}: writable paths a plan or the defaults add (an agent CLI's own config
 *       and cache directories under the home directory);
 *   <li>{@code hidden}: paths replaced by an empty directory (or an empty file): Warden's data
 *       directory, its configuration, credentials under the home directory. Hidden wins over
 *       {@code extraWritable}, so no plan can re-expose Warden's data by making a parent writable;
 *   <li>{@code workdir}: the one directory the command works in, writable, even where it lies inside
 *       a hidden one (a feature's worktree lives in the data directory);
 *   <li>{@code readOnly}: paths bound again read-only after all that: the repository's git directory
 *       (git in the worktree needs its objects even when the repository lies under {@code /tmp}), and
 *       single files inside the workdir the command must not rewrite (the worktree's {@code .git} link);
 *   <li>{@code mounts}: writable directories placed at another path, last of all (a private git
 *       directory over the worktree's admin directory, so {@code git commit} works without any write
 *       to the repository).
 * </ol>
 * Paths that do not exist are skipped, except {@code workdir}.
 */
public record SandboxLayout(
    Path workdir,
    List<Path> extraWritable,
    List<Path> hidden,
    List<Path> readOnly,
    List<Mount> mounts,
    boolean network) {

  /** A writable directory {@code source} seen inside the sandbox at {@code target}. */
  public record Mount(Path source, Path target) {
    public Mount {
      source = absolute(source, "mount source");
      target = absolute(target, "mount target");
    }
  }

  public SandboxLayout {
    workdir = absolute(workdir, "workdir");
    extraWritable = absolutes(extraWritable, "writable path");
    hidden = absolutes(hidden, "hidden path");
    readOnly = absolutes(readOnly, "read-only path");
    mounts = List.copyOf(mounts);
    for (Path path : extraWritable) {
      if (path.getParent() == null) {
        throw new IllegalArgumentException("the whole filesystem cannot be made writable");
      }
    }
  }

  /** A layout with only {@code workdir} writable. */
  public static SandboxLayout workdirOnly(Path workdir, boolean network) {
    return new SandboxLayout(workdir, List.of(), List.of(), List.of(), List.of(), network);
  }

  public SandboxLayout withHidden(List<Path> more) {
    return new SandboxLayout(workdir, extraWritable, concat(hidden, more), readOnly, mounts, network);
  }

  public SandboxLayout withExtraWritable(List<Path> more) {
    return new SandboxLayout(workdir, concat(extraWritable, more), hidden, readOnly, mounts, network);
  }

  public SandboxLayout withReadOnly(List<Path> more) {
    return new SandboxLayout(workdir, extraWritable, hidden, concat(readOnly, more), mounts, network);
  }

  public SandboxLayout withMount(Mount mount) {
    List<Mount> all = new ArrayList<>(mounts);
    all.add(mount);
    return new SandboxLayout(workdir, extraWritable, hidden, readOnly, all, network);
  }

  /** One line for logs and check results: what the command could write and what it could not see. */
  public String describe() {
    StringBuilder text = new StringBuilder("sandbox: writable ").append(workdir);
    extraWritable.forEach(p -> text.append(", ").append(p));
    mounts.forEach(m -> text.append(", ").append(m.target()));
    text.append("; everything else read-only; private /tmp");
    if (!hidden.isEmpty()) {
      text.append("; hidden ");
      text.append(String.join(", ", hidden.stream().map(Path::toString).toList()));
    }
    text.append("; network ").append(network ? "on" : "off");
    return text.toString();
  }

  private static List<Path> concat(List<Path> a, List<Path> b) {
    List<Path> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }

  private static List<Path> absolutes(List<Path> paths, String what) {
    return paths.stream().map(p -> absolute(p, what)).distinct().toList();
  }

  private static Path absolute(Path path, String what) {
    Objects.requireNonNull(path, what);
    if (!path.isAbsolute()) {
      throw new IllegalArgumentException(what + " must be absolute: " + path);
    }
    Path normal = path.normalize();
    if (!normal.equals(path) && path.toString().contains("..")) {
      throw new IllegalArgumentException(what + " must not contain '..': " + path);
    }
    return normal;
  }
}
