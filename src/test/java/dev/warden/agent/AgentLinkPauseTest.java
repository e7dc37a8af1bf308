package dev.warden.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.Done;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Whom a checkpoint escalates: only a connected agent that did not acknowledge. With nobody
 * connected, or once the wrapper said its command exited, there is nothing to pause: the checkpoint
 * is told why, with no escalation.
 */
class AgentLinkPauseTest {

  private static final ActorTestKit testKit = ActorTestKit.create(ConfigFactory.parseString("akka.actor.provider = local"));

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  private static final AgentSettings SETTINGS = settings("200ms");

  private static AgentSettings settings(String ackDeadline) {
    return AgentSettings.fromConfig(ConfigFactory.parseString("warden.agent { ack-deadline = " + ackDeadline + ", ack-tries = 1 }")
        .withFallback(ConfigFactory.parseResources("application.conf")).resolve().getConfig("warden"));
  }

  /** What the link told the feature about exits. */
  private static final class Sink implements AgentLink.FeatureSink {
    final TestProbe<String> exits = testKit.createTestProbe();

    @Override
    public void questionAsked(String questionId, String text) {}

    @Override
    public void proposed(String description) {}

    @Override
    public void unresponsive(String reason) {}

    @Override
    public void patch(String diff) {}

    @Override
    public void exited(int code, String agent) {
      exits.ref().tell(agent + " " + code);
    }
  }

  private static AgentLink.PauseOutcome pause(ActorRef<AgentLink.Command> link) {
    TestProbe<AgentLink.PauseOutcome> reply = testKit.createTestProbe();
    link.tell(new AgentLink.PauseForCheckpoint("checkpoint", reply.ref()));
    return reply.receiveMessage(Duration.ofSeconds(5));
  }

  private static TestProbe<AgentLink.Outgoing> connect(ActorRef<AgentLink.Command> link, String connectionId) {
    TestProbe<AgentLink.Reservation> reserved = testKit.createTestProbe();
    link.tell(new AgentLink.Reserve(connectionId, reserved.ref()));
    reserved.expectMessageClass(AgentLink.Reserved.class);
    TestProbe<AgentLink.Outgoing> out = testKit.createTestProbe();
    link.tell(new AgentLink.Connected(connectionId, out.ref()));
    send(link, connectionId, "{\"type\":\"hello\",\"agent\":\"claude\",\"capabilities\":[\"pause\"]}");
    out.expectMessageClass(AgentLink.Frame.class); // welcome
    return out;
  }

  private static void send(ActorRef<AgentLink.Command> link, String connectionId, String json) {
    TestProbe<Done> handled = testKit.createTestProbe();
    link.tell(new AgentLink.FromAgent(connectionId, json, handled.ref()));
    handled.expectMessage(Done.getInstance());
  }

  @Test
  void withNobodyConnectedACheckpointIsToldSoWithoutAnEscalation() {
    ActorRef<AgentLink.Command> link = testKit.spawn(AgentLink.create("f", SETTINGS, new Sink()));
    assertEquals(new AgentLink.NotPaused(AgentLink.NO_AGENT_CONNECTED, false), pause(link));
    assertEquals("no agent connected", AgentLink.NO_AGENT_CONNECTED);
  }

  @Test
  void aConnectedAgentThatDoesNotAcknowledgeIsStillEscalated() {
    ActorRef<AgentLink.Command> link = testKit.spawn(AgentLink.create("f", SETTINGS, new Sink()));
    connect(link, "c1");
    AgentLink.NotPaused silent = assertInstanceOf(AgentLink.NotPaused.class, pause(link));
    assertTrue(silent.escalate(), silent.toString());
  }

  @Test
  void afterTheWrappersExitAPauseUnderWayAndEveryLaterOneSayAgentExitedUntilAnotherAgentConnects() {
    Sink sink = new Sink();
    ActorRef<AgentLink.Command> link = testKit.spawn(AgentLink.create("f", settings("30s"), sink));
    TestProbe<AgentLink.Outgoing> out = connect(link, "c1");
    TestProbe<AgentLink.PauseOutcome> underWay = testKit.createTestProbe();
    link.tell(new AgentLink.PauseForCheckpoint("checkpoint", underWay.ref()));
    assertTrue(assertInstanceOf(AgentLink.Frame.class, out.receiveMessage()).json().contains("\"pause\""));

    send(link, "c1", "{\"type\":\"exit\",\"code\":4}");
    assertEquals(new AgentLink.NotPaused(AgentLink.AGENT_EXITED, false), underWay.receiveMessage());
    assertEquals("claude 4", sink.exits.receiveMessage());
    assertEquals(new AgentLink.NotPaused("agent exited", false), pause(link));
    send(link, "c1", "{\"type\":\"exit\",\"code\":4}"); // said again: told to the feature once
    sink.exits.expectNoMessage(Duration.ofMillis(200));

    link.tell(new AgentLink.Disconnected("c1"));
    assertEquals(new AgentLink.NotPaused(AgentLink.AGENT_EXITED, false), pause(link), "gone after its exit: still nothing to pause");

    // the next run's agent is paused as usual
    TestProbe<AgentLink.Outgoing> next = connect(link, "c2");
    TestProbe<AgentLink.PauseOutcome> paused = testKit.createTestProbe();
    link.tell(new AgentLink.PauseForCheckpoint("checkpoint", paused.ref()));
    String pauseFrame = assertInstanceOf(AgentLink.Frame.class, next.receiveMessage()).json();
    String id = pauseFrame.replaceAll(".*\"id\":\"([^\"]+)\".*", "$1");
    send(link, "c2", "{\"type\":\"ack\",\"id\":\"" + id + "\",\"state\":\"paused\"}");
    assertEquals(new AgentLink.Paused(), paused.receiveMessage());
  }
}
