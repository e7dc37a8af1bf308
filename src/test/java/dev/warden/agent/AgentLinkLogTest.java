package dev.warden.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.Done;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import com.typesafe.config.ConfigFactory;
import dev.warden.http.TextLimits;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The link's memory of the agent's output: lines cut at their limit, the oldest forgotten past the
 * kept bytes (not only the kept count), so GET .../agent renders a bounded amount whatever the
 * agent sends; and a message over the socket's limit ends the connection with an error.
 */
class AgentLinkLogTest {

  private static final ActorTestKit testKit = ActorTestKit.create(ConfigFactory.parseString("akka.actor.provider = local"));

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  private static AgentSettings settings(String overrides) {
    return AgentSettings.fromConfig(ConfigFactory.parseString(overrides)
        .withFallback(ConfigFactory.parseResources("application.conf")).resolve().getConfig("warden"));
  }

  private static final AgentLink.FeatureSink NOTHING = new AgentLink.FeatureSink() {
    @Override
    public void questionAsked(String questionId, String text) {}

    @Override
    public void proposed(String description) {}

    @Override
    public void unresponsive(String reason) {}

    @Override
    public void patch(String diff) {}
  };

  private record Connection(ActorRef<AgentLink.Command> link, TestProbe<AgentLink.Outgoing> out, TestProbe<Done> handled) {
    void send(String json) {
      link.tell(new AgentLink.FromAgent("c1", json, handled.ref()));
      handled.expectMessage(Done.getInstance());
    }

    AgentLink.AgentStatus status() {
      TestProbe<AgentLink.AgentStatus> reply = testKit.createTestProbe();
      link.tell(new AgentLink.GetStatus(reply.ref()));
      return reply.receiveMessage();
    }
  }

  private static Connection connect(AgentSettings settings) {
    ActorRef<AgentLink.Command> link = testKit.spawn(AgentLink.create("f", settings, NOTHING));
    TestProbe<AgentLink.Reservation> reserved = testKit.createTestProbe();
    link.tell(new AgentLink.Reserve("c1", reserved.ref()));
    reserved.expectMessageClass(AgentLink.Reserved.class);
    TestProbe<AgentLink.Outgoing> out = testKit.createTestProbe();
    link.tell(new AgentLink.Connected("c1", out.ref()));
    Connection connection = new Connection(link, out, testKit.createTestProbe());
    connection.send("{\"type\":\"hello\",\"agent\":\"t\"}");
    out.expectMessageClass(AgentLink.Frame.class); // welcome
    return connection;
  }

  @Test
  void theKeptLogIsBoundedByBytesAndEveryLineIsCut() {
    AgentSettings settings = settings("warden.agent { log-bytes-kept = 64k, log-line-max-bytes = 4k, log-lines-kept = 1000 }");
    Connection agent = connect(settings);
    String huge = "z".repeat(200_000);
    for (int i = 0; i < 40; i++) {
      agent.send("{\"type\":\"log\",\"line\":\"" + i + huge + "\"}");
    }
    List<String> log = agent.status().recentLog();
    long bytes = log.stream().mapToLong(TextLimits::utf8Length).sum();
    assertTrue(bytes <= 64 * 1024, "kept " + bytes + " bytes");
    assertTrue(log.size() >= 14 && log.size() <= 16, "about 64 KiB of 4 KiB lines: " + log.size());
    assertTrue(log.get(log.size() - 1).startsWith("stdout: 39zzz"), "the newest line is kept");
    for (String line : log) {
      assertTrue(line.endsWith("[cut: the line had 200002 bytes, the limit is 4096]"),
          line.substring(line.length() - 60));
    }
  }

  @Test
  void theLineCountStillBoundsShortLines() {
    Connection agent = connect(settings("warden.agent.log-lines-kept = 5"));
    for (int i = 0; i < 20; i++) {
      agent.send("{\"type\":\"log\",\"stream\":\"stderr\",\"line\":\"line " + i + "\"}");
    }
    assertEquals(List.of("stderr: line 15", "stderr: line 16", "stderr: line 17", "stderr: line 18", "stderr: line 19"),
        agent.status().recentLog());
  }

  @Test
  void aMessageOverTheSocketsLimitEndsTheConnectionWithAnError() {
    Connection agent = connect(settings(""));
    agent.link().tell(new AgentLink.TooLarge("c1", 1048576));
    AgentLink.Frame error = (AgentLink.Frame) agent.out().receiveMessage();
    assertTrue(error.json().contains("\"type\":\"error\""), error.json());
    assertTrue(error.json().contains("larger than the limit of 1048576 bytes (warden.agent.max-message-bytes); closing"), error.json());
    agent.out().expectMessageClass(AgentLink.Close.class);
    assertEquals(false, agent.status().connected());
    // the slot is free: another agent may connect at once
    TestProbe<AgentLink.Reservation> next = testKit.createTestProbe();
    agent.link().tell(new AgentLink.Reserve("c2", next.ref()));
    next.expectMessageClass(AgentLink.Reserved.class);
  }
}
