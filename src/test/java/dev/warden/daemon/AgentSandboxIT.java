package dev.warden.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.warden.cli.AgentCommand;
import dev.warden.process.Bubblewrap;
import dev.warden.testing.FeedClient;
import dev.warden.testing.GitRepos;
import dev.warden.testing.RunningDaemon;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code bin/warden agent} against the real daemon, with real bubblewrap: a hostile agent cannot move
 * {@code main}, write the repository's hooks or config, read the tokens or the journal, write outside its
 * worktree or see {@code WARDEN_TOKEN}, while its own work (files, {@code git commit}, checkpoints, the
 * proposal, landing after approval) goes through; pausing still stops it; {@code --no-sandbox} is marked.
 */
class AgentSandboxIT {

  private static final String ADMIN_SECRET = "wdn_admin_" + UUID.randomUUID().toString().replace("-", "");

  /**
   * Not under /tmp: inside the sandbox /tmp is private, so a write to a repository there would land in
   * the sandbox's own tmpfs and prove nothing. Here, as in a user's home, the files are really there,
   * read-only.
   */
  private static Path tmp;
  private static RunningDaemon daemon;
  private static Path repos;
  private static Path data;

  @BeforeAll
  static void start() throws Exception {
    assertTrue(Bubblewrap.availability().usable(), "bubblewrap must work here: " + Bubblewrap.availability().problem());
    tmp = Files.createTempDirectory(Files.createDirectories(Path.of("target", "it-sandbox")), "run-").toAbsolutePath().toRealPath();
    repos = Files.createDirectories(tmp.resolve("repos"));
    data = tmp.resolve("data");
    daemon = RunningDaemon.start(RunningDaemon.config(data, "", "", "", List.of(repos), true)).awaitReady();
    // the tokens come from the config here; the bootstrap token file is what a real data dir holds
    Files.writeString(data.resolve("admin.token"), ADMIN_SECRET + "\n");
  }

  @AfterAll
  static void stop() {
    if (daemon != null) {
      daemon.close();
    }
    dev.warden.git.Directories.deleteTree(tmp);
  }

  private record Created(String id, Path repo, Path worktree) {}

  /** A feature on a repository whose user has {@code other} checked out, so landing may move main. */
  private Created feature() throws Exception {
    String id = "s-" + UUID.randomUUID().toString().substring(0, 8);
    Path repo = GitRepos.create(repos.resolve(id)).toRealPath();
    GitRepos.git(repo, "checkout", "-q", "other");
    RunningDaemon.Response created = daemon.post("/api/v1/features", RunningDaemon.AGENT,
        "{\"id\":\"" + id + "\",\"repo\":\"" + repo + "\",\"target\":\"main\"}");
    assertEquals(201, created.status(), created.body());
    return new Created(id, repo, Path.of(created.json().get("worktree").asText()));
  }

  private String server() {
    return "http://127.0.0.1:" + daemon.daemon().httpAddress().getPort();
  }

  private JsonNode feature(String id) {
    return daemon.get("/api/v1/features/" + id, RunningDaemon.VIEWER).json();
  }

  private static void await(String what, int millis, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + millis * 1_000_000L;
    while (System.nanoTime() < deadline && !condition.getAsBoolean()) {
      Thread.sleep(50);
    }
    assertTrue(condition.getAsBoolean(), what + " within " + millis + " ms");
  }

  /** {@code bin/warden agent} as a user runs it: its own JVM, the agent token in WARDEN_TOKEN. */
  private static String wrapperProcess(String server, String id, Path cwd, String script) throws Exception {
    List<String> argv = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
        "-cp", System.getProperty("java.class.path"), "dev.warden.Main", "agent", "--feature", id, "--", "sh", "-c", script));
    ProcessBuilder builder = new ProcessBuilder(argv).directory(cwd.toFile()).redirectErrorStream(true)
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    builder.environment().put("WARDEN_TOKEN", RunningDaemon.AGENT);
    builder.environment().put("WARDEN_URL", server);
    Process process = builder.start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the wrapper ended");
    assertEquals(0, process.exitValue(), "the wrapper's exit is the script's (0):\n" + output);
    return output;
  }

  private static String hooks(Path repo) throws IOException {
    try (Stream<Path> files = Files.list(repo.resolve(".git/hooks"))) {
      return files.map(p -> p.getFileName().toString()).sorted().toList().toString();
    }
  }

  private static String readOrEmpty(Path file) throws IOException {
    return Files.isRegularFile(file) ? Files.readString(file) : "";
  }

  @Test
  void aHostileAgentFailsAtEveryEscapeWhileItsOwnWorkCommitsIsCheckpointedProposedAndLands() throws Exception {
    Created f = feature();
    Created other = feature(); // another feature's worktree, in the same data dir
    String mainBefore = GitRepos.git(f.repo(), "rev-parse", "main");
    String configBefore = Files.readString(f.repo().resolve(".git/config"));
    String hooksBefore = hooks(f.repo());
    Path userGitConfig = Path.of(System.getProperty("user.home"), ".gitconfig");
    String userConfigBefore = readOrEmpty(userGitConfig);
    Path journal = data.resolve("db").resolve("warden.mv.db");
    assertTrue(Files.exists(journal), "the H2 journal is where the test looks for it");

    String script = String.join("\n",
        // the token the wrapper was given, and anything Warden's in the environment
        "echo \"TOKEN=${WARDEN_TOKEN:-unset}\"",
        "env | grep -q '^WARDEN_' && echo SAW_WARDEN_ENV",
        "cat /proc/[0-9]*/environ /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' '\\n' | grep -q '^WARDEN_TOKEN=' && echo SAW_TOKEN_IN_PROC",
        // moving main, writing the repository's hooks and config, the user's git config
        "git -C " + f.repo() + " update-ref refs/heads/main HEAD 2>/dev/null && echo MOVED_MAIN",
        "git -C " + f.repo() + " branch -f main HEAD 2>/dev/null && echo MOVED_MAIN",
        "(echo 'curl evil' > " + f.repo() + "/.git/hooks/pre-commit) 2>/dev/null && echo WROTE_HOOK",
        "git -C " + f.repo() + " config core.hooksPath /tmp/evil 2>/dev/null && echo WROTE_CONFIG",
        "git config --global core.fsmonitor /tmp/evil 2>/dev/null && echo WROTE_USER_CONFIG",
        "(true >> " + userGitConfig + ") 2>/dev/null && echo OPENED_USER_CONFIG",
        // the tokens and the journal
        "cat " + data.resolve("admin.token") + " 2>/dev/null && echo READ_TOKEN",
        "cat " + journal + " > /dev/null 2>&1 && echo READ_JOURNAL",
        // writing outside the worktree: the user's clone, Warden's data dir, another feature's worktree
        "(echo x > " + f.repo() + "/outside.txt) 2>/dev/null && echo WROTE_CLONE",
        "(echo x > " + data.resolve("planted.txt") + ") 2>/dev/null",
        "(echo x > " + other.worktree().resolve("planted.txt") + ") 2>/dev/null",
        "(echo x > /etc/warden-escape) 2>/dev/null && echo WROTE_ETC",
        "(echo 'gitdir: /tmp/evil' > .git) 2>/dev/null && echo REWROTE_GITLINK",
        // its own work
        "echo hello > feature.txt && mkdir -p src && echo code > src/app.txt && echo WROTE_WORK",
        "git add feature.txt src/app.txt && git -c user.email=a@b -c user.name=agent commit -qm 'agent work' && echo COMMITTED",
        "git status --short",
        "git log --oneline -1",
        "exit 0");
    String output = wrapperProcess(server(), f.id(), f.repo(), script);

    assertTrue(output.contains("TOKEN=unset"), output);
    assertTrue(output.contains("WROTE_WORK"), output);
    assertTrue(output.contains("COMMITTED"), output);
    assertTrue(output.contains("agent work"), "git log shows the agent's commit: " + output);
    // WROTE_CLONE is judged on the host below, not on the marker: where the clone lies under /tmp (a checkout
    // of this project in /tmp, as CI's may be), the write lands in the sandbox's private /tmp and succeeds there
    for (String escaped : List.of("SAW_WARDEN_ENV", "SAW_TOKEN_IN_PROC", "MOVED_MAIN", "WROTE_HOOK", "WROTE_CONFIG",
        "WROTE_USER_CONFIG", "OPENED_USER_CONFIG", "READ_TOKEN", "READ_JOURNAL", "WROTE_ETC", "REWROTE_GITLINK",
        RunningDaemon.AGENT, ADMIN_SECRET)) {
      assertFalse(output.contains(escaped), escaped + " got through the sandbox:\n" + output);
    }
    assertEquals(mainBefore, GitRepos.git(f.repo(), "rev-parse", "main"), "main moved");
    assertEquals(configBefore, Files.readString(f.repo().resolve(".git/config")), "the repository's config changed");
    assertEquals(hooksBefore, hooks(f.repo()), "the repository's hooks changed");
    assertEquals(userConfigBefore, readOrEmpty(userGitConfig), "the user's git config changed");
    assertFalse(Files.exists(f.repo().resolve("outside.txt")), "the agent wrote into the user's clone");
    assertFalse(Files.exists(data.resolve("planted.txt")));
    assertFalse(Files.exists(other.worktree().resolve("planted.txt")), "it wrote into another feature's worktree");
    assertFalse(Files.exists(Path.of("/etc/warden-escape")));
    assertTrue(Files.readString(f.worktree().resolve(".git")).startsWith("gitdir: "), "the worktree's .git link is intact");
    // the agent's commit lives in its private git dir, not in the repository's branch
    assertEquals(mainBefore, GitRepos.git(f.repo(), "rev-parse", "warden/" + f.id()));
    assertTrue(Files.isDirectory(data.resolve("agent-git").resolve(f.id())), "the private git dir");

    // the feature's own work goes on as usual: marked sandboxed, checkpointed, proposed, approved, landed
    await("the feature proposed", 20_000, () -> feature(f.id()).get("status").asText().equals("proposed"));
    JsonNode view = feature(f.id());
    assertFalse(view.get("unsandboxed").asBoolean(), view.toString());
    assertTrue(view.get("lastRun").get("sandboxed").asBoolean(), view.toString());
    JsonNode checkpoints = daemon.get("/api/v1/features/" + f.id() + "/checkpoints", RunningDaemon.VIEWER).json();
    JsonNode last = checkpoints.get("checkpoints").get(checkpoints.get("total").asInt() - 1);
    String diff = daemon.get("/api/v1/features/" + f.id() + "/checkpoints/" + last.get("seq") + "/diff?against=base",
        RunningDaemon.VIEWER).body();
    assertTrue(diff.contains("+hello") && diff.contains("src/app.txt"), diff);

    String approval = "/api/v1/approvals/" + f.id() + ".1";
    RunningDaemon.Response approved = daemon.post(approval + "/approve", RunningDaemon.APPROVER, "{\"reason\":\"sandboxed work\"}");
    assertEquals(200, approved.status(), approved.body());
    if (!approved.json().get("approved").asBoolean()) {
      approved = daemon.post(approval + "/approve", RunningDaemon.ADMIN, "{}");
      assertEquals(200, approved.status(), approved.body());
    }
    await("the proposal landed", 30_000,
        () -> daemon.get(approval, RunningDaemon.VIEWER).json().get("status").asText().equals("applied"));
    assertEquals("hello", GitRepos.git(f.repo(), "show", "main:feature.txt").strip());
    assertEquals("code", GitRepos.git(f.repo(), "show", "main:src/app.txt").strip());
    await("the feature applied", 10_000, () -> feature(f.id()).get("status").asText().equals("applied"));
    await("the private git dir removed with the worktree", 10_000,
        () -> !Files.exists(data.resolve("agent-git").resolve(f.id())) && !Files.exists(f.worktree()));
  }

  @Test
  void pausingStopsTheSandboxedAgentAndResumingLetsItGoOn() throws Exception {
    Created f = feature();
    Path log = f.worktree().resolve("log.txt");
    CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> AgentCommand.run(new String[] {
        "--feature", f.id(), "--server", server(), "--token", RunningDaemon.AGENT, "--", "sh", "-c",
        "cat /proc/1/comm > pid1.txt; while [ ! -f stop ]; do date >> log.txt; sleep 0.01; done; exit 5"}));

    await("the agent connected and writing", 20_000, () -> daemon.get("/api/v1/features/" + f.id() + "/agent", RunningDaemon.VIEWER)
        .json().get("connected").asBoolean() && size(log) > 0);
    // it runs in the sandbox: its pid 1 is bubblewrap's, not the machine's init
    assertEquals("bwrap", Files.readString(f.worktree().resolve("pid1.txt")).strip());
    await("the run recorded as sandboxed", 10_000, () -> feature(f.id()).path("lastRun").path("sandboxed").asBoolean());

    assertEquals(200, daemon.post("/api/v1/features/" + f.id() + "/pause", RunningDaemon.AGENT, "{\"reason\":\"review\"}").status());
    await("the agent acknowledged the pause", 10_000, () -> daemon.get("/api/v1/features/" + f.id() + "/agent", RunningDaemon.VIEWER)
        .json().get("paused").asBoolean());
    long paused = size(log);
    Thread.sleep(600);
    assertEquals(paused, size(log), "log.txt grew while the sandboxed agent was paused");

    assertEquals(200, daemon.post("/api/v1/features/" + f.id() + "/resume", RunningDaemon.AGENT, "").status());
    await("log.txt growing again", 10_000, () -> size(log) > paused);
    Files.writeString(f.worktree().resolve("stop"), "");
    assertEquals(5, exit.get(30, TimeUnit.SECONDS), "the wrapper's exit code is the sandboxed command's");
  }

  @Test
  void withNoSandboxTheFeatureAndTheFeedSayUnsandboxedUntilASandboxedRun() throws Exception {
    Created f = feature();
    int port = daemon.daemon().httpAddress().getPort();
    assertEquals(4, CompletableFuture.supplyAsync(() -> AgentCommand.run(new String[] {
        "--feature", f.id(), "--no-sandbox", "--server", server(), "--token", RunningDaemon.AGENT, "--", "sh", "-c", "exit 4"}))
        .get(30, TimeUnit.SECONDS));
    await("the feature marked unsandboxed", 10_000, () -> feature(f.id()).path("unsandboxed").asBoolean());
    JsonNode run = feature(f.id()).get("lastRun");
    assertFalse(run.get("sandboxed").asBoolean());
    assertTrue(run.get("reason").asText().contains("--no-sandbox"), run.toString());
    assertEquals("sh", run.get("agent").asText());

    try (FeedClient feed = FeedClient.connect(port, "since=0&feature=" + f.id() + "&types=feature.unsandboxed", RunningDaemon.VIEWER)) {
      JsonNode event = next(feed, "feature.unsandboxed");
      assertEquals("feature.unsandboxed", event.path("type").asText(), String.valueOf(event));
      assertEquals(f.id(), event.path("feature").asText());
      assertTrue(event.path("data").path("reason").asText().contains("--no-sandbox"), event.toString());
    }

    // the next run is sandboxed: the mark is cleared, the feed says so
    assertEquals(4, CompletableFuture.supplyAsync(() -> AgentCommand.run(new String[] {
        "--feature", f.id(), "--server", server(), "--token", RunningDaemon.AGENT, "--", "sh", "-c", "exit 4"}))
        .get(30, TimeUnit.SECONDS));
    await("the mark cleared by a sandboxed run", 10_000, () -> !feature(f.id()).path("unsandboxed").asBoolean());
    assertTrue(feature(f.id()).get("lastRun").get("sandboxed").asBoolean());
    try (FeedClient feed = FeedClient.connect(port, "since=0&feature=" + f.id() + "&types=feature.sandboxed", RunningDaemon.VIEWER)) {
      assertEquals("feature.sandboxed", next(feed, "feature.sandboxed").path("type").asText());
    }
  }

  @Test
  void theSandboxEndpointNeedsAnAgentTokenAnswersTheLayoutAndEndsWithTheWorktree() throws Exception {
    Created f = feature();
    daemon.get("/api/v1/features/" + f.id() + "/sandbox", RunningDaemon.VIEWER).assertProblem(403, null);
    RunningDaemon.Response spec = daemon.get("/api/v1/features/" + f.id() + "/sandbox", RunningDaemon.AGENT);
    assertEquals(200, spec.status(), spec.body());
    JsonNode layout = spec.json();
    assertEquals(f.worktree().toString(), layout.get("workdir").asText());
    assertTrue(layout.get("hidden").toString().contains(data.toRealPath().toString()), "the data dir is hidden: " + layout);
    assertTrue(layout.get("readOnly").toString().contains(f.repo().resolve(".git").toString()), layout.toString());
    assertEquals(data.toRealPath().resolve("agent-git").resolve(f.id()).toString(), layout.get("mounts").get(0).get("source").asText());
    assertTrue(layout.get("network").asBoolean(), "the agent has the network by default");

    // abandoning the feature removes its private git dir with the worktree; the endpoint then answers 409
    assertEquals(200, daemon.delete("/api/v1/features/" + f.id(), RunningDaemon.APPROVER).status());
    assertFalse(Files.exists(data.resolve("agent-git").resolve(f.id())), "the private git dir outlived the worktree");
    daemon.get("/api/v1/features/" + f.id() + "/sandbox", RunningDaemon.AGENT).assertProblem(409, null);
  }

  /** The next feed message of {@code type}, skipping others; whatever came last when none did within 10 s. */
  private static JsonNode next(FeedClient feed, String type) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    JsonNode message = null;
    while (System.nanoTime() < deadline) {
      message = feed.poll(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
      if (message == null || message == FeedClient.CLOSED || type.equals(message.path("type").asText())) {
        return message;
      }
    }
    return message;
  }

  private static long size(Path file) {
    try {
      return Files.exists(file) ? Files.size(file) : 0;
    } catch (IOException e) {
      return 0;
    }
  }
}
