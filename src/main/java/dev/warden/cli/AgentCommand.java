package dev.warden.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.warden.process.Bubblewrap;
import dev.warden.process.ProcessGroup;
import dev.warden.process.SandboxLayout;
import dev.warden.process.SandboxSpec;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@code warden agent --feature ID [--server URL] [--token T] -- <command...>}: runs any agent CLI
 * in its feature's worktree and speaks {@code warden.agent.v1} for it (docs/agent-protocol.md,
 * "The wrapper"). The command runs in a process group of its own ({@link ProcessGroup}): Warden's
 * {@code pause} stops the whole group before the ack, {@code resume} continues it. Its output is
 * copied to ours unchanged and forwarded as {@code log}; exit 0 is proposed as ready. The token
 * given is the operator's: it only asks for a run token ({@link RunToken}), which the connection
 * uses; the command's environment has neither ({@link #agentEnvironment}).
 *
 * <p>A short-lived client: plain JDK HTTP and WebSocket, no actor system, so it starts fast. One
 * instance is one invocation; pause state lives on a single control thread.
 */
public final class AgentCommand {

  static final int EXIT_WRAPPER_FAILED = 1;
  static final int EXIT_USAGE = 2;
  static final int EXIT_WARDEN_REFUSED = 3;
  static final int EXIT_INTERRUPTED = 130;

  /** The timings and limits of one invocation; tests shorten them. */
  record Tuning(Duration orphanedPause, Duration killGrace, Duration leftoverGrace, Duration finishTimeout,
      int logCapacity, ProcessBuilder.Redirect stdin) {

    static Tuning defaults() {
      return new Tuning(Duration.ofSeconds(30), Duration.ofSeconds(5), Duration.ofSeconds(2), Duration.ofSeconds(5),
          2_000, ProcessBuilder.Redirect.INHERIT);
    }
  }

  /** What the arguments asked for. */
  record Options(String feature, ServerOptions warden, List<String> command, boolean noSandbox, Optional<String> title) {

    Options(String feature, ServerOptions warden, List<String> command) {
      this(feature, warden, command, false, Optional.empty());
    }

    /**
     * What the proposal made when the command exits 0 says: the title ({@code --title}, else
     * {@code Work on feature ID}), then which command exited 0.
     */
    String proposal() {
      return title.orElse(dev.warden.apply.Proposal.defaultTitle(feature)) + "\n\n"
          + Answer.abbreviate(String.join(" ", command), 200) + " exited 0";
    }
  }

  /** Warden said no, or could not be asked: exit 3. */
  static final class Refusal extends Exception {
    Refusal(String message) {
      super(message);
    }
  }

  private final PrintStream out;
  private final PrintStream err;
  private final Map<String, String> env;
  private final Path cwd;
  private final Tuning tuning;

  // one invocation's state
  private final ScheduledExecutorService control = Executors.newSingleThreadScheduledExecutor(runnable -> {
    Thread thread = new Thread(runnable, "warden-agent-control");
    thread.setDaemon(true);
    return thread;
  });
  private volatile ProcessGroup group;
  private volatile AgentLink link;
  private volatile AskChannel ask;
  private volatile RunToken runToken;
  private volatile String agentName = "agent";
  private volatile boolean finishing;
  private volatile boolean interrupted;
  private boolean paused; // control thread only
  private ScheduledFuture<?> orphanedPauseTimer; // control thread only

  AgentCommand(PrintStream out, PrintStream err, Map<String, String> env, Path cwd, Tuning tuning) {
    this.out = out;
    this.err = err;
    this.env = env;
    this.cwd = cwd;
    this.tuning = tuning;
  }

  /** Runs {@code warden agent} with the arguments after the word {@code agent}; returns the exit status. */
  public static int run(String[] args) {
    return new AgentCommand(System.out, System.err, System.getenv(), Path.of("").toAbsolutePath(), Tuning.defaults())
        .execute(args);
  }

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Reads {@code args} (those after the word {@code agent}) with the command line's parser, then runs. */
  int execute(String[] args) {
    Cli.Context context = new Cli.Context(out, err, env, cwd);
    String[] line = new String[args.length + 1];
    line[0] = "agent";
    System.arraycopy(args, 0, line, 1, args.length);
    try {
      return Cli.execute(Cli.standalone(context, new AgentArguments(context, this)), line);
    } finally {
      control.shutdownNow();
    }
  }

  /** Runs what the arguments asked for; the exit status. */
  int execute(Options options) {
    try {
      return supervise(options);
    } catch (Refusal e) {
      err.println("warden agent: " + e.getMessage() + "; not starting " + options.command().get(0));
      return EXIT_WARDEN_REFUSED;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return EXIT_INTERRUPTED;
    } finally {
      control.shutdownNow();
    }
  }

  // ---- the run

  private int supervise(Options options) throws Refusal, InterruptedException {
    HttpClient http = WardenClient.httpClient();
    Path worktree = worktree(http, options);
    if (!Files.isDirectory(worktree)) {
      throw new Refusal("the worktree of feature " + options.feature() + ", " + worktree + ", is not a directory here"
          + " (run the wrapper on Warden's machine)");
    }
    for (ProcessGroup.Tools tool : ProcessGroup.Tools.values()) {
      if (!tool.available()) {
        err.println("warden agent: " + missing(tool));
        return EXIT_WRAPPER_FAILED;
      }
    }

    List<String> command = options.command();
    agentName = programName(command.get(0));
    // `warden ask` in the command reaches Warden through this channel and our link, never with a token of its own
    try (AskChannel ask = openAskChannel()) {
      this.ask = ask;
      AgentSandbox.Launch launch = new AgentSandbox(env, this::warn).launch(http, options, agentName, ask);
      // the agent's connection uses a run token (agent role, this feature only, revoked at the end), never the operator's
      RunToken runToken = RunToken.obtain(new WardenClient(http, options.warden()), options.feature(), this::warn);
      this.runToken = runToken;
      try {
        return supervise(options, http, worktree, command, runToken, launch);
      } finally {
        runToken.revoke();
      }
    }
  }

  private AskChannel openAskChannel() {
    try {
      return AskChannel.open(Path.of(System.getProperty("java.io.tmpdir")), (id, text) -> {
        AgentLink connection = link;
        return connection != null && connection.sendControl(AgentProtocol.question(id, text));
      }, this::warn);
    } catch (IOException | RuntimeException e) {
      warn("`warden ask` will not work in this run: cannot open its channel (" + e.getMessage() + ")");
      return null;
    }
  }

  private int supervise(Options options, HttpClient http, Path worktree, List<String> command, RunToken runToken, AgentSandbox.Launch launch)
      throws Refusal, InterruptedException {
    AgentLink link = new AgentLink(http, agentUri(options), runToken::current, new WardenEvents(), this::warn, tuning.logCapacity());
    try {
      link.connect();
    } catch (AgentLink.Refused e) {
      throw new Refusal(refusal(options.feature(), e.status(), e.getMessage()));
    } catch (AgentLink.Unreachable e) {
      throw new Refusal("cannot reach Warden at " + options.warden().server() + " (" + e.getMessage() + ")");
    }
    this.link = link;

    ProcessGroup group;
    try {
      group = ProcessGroup.start(launch.argv(), worktree, tuning.stdin(), agentEnvironment(env, options.warden().token()));
    } catch (IOException | RuntimeException e) {
      link.finish(Optional.empty(), Duration.ofSeconds(1));
      err.println("warden agent: cannot start " + command.get(0) + ": " + e.getMessage());
      return EXIT_WRAPPER_FAILED;
    }
    this.group = group;
    Thread shutdownHook = new Thread(this::onShutdown, "warden-agent-shutdown");
    Runtime.getRuntime().addShutdownHook(shutdownHook);
    try {
      Thread stdout = OutputPump.start("warden-agent-stdout", group.stdout(), out, line -> link.sendLog("stdout", line));
      Thread stderr = OutputPump.start("warden-agent-stderr", group.stderr(), err, line -> link.sendLog("stderr", line));
      link.start(AgentProtocol.hello(agentName, version(), group.pid(), launch.sandbox(), launch.reason()));
      warn("feature " + options.feature() + ": running " + agentName + " (pid " + group.pid() + ") in " + worktree
          + (launch.reason().isEmpty() ? " under bubblewrap" : " WITHOUT a sandbox"));

      int exit = group.waitFor();
      if (!interrupted && leftBehind(group)) {
        warn(agentName + " exited; ending what it left running in its process group");
        group.terminate(tuning.leftoverGrace());
      }
      stdout.join(tuning.leftoverGrace().toMillis()); // a process that left the group may still hold the pipe
      stderr.join(tuning.leftoverGrace().toMillis());
      finishing = true;
      if (interrupted) {
        return EXIT_INTERRUPTED; // the shutdown hook ends the group and the connection
      }
      if (exit != 0) {
        warn(agentName + " exited with " + exit + ": not proposing its work");
      }
      // nothing is left to pause: Warden takes the checkpoints from now on without asking for an ack
      link.sendControl(AgentProtocol.exit(exit));
      Optional<String> propose = exit == 0
          ? Optional.of(AgentProtocol.propose(options.proposal()))
          : Optional.empty();
      boolean delivered = link.finish(propose, tuning.finishTimeout());
      if (!delivered) {
        warn("could not tell Warden the work is ready (no connection); propose it with"
            + " POST /api/v1/features/" + options.feature() + "/propose");
      }
      long dropped = link.droppedLines();
      if (dropped > 0) {
        warn(dropped + " output line(s) were not forwarded to Warden (it was too slow or unreachable)");
      }
      return exit;
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(shutdownHook);
      } catch (IllegalStateException shuttingDown) {
        // the hook is running or has run
      }
    }
  }

  /** Ctrl-C, SIGTERM, SIGHUP: end the agent's whole group, then the connection. The JVM exits 128+signal. */
  private void onShutdown() {
    if (finishing && !interrupted) {
      return; // the command has exited already: the run is ending by itself
    }
    interrupted = true;
    ProcessGroup running = group;
    warn("interrupted: ending " + agentName + " and everything it started");
    try {
      running.terminate(tuning.killGrace());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    AgentLink connection = link;
    if (connection != null) {
      connection.finish(Optional.empty(), Duration.ofSeconds(1));
    }
    RunToken token = runToken;
    if (token != null) {
      token.revoke(); // the JVM is exiting: the main thread's finally may never run
    }
    AskChannel channel = ask;
    if (channel != null) {
      channel.close(); // its socket and private directory go too
    }
  }

  /**
   * The agent's environment: the wrapper's own, minus every {@code WARDEN_*} variable (the
   * operator's token, Warden's URL and config) and any other variable holding the operator's token,
   * so the agent holds no credential of Warden's. The one place the child's environment is built (a
   * sandbox wraps the command, not this).
   */
  static Map<String, String> agentEnvironment(Map<String, String> wrapperEnv, String operatorToken) {
    Map<String, String> environment = new java.util.HashMap<>();
    wrapperEnv.forEach((name, value) -> {
      boolean holdsToken = operatorToken != null && !operatorToken.isEmpty() && value.contains(operatorToken);
      if (!name.startsWith("WARDEN_") && !holdsToken) {
        environment.put(name, value);
      }
    });
    return environment;
  }

  /** {@code GET /api/v1/features/{id}}: the feature's worktree. */
  private Path worktree(HttpClient http, Options options) throws Refusal, InterruptedException {
    String answer;
    try {
      answer = new WardenClient(http, options.warden()).get("/api/v1/features/" + options.feature());
    } catch (WardenClient.Unreachable e) {
      throw new Refusal(e.getMessage());
    } catch (WardenClient.Problem e) {
      throw new Refusal(refusal(options.feature(), e.status(), e.detail()));
    }
    JsonNode feature = AgentProtocol.parse(answer)
        .orElseThrow(() -> new Refusal("Warden's answer about feature " + options.feature() + " is not a JSON object"));
    Optional<String> worktree = AgentProtocol.text(feature, "worktree").filter(w -> !w.isBlank());
    if (worktree.isEmpty()) {
      throw new Refusal("feature " + options.feature() + " has no worktree"
          + AgentProtocol.text(feature, "status").map(s -> " (it is " + s + ")").orElse(""));
    }
    try {
      return Path.of(worktree.get());
    } catch (InvalidPathException e) {
      throw new Refusal("feature " + options.feature() + " has a worktree path this machine cannot use: " + worktree.get());
    }
  }

  /**
   * Whether the group still has members once the command has exited. Bubblewrap's pid 1 inside the
   * sandbox exits a moment after the bubblewrap process we waited for: give it 250 ms before calling
   * anything "left running".
   */
  private static boolean leftBehind(ProcessGroup group) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofMillis(250).toNanos();
    while (group.hasLiveMembers()) {
      if (System.nanoTime() > deadline) {
        return true;
      }
      Thread.sleep(10);
    }
    return false;
  }

  static String refusal(String feature, int status, String detail) {
    String why = switch (status) {
      case 401 -> "Warden refused the token (401 Unauthorized): check --token or WARDEN_TOKEN";
      case 403 -> "the token may not act as an agent (403 Forbidden): it needs the agent role or stronger";
      case 404 -> "no feature " + feature + " (404 Not Found)";
      case 409 -> "feature " + feature + " does not take an agent now (409 Conflict): it has ended, or another agent is connected";
      default -> "Warden answered HTTP " + status;
    };
    return detail == null || detail.isBlank() ? why : why + ": " + detail;
  }

  private static URI agentUri(Options options) {
    URI server = options.warden().server();
    String scheme = "https".equals(server.getScheme()) ? "wss" : "ws";
    return URI.create(scheme + server.toString().substring(server.getScheme().length())
        + "/api/v1/features/" + options.feature() + "/agent");
  }

  // ---- what Warden says, handled in order on the control thread

  /** The link's reports, handed to the control thread (kept out of this class's public API). */
  private final class WardenEvents implements AgentLink.Events {
    @Override
    public void onMessage(JsonNode message) {
      control.execute(() -> handle(message));
    }

    @Override
    public void onConnected(boolean reconnected) {
      if (reconnected) {
        control.execute(() -> warn("reconnected to Warden"));
      }
    }

    @Override
    public void onDisconnected(String why) {
      control.execute(() -> onConnectionLost(why));
    }
  }

  private void onConnectionLost(String why) {
    if (finishing) {
      return;
    }
    if (paused) {
      warn("lost the connection to Warden (" + why + "); reconnecting. " + agentName
          + " stays paused until Warden resumes it, at most " + readable(tuning.orphanedPause()));
      if (orphanedPauseTimer == null) { // counted from the loss of the connection that paused it
        orphanedPauseTimer = control.schedule(this::orphanedPauseExpired, tuning.orphanedPause().toMillis(), TimeUnit.MILLISECONDS);
      }
    } else {
      warn("lost the connection to Warden (" + why + "); reconnecting");
    }
  }

  private void handle(JsonNode message) {
    switch (AgentProtocol.type(message)) {
      case "welcome" -> onWelcome(message);
      case "pause" -> onPause(message);
      case "resume" -> onResume(message);
      case "answer", "error" -> {
        warn(AgentProtocol.describe(message));
        relayToAsker(message);
      }
      default -> warn(AgentProtocol.describe(message)); // message, violation, rollback, unknown
    }
  }

  /** An answer, or the refusal of a question, goes to the `warden ask` waiting for it. */
  private void relayToAsker(JsonNode message) {
    AskChannel channel = ask;
    if (channel == null) {
      return;
    }
    if (AgentProtocol.type(message).equals("answer")) {
      AgentProtocol.text(message, "id").ifPresent(id -> channel.answered(id, AgentProtocol.text(message, "text").orElse("")));
    } else if (AgentProtocol.text(message, "ref").orElse("").equals("question")) {
      channel.refused(AgentProtocol.text(message, "message").orElse("question refused"));
    }
  }

  private void onWelcome(JsonNode welcome) {
    JsonNode interval = welcome.get("heartbeatMs");
    long heartbeatMs = interval != null && interval.isIntegralNumber() && interval.canConvertToLong() ? interval.asLong() : 0;
    link.heartbeatEvery(heartbeatMs > 0 ? Math.max(heartbeatMs, 100) : 5_000);
  }

  private void onPause(JsonNode pause) {
    Optional<String> id = AgentProtocol.text(pause, "id");
    if (id.isEmpty()) {
      warn("ignoring a pause without an id: " + pause);
      return;
    }
    boolean allStopped = group.stop();
    paused = true;
    cancelOrphanedPauseTimer(); // this connection owns the pause now
    if (!allStopped) {
      warn("not every process of " + agentName + " stopped within a second (busy in the kernel?); the stop is pending");
    }
    link.sendControl(AgentProtocol.ack(id.get(), "paused"));
  }

  private void onResume(JsonNode resume) {
    Optional<String> id = AgentProtocol.text(resume, "id");
    group.cont();
    paused = false;
    cancelOrphanedPauseTimer();
    if (id.isPresent()) {
      link.sendControl(AgentProtocol.ack(id.get(), "running"));
    } else {
      warn("resumed on a resume without an id: " + resume);
    }
  }

  /** An agent must not hang forever because the Warden that paused it went away. */
  private void orphanedPauseExpired() {
    orphanedPauseTimer = null;
    if (paused) {
      group.cont();
      paused = false;
      warn("no resume from Warden within " + readable(tuning.orphanedPause()) + " of losing the connection that paused "
          + agentName + ": continuing it, unsupervised until Warden is back");
    }
  }

  private void cancelOrphanedPauseTimer() {
    if (orphanedPauseTimer != null) {
      orphanedPauseTimer.cancel(false);
      orphanedPauseTimer = null;
    }
  }

  // ---- helpers

  private void warn(String text) {
    err.println("[warden] " + text);
  }

  private static String missing(ProcessGroup.Tools tool) {
    try {
      tool.path();
      return "";
    } catch (IllegalStateException e) {
      return e.getMessage();
    }
  }

  static String programName(String program) {
    String name = new File(program).getName();
    return name.isBlank() ? program : name;
  }

  static String version() {
    String version = AgentCommand.class.getPackage().getImplementationVersion();
    return version == null ? "dev" : version;
  }

  private static String readable(Duration duration) {
    return duration.toMillis() % 1000 == 0 ? duration.toSeconds() + " s" : duration.toMillis() + " ms";
  }
}
