package dev.warden.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warden.git.PrivateGitDir;
import dev.warden.testing.GitRepos;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sandbox as a hostile command meets it: real bubblewrap, a real repository with a linked
 * worktree inside a data directory that also holds a token. {@code .ci/run} installs bubblewrap; a
 * machine without it fails here rather than skipping, since every containment guarantee rests on it.
 */
class BubblewrapTest {

  @TempDir Path tmp;

  @BeforeAll
  static void bubblewrapWorksHere() {
    Bubblewrap.Availability availability = Bubblewrap.availability();
    assertTrue(availability.usable(), "bubblewrap must work on this machine: " + availability.problem());
  }

  record Run(int exit, String output) {}

  private Run run(SandboxLayout layout, String script) throws IOException, InterruptedException {
    List<String> argv = new ArrayList<>(Bubblewrap.argv(Bubblewrap.availability().executable().orElseThrow(), layout,
        List.of("sh", "-c", script)));
    Process process = new ProcessBuilder(argv).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(process.waitFor(30, TimeUnit.SECONDS));
    return new Run(process.exitValue(), output);
  }

  /** A repository, a data dir with a token, the feature's worktree and its private git dir inside it. */
  private record Setup(Path repo, Path data, Path worktree, Path privateGit, Path admin) {}

  private Setup setup() throws IOException {
    Path repo = GitRepos.create(tmp.resolve("repo"));
    Path data = Files.createDirectories(tmp.resolve("data"));
    Files.writeString(data.resolve("admin.token"), "wdn_secret_token\n");
    Files.createDirectories(data.resolve("db"));
    Files.writeString(data.resolve("db").resolve("warden.mv.db"), "journal");
    GitRepos.git(repo, "branch", "warden/f1");
    Path worktree = data.resolve("worktrees").resolve("f1");
    GitRepos.git(repo, "worktree", "add", "-q", worktree.toString(), "warden/f1");
    Path admin = repo.resolve(".git").resolve("worktrees").resolve("f1");
    Path privateGit = data.resolve("agent-git").resolve("f1");
    PrivateGitDir.prepare(repo.resolve(".git"), admin, privateGit, "warden/f1");
    return new Setup(repo, data, worktree, privateGit, admin);
  }

  private SandboxLayout agentLayout(Setup s, boolean network) {
    SandboxPolicy policy = new SandboxPolicy(SandboxPolicy.Settings.defaults(), s.data(), List.of());
    SandboxRules rules = new SandboxRules(Optional.of(network), Optional.empty(), List.of(), List.of(), Optional.of(List.of()));
    return policy.agentSpec(s.worktree(), s.repo().resolve(".git"), s.admin(), s.privateGit(), rules).resolve(tmp.resolve("home"));
  }

  @Test
  void theAgentWritesItsWorktreeAndCommitsButCannotMoveMainReadTokensOrWriteElsewhere() throws Exception {
    Setup s = setup();
    String mainBefore = GitRepos.git(s.repo(), "rev-parse", "main");
    String hooksBefore = GitRepos.git(s.repo(), "config", "--list", "--local");
    Run run = run(agentLayout(s, false), String.join("\n",
        "echo work > feature.txt && echo WROTE_WORKTREE",
        "git add feature.txt && git -c user.email=a@b -c user.name=agent commit -qm 'agent work' && echo COMMITTED",
        "git log --oneline -1",
        "git -C " + s.repo() + " update-ref refs/heads/main HEAD && echo MOVED_MAIN",
        "git update-ref refs/heads/main HEAD; git -C " + s.repo() + " rev-parse main",
        "echo evil > " + s.repo() + "/.git/hooks/post-checkout && echo WROTE_HOOK",
        "git -C " + s.repo() + " config core.fsmonitor /evil && echo WROTE_CONFIG",
        "cat " + s.data() + "/admin.token && echo READ_TOKEN",
        "cat " + s.data() + "/db/warden.mv.db && echo READ_JOURNAL",
        "echo x > " + s.repo() + "/x.txt && echo WROTE_REPO",
        "echo 'gitdir: /tmp/evil' > .git && echo REWROTE_GITLINK",
        "echo x > /tmp/x && echo TMP_PRIVATE_OK",
        "kill -0 1; echo pid1=$?"));
    String out = run.output();
    assertTrue(out.contains("WROTE_WORKTREE"), out);
    assertTrue(out.contains("COMMITTED"), out);
    assertTrue(out.contains("TMP_PRIVATE_OK"), out);
    // the repository lies under /tmp here, which is private inside: a write lands in the sandbox's own tmpfs
    assertFalse(Files.exists(s.repo().resolve("x.txt")), "the sandbox wrote into the user's clone");
    for (String escaped : List.of("MOVED_MAIN", "WROTE_HOOK", "WROTE_CONFIG", "READ_TOKEN", "READ_JOURNAL",
        "REWROTE_GITLINK", "wdn_secret_token")) {
      assertFalse(out.contains(escaped), escaped + " succeeded inside the sandbox:\n" + out);
    }
    assertEquals(mainBefore, GitRepos.git(s.repo(), "rev-parse", "main"), "main moved");
    assertEquals(mainBefore, GitRepos.git(s.repo(), "rev-parse", "warden/f1"), "the repository's feature branch moved");
    assertEquals(hooksBefore, GitRepos.git(s.repo(), "config", "--list", "--local"));
    assertFalse(Files.exists(s.repo().resolve(".git/hooks/post-checkout")));
    assertEquals("work\n", Files.readString(s.worktree().resolve("feature.txt")), "the agent's work is on disk");
    assertTrue(Files.readString(s.worktree().resolve(".git")).contains(s.admin().toString()), "the .git link is intact");
    assertTrue(Files.exists(s.privateGit().resolve("refs/heads/warden/f1")), "the agent's commit is in its private git dir");
    assertFalse(GitRepos.git(s.privateGit(), "rev-parse", "refs/heads/warden/f1").equals(mainBefore));
  }

  @Test
  void withoutNetworkOnlyLoopbackExists() throws Exception {
    Setup s = setup();
    Run off = run(agentLayout(s, false), "cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '");
    assertEquals("lo", off.output().strip(), off.output());
    Run on = run(agentLayout(s, true), "cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '");
    assertTrue(on.output().strip().lines().count() >= 1, on.output());
  }

  @Test
  void rootInsideHasNoCapabilitiesAndCannotRemount() throws Exception {
    Setup s = setup();
    Run run = run(agentLayout(s, false), "grep CapEff /proc/self/status; mount -o remount,rw / && echo REMOUNTED; touch /etc/warden-escape && echo WROTE_ETC");
    assertTrue(run.output().contains("CapEff:\t0000000000000000"), run.output());
    assertFalse(run.output().contains("REMOUNTED"), run.output());
    assertFalse(run.output().contains("WROTE_ETC"), run.output());
    assertFalse(Files.exists(Path.of("/etc/warden-escape")));
  }

  @Test
  void hiddenPathsWinOverAWritableParent() throws Exception {
    Setup s = setup();
    // a plan that makes the data dir's parent writable still cannot reach the data dir
    SandboxLayout layout = agentLayout(s, false).withExtraWritable(List.of(tmp));
    Run run = run(layout, "cat " + s.data() + "/admin.token && echo READ_TOKEN; echo y > " + tmp + "/outside.txt && echo WROTE_PARENT");
    assertFalse(run.output().contains("READ_TOKEN"), run.output());
    assertTrue(run.output().contains("WROTE_PARENT"), run.output());
  }

  @Test
  void theExitStatusIsTheCommands() throws Exception {
    Setup s = setup();
    assertEquals(7, run(agentLayout(s, false), "exit 7").exit());
  }

  @Test
  void aPrivateGitDirThatTheAgentTurnedIntoALinkIsStartedAfresh() throws Exception {
    Setup s = setup();
    Path elsewhere = Files.createDirectories(tmp.resolve("elsewhere"));
    Path objects = s.privateGit().resolve("objects");
    dev.warden.git.Directories.deleteTree(objects);
    Files.createSymbolicLink(objects, elsewhere);
    PrivateGitDir.prepare(s.repo().resolve(".git"), s.admin(), s.privateGit(), "warden/f1");
    assertFalse(Files.exists(elsewhere.resolve("info")), "Warden wrote through the agent's link");
    assertFalse(Files.isSymbolicLink(objects));
    assertEquals(GitRepos.git(s.repo(), "rev-parse", "main"), GitRepos.git(s.privateGit(), "rev-parse", "main"));
  }

  @Test
  void aLinkTheAgentLeftAtWardensTemporaryNameIsReplacedNotWrittenThrough() throws Exception {
    Setup s = setup();
    Path victim = Files.writeString(tmp.resolve("victim.txt"), "the user's file\n");
    Files.createSymbolicLink(s.privateGit().resolve("config.tmp"), victim);
    Files.createSymbolicLink(s.privateGit().resolve("packed-refs.tmp"), victim);
    PrivateGitDir.prepare(s.repo().resolve(".git"), s.admin(), s.privateGit(), "warden/f1");
    assertEquals("the user's file\n", Files.readString(victim), "Warden wrote through the agent's link");
    assertTrue(Files.readString(s.privateGit().resolve("config")).contains("[core]"));
  }
}
