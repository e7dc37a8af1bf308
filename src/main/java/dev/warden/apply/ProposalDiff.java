package dev.warden.apply;

import dev.warden.Rejection;
import dev.warden.git.GitCli;
import dev.warden.git.GitFailure;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What a proposal would change on its target: the merge base of the checkpoint and the target's
 * head, and each changed path with its line counts ({@code git diff --numstat}), or the unified diff
 * text. Plain blocking git CLI work; external diff drivers and text conversion are off, so nothing a
 * repository's configuration names is run.
 */
public final class ProposalDiff {

  private static final List<String> SAFE_DIFF = List.of("-c", "core.quotePath=false", "diff", "--no-color", "--no-ext-diff",
      "--no-textconv", "--no-renames");

  /** One changed path; binary files count 0 lines. */
  public record PathStat(String path, long added, long deleted) {}

  public record Stats(String base, List<PathStat> paths) {
    public Stats {
      paths = List.copyOf(paths);
    }

    public long lines() {
      return paths.stream().mapToLong(p -> p.added() + p.deleted()).sum();
    }
  }

  private final GitCli git;

  public ProposalDiff(GitCli git) {
    this.git = git;
  }

  /** The base and the changed paths of {@code commit} against branch {@code target}. */
  public Stats stats(Path gitDir, String target, String commit) {
    String head = resolve(gitDir, "refs/heads/" + target)
        .orElseThrow(() -> Rejection.conflict("the target branch " + target + " does not exist any more"));
    GitCli.Result mergeBase = git.run(gitDir, List.of("merge-base", head, commit));
    if (!mergeBase.ok()) {
      throw Rejection.conflict("checkpoint " + commit + " shares no history with " + target);
    }
    String base = mergeBase.output().strip();
    List<String> args = new ArrayList<>(SAFE_DIFF);
    args.addAll(List.of("--numstat", "-z", base, commit));
    GitCli.Result numstat = git.run(gitDir, args);
    if (!numstat.ok()) {
      throw new GitFailure("git diff --numstat " + base + " " + commit + " failed: " + numstat.output());
    }
    return new Stats(base, parseNumstat(numstat.output()));
  }

  /** The unified diff of {@code base..commit}, cut after {@code maxBytes} with a line saying so. */
  public String text(Path gitDir, String base, String commit, long maxBytes) {
    List<String> args = new ArrayList<>(SAFE_DIFF);
    args.addAll(List.of(base, commit));
    GitCli.Result diff = git.run(gitDir, args);
    if (!diff.ok()) {
      throw new GitFailure("git diff " + base + " " + commit + " failed: " + diff.output());
    }
    byte[] bytes = diff.output().getBytes(StandardCharsets.UTF_8);
    if (bytes.length <= maxBytes) {
      return diff.output();
    }
    String cut = new String(bytes, 0, (int) maxBytes, StandardCharsets.UTF_8);
    return cut.substring(0, Math.max(0, cut.lastIndexOf('\n') + 1))
        + "\n[warden: diff cut at " + maxBytes + " of " + bytes.length + " bytes]\n";
  }

  /** {@code added TAB deleted TAB path NUL} per file ({@code -} counts for binary files). */
  static List<PathStat> parseNumstat(String output) {
    List<PathStat> paths = new ArrayList<>();
    for (String record : output.split("\0")) {
      String line = record.strip().isEmpty() ? "" : record.replaceFirst("^\n+", "");
      if (line.isEmpty()) {
        continue;
      }
      String[] parts = line.split("\t", 3);
      if (parts.length < 3) {
        continue;
      }
      paths.add(new PathStat(parts[2], count(parts[0]), count(parts[1])));
    }
    return paths;
  }

  private static long count(String field) {
    return field.equals("-") ? 0 : Long.parseLong(field.strip());
  }

  private java.util.Optional<String> resolve(Path gitDir, String ref) {
    GitCli.Result result = git.run(gitDir, List.of("rev-parse", "--verify", "--quiet", ref + "^{commit}"));
    return result.ok() ? java.util.Optional.of(result.output().strip()) : java.util.Optional.empty();
  }
}
