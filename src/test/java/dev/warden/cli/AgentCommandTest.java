package dev.warden.cli;

import static dev.warden.cli.FakeWarden.FEATURE;
import static dev.warden.cli.FakeWarden.TOKEN;
import static dev.warden.process.ProcessGroupTest.await;
import static dev.warden.process.ProcessGroupTest.awaitGrowth;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import dev.warden.process.ProcessGroup;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code warden agent} end to end in this JVM: real child processes and signals, the JDK
 * WebSocket client against a real Akka HTTP server ({@link FakeWarden}).
 */
class AgentCommandTest {

  /** Appends to log.txt until a file named stop appears, then says goodbye on both streams. */
  private static final String WRITER =
      "echo started; while [ ! -f stop ]; do date >> log.txt; sleep 0.01; done; echo finished; echo bye >&2";

  private static ActorSystem<Void> system;

  @TempDir Path worktree;
  private FakeWarden warden;
  private final List<CompletableFuture<Integer>> runs = new ArrayList<>();
  private final List<Long> groups = new ArrayList<>(); // the commands' pids = process groups, from hello
  private final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
  private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();

  @BeforeAll
  static void startSystem() {
    system = ActorSystem.create(Behaviors.empty(), "fake-warden", ConfigFactory.parseString("""
        akka.loglevel = WARNING
        akka.actor.provider = local
        akka.coordinated-shutdown.run-by-jvm-shutdown-hook = off
        """).withFallback(ConfigFactory.defaultReference()));
  }

  @AfterAll
  static void stopSystem() {
    system.terminate();
  }

  @BeforeEach
  void startWarden() throws Exception {
    warden = new FakeWarden(system, worktree);
  }

  @AfterEach
  void cleanUp() throws Exception {
    Files.writeString(worktree.resolve("stop"), ""); // ends the writer loops
    try {
      for (CompletableFuture<Integer> run : runs) {
        try {
          run.get(5, TimeUnit.SECONDS);
        } catch (TimeoutException e) { // a failed test left its command paused
          for (long pgid : groups) {
            new ProcessBuilder("kill", "-s", "KILL", "--", "-" + pgid).start().waitFor();
          }
          run.get(10, TimeUnit.SECONDS);
        }
      }
    } finally {
      warden.close();
    }
  }

  @Test
  void saysHelloPausesAndResumesTheWholeGroupForwardsOutputAndProposesOnExitZero() throws Exception {
    warden.heartbeatMs = 100;
    Path log = worktree.resolve("log.txt");
    CompletableFuture<Integer> exit = agent(tuning(), "--feature", FEATURE, "--server", warden.url(), "--token", TOKEN,
        "--", "sh", "-c", WRITER);
    FakeWarden.Session session = warden.nextSession();

    JsonNode hello = session.await("hello");
    assertEquals("hello", session.types().get(0), "hello comes first");
    assertEquals("sh", hello.path("agent").asText());
    assertEquals("dev", hello.path("version").asText());
    assertEquals("[\"pause\"]", hello.path("capabilities").toString());
    assertEquals("bubblewrap", hello.path("sandbox").asText(), "the command runs in the sandbox Warden described: " + hello);
    long pid = hello.path("pid").asLong();
    groups.add(pid);
    assertTrue(pid > 1, "the command's pid: " + hello);
    session.await("heartbeat"); // at welcome's heartbeatMs
    awaitGrowth(log);

    session.sendInTwoFrames("{\"type\":\"pause\",\"id\":\"p-1\",\"reason\":\"checkpoint\",\"deadlineMs\":2000}");
    JsonNode paused = session.await("ack");
    assertEquals("p-1", paused.path("id").asText());
    assertEquals("paused", paused.path("state").asText());
    assertTrue(ProcessGroup.isStopped(pid), "the whole group was stopped before the ack was sent");
    long size = Files.size(log);
    Thread.sleep(300);
    assertEquals(size, Files.size(log), "nothing written while paused");

    session.send("{\"type\":\"resume\",\"id\":\"r-1\"}");
    JsonNode running = session.await("ack");
    assertEquals("r-1", running.path("id").asText());
    assertEquals("running", running.path("state").asText());
    awaitGrowth(log);

    session.send("{\"type\":\"message\",\"text\":\"keep the old endpoint\"}");
    session.send("{\"type\":\"bogus\"}");
    await(() -> stderr().contains("[warden] keep the old endpoint") && stderr().contains("'bogus'"), "notes printed");

    Files.writeString(worktree.resolve("stop"), "");
    assertEquals(0, exit.get(10, TimeUnit.SECONDS));
    JsonNode propose = session.await("propose");
    assertEquals("Work on feature " + FEATURE + "\n\nsh -c " + WRITER + " exited 0", propose.path("description").asText(),
        "a default title, then which command exited 0");
    assertEquals(List.of("started", "finished"), session.logLines("stdout"));
    assertEquals(List.of("bye"), session.logLines("stderr"));
    assertTrue(session.types().lastIndexOf("log") < session.types().indexOf("propose"), "output before the proposal");
    assertTrue(stdout().contains("started\nfinished\n"), "output copied unchanged: " + stdout());
    assertTrue(stderr().contains("bye\n"));
    session.awaitEnd(); // the wrapper closed the connection
  }

  @Test
  void aTitleGivenWithTitleIsWhatTheProposalIsCalledNeverTheCommandLine() throws Exception {
    CompletableFuture<Integer> exit = agent(tuning(), "--feature", FEATURE, "--title", "Fix the login redirect",
        "--server", warden.url(), "--token", TOKEN, "--", "sh", "-c", "true");
    FakeWarden.Session session = warden.nextSession();
    assertEquals(0, exit.get(10, TimeUnit.SECONDS));
    String description = session.await("propose").path("description").asText();
    assertEquals("Fix the login redirect", description.lines().findFirst().orElseThrow(), "the title is the first line: " + description);
    assertEquals("Fix the login redirect\n\nsh -c true exited 0", description);
    session.awaitEnd();

    assertEquals(2, agent(tuning(), "--feature", FEATURE, "--title", " ", "--token", TOKEN, "--", "true").get(10, TimeUnit.SECONDS));
    assertTrue(stderr().contains("--title needs a value"), stderr());
  }

  @Test
  void aFailingCommandIsNotProposedAndItsExitCodeIsTheWrappers() throws Exception {
    CompletableFuture<Integer> exit = agent(tuning(), "--feature", FEATURE, "--server", warden.url(), "--token", TOKEN,
        "--", "sh", "-c", "echo oops >&2; exit 7");
    FakeWarden.Session session = warden.nextSession();

    assertEquals(7, exit.get(10, TimeUnit.SECONDS));
    session.awaitEnd();
    assertEquals(List.of("oops"), session.logLines("stderr"));
    assertFalse(session.types().contains("propose"), "no proposal: " + session.types());

    CompletableFuture<Integer> killed = agent(tuning(), "--feature", FEATURE, "--server", warden.url(), "--token", TOKEN,
        "--", "sh", "-c", "kill -TERM $$");
    assertEquals(128 + 15, killed.get(10, TimeUnit.SECONDS), "a signal reads as 128+N, as shells report it");
    FakeWarden.Session second = warden.nextSession();
    second.awaitEnd();
    assertFalse(second.types().contains("propose"));
  }

  @Test
  void refusedUpgradesExit3AndTheCommandNeverRuns() throws Exception {
    for (int status : new int[] {401, 403, 404, 409}) {
      warden.upgradeStatus = status;
      int exit = agent(tuning(), "--feature", FEATURE, "--server", warden.url(), "--token", TOKEN,
          "--", "touch", "ran").get(10, TimeUnit.SECONDS);
      assertEquals(3, exit, "HTTP " + status);
      assertTrue(stderr().contains("(" + status + " "), "the cause is named: " + stderr());
    }
    assertEquals(4, warden.refusedUpgrades());
    assertFalse(Files.exists(worktree.resolve("ran")), "the command never ran");
    assertFalse(warden.anySession());
  }

  @Test
  void aBadTokenOrAnUnknownFeatureExit3BeforeAnything() throws Exception {
    assertEquals(3, agent(tuning(), "--feature", FEATURE, "--server", warden.url(), "--token", "wrong",
        "--", "touch", "ran").get(10, TimeUnit.SECONDS));
    assertTrue(stderr().contains("401 Unauthorized"));
    assertFalse(stderr().contains("wrong"), "the token is never printed");

    assertEquals(3, agent(tuning(), "--feature", "no-such-feature", "--server", warden.url(), "--token", TOKEN,
        "--", "touch", "ran").get(10, TimeUnit.SECONDS));
    assertTrue(stderr().contains("no feature no-such-feature"));

    warden.close();
    assertEquals(3, agent(tuning(), "--feature", FEATURE, "--server", warden.url(), "--token", TOKEN,
        "--", "touch", "ran").get(10, TimeUnit.SECONDS));
    assertTrue(stderr().contains("cannot reach Warden"));
    warden = new FakeWarden(system, worktree); // for cleanUp

    assertFalse(Files.exists(worktree.resolve("ran")));
  }

  @Test
  void withNoSandboxTheCommandRunsAsItIsTheWarningIsLoudAndHelloSaysSo() throws Exception {
    CompletableFuture<Integer> exit = agent(tuning(), "--feature", FEATURE, "--no-sandbox", "--server", warden.url(), "--token", TOKEN,
        "--", "sh", "-c", "echo hi > /dev/null");
    FakeWarden.Session session = warden.nextSession();
    JsonNode hello = session.await("hello");
    assertEquals(0, exit.get(10, TimeUnit.SECONDS));
    assertEquals("none", hello.path("sandbox").asText(), hello.toString());
    assertTrue(hello.path("sandboxReason").asText().contains("--no-sandbox"), hello.toString());
    assertTrue(stderr().contains("WITHOUT A SANDBOX"), stderr());
  }

  @Test
  void theSandboxedCommandWritesItsWorktreeButNothingElse(@TempDir Path elsewhere) throws Exception {
    Path outside = elsewhere.resolve("outside.txt");
    CompletableFuture<Integer> exit = agent(tuning(), "--feature", FEATURE, "--server", warden.url(), "--token", TOKEN,
        "--", "sh", "-c", "echo in > inside.txt; echo out > " + outside + "; echo escaped > $HOME/warden-escape-" + FEATURE
            + "; ls " + elsewhere.getParent() + " > listing.txt");
    warden.nextSession();
    exit.get(10, TimeUnit.SECONDS);
    assertEquals("in\n", Files.readString(worktree.resolve("inside.txt")));
    assertFalse(Files.exists(outside), "the sandboxed command wrote outside its worktree");
    assertFalse(Files.exists(Path.of(System.getProperty("user.home"), "warden-escape-" + FEATURE)), "it wrote into the home directory");
    // /tmp is private: the command sees only its own worktree's path in it, no other test's files
    assertFalse(Files.readString(worktree.resolve("listing.txt")).contains(elsewhere.getFileName().toString()));
  }

  @Test
  void aSandboxThatCannotBeSetUpHereOrIsNotUnderstoodRefusesTheRun() throws Exception {
    warden.sandbox = "{\"workdir\":\"/no/such/worktree\",\"writable\":[],\"hidden\":[],\"readOnly\":[],\"mounts\":[],\"network\":true}";
    assertEquals(3, agent(tuning(), "--feature", FEATURE, "--server", warden.url(), "--token", TOKEN,
        "--", "touch", "ran").get(10, TimeUnit.SECONDS));
    assertTrue(stderr().contains("cannot be set up here"), stderr());
    warden.sandbox = "{\"workdir\":\"" + worktree + "\",\"writable\":[],\"hidden\":[],\"readOnly\":[],\"mounts\":[],"
        + "\"network\":true,\"seccomp\":\"strict\"}";
    assertEquals(3, agent(tuning(), "--feature", FEATURE, "--server", warden.url(), "--token", TOKEN,
        "--", "touch", "ran").get(10, TimeUnit.SECONDS));
    assertTrue(stderr().contains("not one this wrapper understands"), stderr());
    assertFalse(Files.exists(worktree.resolve("ran")), "the command never ran");
    assertFalse(warden.anySession());
  }

  @Test
  void theCommandNeverSeesWardensVariablesOrTheSshAgentNotEvenInBubblewrapsOwnEnvironment() throws Exception {
    String script = "echo ${WARDEN_TOKEN:-none} ${WARDEN_URL:-none} ${SSH_AUTH_SOCK:-none} $KEPT;"
        + " cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n' | grep -c wdn_secret";
    for (Optional<dev.warden.process.SandboxLayout> layout : List.of(Optional.<dev.warden.process.SandboxLayout>empty(),
        Optional.of(dev.warden.process.SandboxLayout.workdirOnly(worktree, false)))) {
      List<String> argv = AgentSandbox.argv(List.of("sh", "-c", script), layout,
          dev.warden.process.Bubblewrap.availability().executable(), java.util.Set.of("WARDEN_TOKEN", "WARDEN_URL", "SSH_AUTH_SOCK", "KEPT"));
      ProcessBuilder builder = new ProcessBuilder(argv).redirectErrorStream(true).directory(worktree.toFile());
      builder.environment().putAll(Map.of("WARDEN_TOKEN", "wdn_secret", "WARDEN_URL", "http://x", "SSH_AUTH_SOCK", "/run/agent.sock",
          "KEPT", "kept"));
      Process process = builder.start();
      String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (layout.isPresent()) { // inside, no process at all has the token in its environment, bwrap's pid 1 included
        assertEquals("none none none kept\n0", output.strip(), output);
      } else {
        assertTrue(output.startsWith("none none none kept\n"), output);
      }
    }
  }

  @Test
  void whatTheSandboxedCommandLeavesRunningEndsWithItAndAPlainExitIsNotCalledALeftover() throws Exception {
    CompletableFuture<Integer> clean = agent(tuning(), "--feature", FEATURE, "--server", warden.url(), "--token", TOKEN,
        "--", "sh", "-c", "exit 4");
    warden.nextSession();
    assertEquals(4, clean.get(10, TimeUnit.SECONDS));
    assertFalse(stderr().contains("left running"), "bubblewrap's own exit is not something left running: " + stderr());

    // in the sandbox a background process dies with it: bubblewrap's pid 1 exits and the kernel ends its PID namespace
    CompletableFuture<Integer> leaving = agent(tuning(), "--feature", FEATURE, "--server", warden.url(), "--token", TOKEN,
        "--", "sh", "-c", "sleep 60 & exit 0");
    long pgid = warden.nextSession().await("hello").path("pid").asLong();
    assertEquals(0, leaving.get(15, TimeUnit.SECONDS));
    try (var entries = Files.list(Path.of("/proc"))) {
      List<Long> left = entries.map(p -> p.getFileName().toString()).filter(n -> n.chars().allMatch(Character::isDigit))
          .map(Long::parseLong).filter(pid -> ProcessGroup.Stat.of(pid).map(st -> st.pgrp() == pgid && !st.isGone()).orElse(false))
          .toList();
      assertEquals(List.of(), left, "processes of the agent's group still running after the wrapper exited");
    }
  }

  @Test
  void argumentErrorsExit2WithUsage() throws Exception {
    String[][] bad = {
        {"--", "true"},
        {"--feature", FEATURE, "--token", TOKEN},
        {"--feature", FEATURE, "--token", TOKEN, "--"},
        {"--feature", FEATURE, "--token", TOKEN, "--frobnicate", "--", "true"},
        {"--feature", "Not A Slug", "--token", TOKEN, "--", "true"},
        {"--feature", FEATURE, "--token", TOKEN, "--server", "ftp://example.org", "--", "true"},
        {"--feature", FEATURE, "--", "true"}, // no token anywhere
        {"--feature"},
    };
    for (String[] args : bad) {
      assertEquals(2, agent(tuning(), args).get(10, TimeUnit.SECONDS), String.join(" ", args));
    }
    assertTrue(stderr().contains("usage: warden agent"));
    assertTrue(stderr().contains("no token"));
  }

  @Test
  void theTokenAndServerComeFromTheEnvironmentOrDataAdminToken() throws Exception {
    Path cwd = Files.createDirectories(worktree.resolve("home"));
    Files.createDirectories(cwd.resolve("data"));
    Files.writeString(cwd.resolve("data/admin.token"), TOKEN + "\n");
    AgentCommand fromFile = command(Map.of("WARDEN_URL", warden.url()), cwd, tuning());
    assertEquals(0, run(fromFile, "--feature", FEATURE, "--", "true").get(10, TimeUnit.SECONDS));
    warden.nextSession().await("propose");

    AgentCommand fromEnv = command(Map.of("WARDEN_URL", warden.url() + "/", "WARDEN_TOKEN", TOKEN), worktree, tuning());
    assertEquals(0, run(fromEnv, "--feature=" + FEATURE, "true").get(10, TimeUnit.SECONDS));
    warden.nextSession().await("propose");
  }

  @Test
  void theAgentConnectsWithARunTokenRevokedAtTheEndAndItsEnvironmentHoldsNoWardenVariableNorTheOperatorsToken() throws Exception {
    Map<String, String> env = Map.of("WARDEN_URL", warden.url(), "WARDEN_TOKEN", TOKEN, "WARDEN_CONFIG", "/etc/warden.conf",
        "EDITOR", "vi", "COPIED", "x" + TOKEN + "y", "PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
    AgentCommand wrapper = command(env, worktree, tuning());
    assertEquals(0, run(wrapper, "--feature", FEATURE, "--", "sh", "-c", "env; echo env-done").get(10, TimeUnit.SECONDS));
    // the fake's agent socket takes only the run token: that the session exists proves it was used
    warden.nextSession().await("propose");
    String printed = stdout();
    assertTrue(printed.contains("env-done"), printed);
    assertTrue(printed.contains("EDITOR=vi"), "the rest of the environment is kept: " + printed);
    assertFalse(printed.contains("WARDEN_"), "a WARDEN_ variable reached the agent: " + printed);
    assertFalse(printed.contains(TOKEN), "the operator's token reached the agent: " + printed);
    assertFalse(printed.contains(FakeWarden.RUN_TOKEN), "the run token reached the agent: " + printed);
    assertEquals(1, warden.issuedRunTokens());
    await(() -> warden.revokedRunTokens() == 1, "the run token revoked when the run ended");
  }

  @Test
  void agentEnvironmentDropsWardenVariablesAndAnyHoldingTheOperatorsToken() {
    Map<String, String> agent = AgentCommand.agentEnvironment(Map.of("WARDEN_TOKEN", "s3cret", "WARDEN_URL", "http://x",
        "HOME", "/home/a", "MY_COPY", "Bearer s3cret", "LANG", "C"), "s3cret");
    assertEquals(Map.of("HOME", "/home/a", "LANG", "C"), agent);
  }

  @Test
  void aLostConnectionKeepsThePauseUntilTheNextConnectionResumes() throws Exception {
    Path log = worktree.resolve("log.txt");
    CompletableFuture<Integer> exit = agent(tuning(), "--feature", FEATURE, "--server", warden.url(), "--token", TOKEN,
        "--", "sh", "-c", WRITER);
    FakeWarden.Session first = warden.nextSession();
    groups.add(first.await("hello").path("pid").asLong());
    awaitGrowth(log);
    first.send("{\"type\":\"pause\",\"id\":\"p-1\",\"reason\":\"checkpoint\",\"deadlineMs\":2000}");
    first.await("ack");

    first.drop();
    FakeWarden.Session second = warden.nextSession();
    second.await("hello");
    long size = Files.size(log);
    Thread.sleep(300);
    assertEquals(size, Files.size(log), "still paused after reconnecting");
    assertTrue(stderr().contains("stays paused"), stderr());

    second.send("{\"type\":\"resume\",\"id\":\"r-2\"}");
    assertEquals("r-2", second.await("ack").path("id").asText());
    awaitGrowth(log);

    Files.writeString(worktree.resolve("stop"), "");
    assertEquals(0, exit.get(10, TimeUnit.SECONDS));
    second.await("propose");
  }

  @Test
  void aPauseWhoseWardenIsGoneEndsAfterTheTimeoutAndLinesWaitForTheReconnect() throws Exception {
    Path log = worktree.resolve("log.txt");
    AgentCommand.Tuning tuning = new AgentCommand.Tuning(Duration.ofMillis(500), Duration.ofSeconds(1),
        Duration.ofSeconds(1), Duration.ofSeconds(5), 10, ProcessBuilder.Redirect.from(new File("/dev/null")));
    String script = "while [ ! -f go ] && [ ! -f stop ]; do date >> log.txt; sleep 0.01; done; seq 1 50; "
        + "while [ ! -f stop ]; do sleep 0.01; done";
    CompletableFuture<Integer> exit = agent(tuning, "--feature", FEATURE, "--server", warden.url(), "--token", TOKEN,
        "--", "sh", "-c", script);
    FakeWarden.Session first = warden.nextSession();
    groups.add(first.await("hello").path("pid").asLong());
    awaitGrowth(log);
    first.send("{\"type\":\"pause\",\"id\":\"p-1\",\"reason\":\"checkpoint\",\"deadlineMs\":2000}");
    first.await("ack");

    warden.upgradeStatus = 503; // Warden is down
    first.drop();
    awaitGrowth(log); // continued after 500 ms without a resume
    await(() -> stderr().contains("no resume from Warden"), "a warning about continuing");
    await(() -> warden.refusedUpgrades() > 0, "a reconnect was tried");

    Files.writeString(worktree.resolve("go"), ""); // 50 lines while disconnected, 10 fit in the queue
    await(() -> stdout().contains("\n50\n"), "all 50 lines copied locally");
    warden.upgradeStatus = 0;
    FakeWarden.Session second = warden.nextSession();
    second.await("hello");

    Files.writeString(worktree.resolve("stop"), "");
    assertEquals(0, exit.get(10, TimeUnit.SECONDS));
    second.await("propose");
    List<String> lines = second.logLines("stdout");
    assertEquals(List.of("1", "2", "3", "4", "5", "6", "7", "8", "9", "10"), lines);
    List<String> notices = second.logLines("stderr");
    assertEquals(1, notices.size(), notices.toString());
    assertTrue(notices.get(0).contains("40 output line(s) not forwarded"), notices.get(0));
    assertTrue(stderr().contains("40 output line(s) were not forwarded"));
  }

  // ---- helpers

  private static AgentCommand.Tuning tuning() {
    return new AgentCommand.Tuning(Duration.ofSeconds(30), Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofSeconds(5),
        2_000, ProcessBuilder.Redirect.from(new File("/dev/null")));
  }

  private AgentCommand command(Map<String, String> env, Path cwd, AgentCommand.Tuning tuning) {
    return new AgentCommand(new PrintStream(stdout, true, StandardCharsets.UTF_8), new PrintStream(stderr, true, StandardCharsets.UTF_8),
        env, cwd, tuning);
  }

  private CompletableFuture<Integer> agent(AgentCommand.Tuning tuning, String... args) {
    return run(command(Map.of(), worktree, tuning), args);
  }

  private CompletableFuture<Integer> run(AgentCommand command, String... args) {
    CompletableFuture<Integer> exit = new CompletableFuture<>();
    Thread thread = new Thread(() -> {
      try {
        exit.complete(command.execute(args));
      } catch (Throwable t) {
        exit.completeExceptionally(t);
      }
    }, "agent-under-test");
    thread.setDaemon(true);
    thread.start();
    runs.add(exit);
    return exit;
  }

  private String stdout() {
    return stdout.toString(StandardCharsets.UTF_8);
  }

  private String stderr() {
    return stderr.toString(StandardCharsets.UTF_8);
  }
}
