package dev.warden.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Real git repositories for tests, made and inspected with the git CLI as a user would. */
public final class GitRepos {

  private GitRepos() {}

  /** A repository at {@code dir} with one commit on {@code main} (a.txt) and a branch {@code other}. */
  public static Path create(Path dir) {
    try {
      Files.createDirectories(dir);
      git(dir, "init", "-q", "-b", "main");
      Files.writeString(dir.resolve("a.txt"), "hello\n");
      git(dir, "add", "a.txt");
      git(dir, "-c", "user.email=t@example.com", "-c", "user.name=Test", "commit", "-q", "-m", "initial");
      git(dir, "branch", "other");
      return dir;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Runs git in {@code dir}; fails the test when git fails; returns stdout+stderr trimmed. */
  public static String git(Path dir, String... args) {
    Result result = tryGit(dir, args);
    if (result.exitCode() != 0) {
      throw new AssertionError("git " + String.join(" ", args) + " failed in " + dir + ": " + result.output());
    }
    return result.output();
  }

  public record Result(int exitCode, String output) {}

  public static Result tryGit(Path dir, String... args) {
    List<String> command = new ArrayList<>();
    command.add("git");
    command.add("-C");
    command.add(dir.toString());
    command.addAll(List.of(args));
    try {
      ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
      builder.environment().keySet().removeIf(key -> key.startsWith("GIT_"));
      Process process = builder.start();
      String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new AssertionError("git timed out");
      }
      return new Result(process.exitValue(), output);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Every ref of the repository with its commit, as {@code git for-each-ref} prints them. */
  public static String refs(Path repo) {
    return git(repo, "for-each-ref", "--format=%(refname) %(objectname)");
  }

  public static List<String> branches(Path repo) {
    String out = git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/");
    return out.isEmpty() ? List.of() : List.of(out.split("\n"));
  }
}
