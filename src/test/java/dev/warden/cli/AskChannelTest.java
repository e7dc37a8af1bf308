package dev.warden.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code warden ask} and the wrapper's end of it, without Warden: what the asking command prints
 * and exits with for an answer, a refusal, a timeout, no wrapper; and a channel that survives a
 * flood of hostile connections (oversized lines, silence, too many at once) and still relays the
 * next real question, one at a time.
 */
class AskChannelTest {

  private record Asked(String id, String text) {}

  @TempDir Path tmp;
  private final LinkedBlockingQueue<Asked> relayed = new LinkedBlockingQueue<>();
  private volatile boolean connected = true;
  private final List<String> diagnostics = new java.util.concurrent.CopyOnWriteArrayList<>();
  private AskChannel channel;

  @BeforeEach
  void open() throws IOException {
    channel = AskChannel.open(tmp, (id, text) -> connected && relayed.add(new Asked(id, text)), diagnostics::add,
        Duration.ofMillis(500));
  }

  @AfterEach
  void close() {
    channel.close();
  }

  private record Run(int exit, String out, String err) {}

  private CompletableFuture<Run> ask(String... args) {
    return ask(Map.of(AskChannel.VARIABLE, channel.socket().toString()), args);
  }

  private static CompletableFuture<Run> ask(Map<String, String> env, String... args) {
    return CompletableFuture.supplyAsync(() -> {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      int exit = new AskCommand(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8), env)
          .execute(args);
      return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    });
  }

  private Asked nextRelayed() throws InterruptedException {
    Asked asked = relayed.poll(10, TimeUnit.SECONDS);
    assertTrue(asked != null, "a question relayed to Warden");
    return asked;
  }

  @Test
  void theQuestionGoesToWardenAndThePersonsAnswerIsPrintedOnStdout() throws Exception {
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(channel.directory())),
        "only the user may reach the socket");
    CompletableFuture<Run> run = ask("Keep", "the old endpoint?");
    Asked asked = nextRelayed();
    assertEquals("Keep the old endpoint?", asked.text());
    assertTrue(asked.id().startsWith("ask-"), asked.id());
    assertFalse(channel.answered("ask-someone-else", "no"), "an answer to another id reaches nobody here");
    assertTrue(channel.answered(asked.id(), "Yes, until v3.\nThen drop it."));
    Run done = run.get(10, TimeUnit.SECONDS);
    assertEquals(0, done.exit(), done.err());
    assertEquals("Yes, until v3.\nThen drop it.\n", done.out());
  }

  @Test
  void aRefusalAWardenThatIsNotConnectedAndNoWrapperEachExit3SayingWhy() throws Exception {
    CompletableFuture<Run> run = ask("Which database?");
    nextRelayed();
    assertTrue(channel.refused("question refused: cannot ask a question on feature 'f' in status proposed"));
    Run refused = run.get(10, TimeUnit.SECONDS);
    assertEquals(3, refused.exit());
    assertTrue(refused.err().contains("refused: question refused: cannot ask a question on feature 'f' in status proposed"), refused.err());
    assertEquals("", refused.out());

    connected = false;
    Run offline = ask("Which database?").get(10, TimeUnit.SECONDS);
    assertEquals(3, offline.exit());
    assertTrue(offline.err().contains("not connected to Warden now"), offline.err());

    Run noWrapper = ask(Map.of(), "Which database?").get(10, TimeUnit.SECONDS);
    assertEquals(3, noWrapper.exit());
    assertTrue(noWrapper.err().contains("no wrapper to ask through: AGENT_ASK_SOCKET is not set"), noWrapper.err());
    Run gone = ask(Map.of(AskChannel.VARIABLE, tmp.resolve("nothing-here.sock").toString()), "Which database?").get(10, TimeUnit.SECONDS);
    assertEquals(3, gone.exit());
    assertTrue(gone.err().contains("cannot reach the wrapper"), gone.err());

    Run usage = ask("--timeout", "soon", "x").get(10, TimeUnit.SECONDS);
    assertEquals(2, usage.exit());
    Run tooLong = ask("x".repeat(AskChannel.MAX_TEXT_BYTES + 1)).get(10, TimeUnit.SECONDS);
    assertEquals(2, tooLong.exit());
    assertTrue(tooLong.err().contains("Warden takes at most 8192"), tooLong.err());
    assertTrue(relayed.isEmpty(), "nothing more reached Warden: " + relayed);
  }

  @Test
  void questionsGoOneAtATimeAndOneThatTimesOutGivesUpItsTurn() throws Exception {
    CompletableFuture<Run> first = ask("--timeout", "2", "first?");
    Asked one = nextRelayed();
    assertEquals("first?", one.text());
    CompletableFuture<Run> second = ask("second?");
    assertNull(relayed.poll(500, TimeUnit.MILLISECONDS), "the second waits while the first is in flight");
    Run timedOut = first.get(15, TimeUnit.SECONDS);
    assertEquals(4, timedOut.exit());
    assertTrue(timedOut.err().contains("no answer within 2 s"), timedOut.err());
    Asked two = nextRelayed();
    assertEquals("second?", two.text());
    assertFalse(channel.answered(one.id(), "too late"), "nobody waits for the first any more");
    channel.answered(two.id(), "fine");
    Run answered = second.get(10, TimeUnit.SECONDS);
    assertEquals(0, answered.exit(), answered.err());
    assertEquals("fine\n", answered.out());
  }

  @Test
  void aFloodOfHostileConnectionsDoesNotKnockTheChannelOver() throws Exception {
    // oversized lines, answered with a refusal, never relayed
    for (int i = 0; i < 20; i++) {
      try (SocketChannel client = connect()) {
        ByteBuffer junk = ByteBuffer.wrap(new byte[AskChannel.MAX_LINE_BYTES + 10]);
        java.util.Arrays.fill(junk.array(), (byte) 'x');
        while (junk.hasRemaining()) {
          client.write(junk);
        }
        String reply = AskChannel.readLine(Channels.newInputStream(client)).orElseThrow();
        assertTrue(reply.contains("\"refused\"") && reply.contains("longer than"), reply);
      }
    }
    // not JSON, blank, a text that is not a string
    for (String line : List.of("hello", "{\"text\":\"   \"}", "{\"text\":42}", "[]")) {
      assertTrue(exchange(line + "\n").contains("\"refused\""), line);
    }
    // silent connections: all slots taken, then the next is told so at once; silence is cut off
    channel.close();
    channel = AskChannel.open(tmp, (id, text) -> connected && relayed.add(new Asked(id, text)), diagnostics::add,
        Duration.ofSeconds(5));
    List<SocketChannel> silent = new ArrayList<>();
    for (int i = 0; i < AskChannel.MAX_CONNECTIONS; i++) {
      silent.add(connect());
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (channel.connections() < AskChannel.MAX_CONNECTIONS && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertEquals(AskChannel.MAX_CONNECTIONS, channel.connections(), "every silent connection holds a slot");
    try (SocketChannel extra = connect()) {
      String reply = AskChannel.readLine(Channels.newInputStream(extra)).orElseThrow();
      assertTrue(reply.contains("too many questions at once"), reply);
    }
    for (SocketChannel client : silent) {
      assertEquals(Optional.of(""), AskChannel.readLine(Channels.newInputStream(client)), "a silent asker is hung up on");
      client.close();
    }
    assertTrue(relayed.isEmpty(), "none of it reached Warden: " + relayed);

    // and a real question still goes through
    CompletableFuture<Run> run = ask("Still there?");
    Asked asked = nextRelayed();
    channel.answered(asked.id(), "yes");
    assertEquals("yes\n", run.get(10, TimeUnit.SECONDS).out());
  }

  @Test
  void closingTellsTheWaitingAskerAndRemovesTheSocket() throws Exception {
    CompletableFuture<Run> run = ask("Anyone?");
    nextRelayed();
    channel.close();
    Run ended = run.get(10, TimeUnit.SECONDS);
    assertEquals(3, ended.exit());
    assertTrue(ended.err().contains("the agent's run under warden agent ended"), ended.err());
    assertFalse(Files.exists(channel.directory()), "the private directory is gone");
  }

  @Test
  void theCommandGetsTheSocketsPathAndStillNoWardenVariable() throws Exception {
    // a wrapper run inside another's sandbox has the outer socket in its environment: the inner one wins
    List<String> argv = AgentSandbox.argv(List.of("sh", "-c", "echo \"$AGENT_ASK_SOCKET\"; env | grep '^WARDEN_' || echo no-warden-variable"),
        Optional.empty(), Optional.empty(), java.util.Set.of("WARDEN_TOKEN", "AGENT_ASK_SOCKET"),
        Map.of(AskChannel.VARIABLE, channel.socket().toString()));
    ProcessBuilder builder = new ProcessBuilder(argv).redirectErrorStream(true);
    builder.environment().put("WARDEN_TOKEN", "wdn_secret");
    builder.environment().put(AskChannel.VARIABLE, "/outer/ask.sock");
    Process process = builder.start();
    String printed = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(process.waitFor(10, TimeUnit.SECONDS));
    assertEquals(channel.socket() + "\nno-warden-variable\n", printed);
  }

  private SocketChannel connect() throws IOException {
    SocketChannel client = SocketChannel.open(StandardProtocolFamily.UNIX);
    client.connect(UnixDomainSocketAddress.of(channel.socket()));
    return client;
  }

  private String exchange(String request) throws IOException {
    try (SocketChannel client = connect()) {
      client.write(ByteBuffer.wrap(request.getBytes(StandardCharsets.UTF_8)));
      return AskChannel.readLine(Channels.newInputStream(client)).orElseThrow();
    }
  }
}
