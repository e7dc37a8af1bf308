package dev.warden.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The {@code sandbox} of an agent's {@code hello}: what Warden records about it, and what it refuses. */
class AgentMessageTest {

  @Test
  void helloSaysWhetherTheAgentIsSandboxedOrSaysNothing() {
    AgentMessage.Hello sandboxed = assertInstanceOf(AgentMessage.Hello.class,
        AgentMessage.parse("{\"type\":\"hello\",\"agent\":\"claude\",\"sandbox\":\"bubblewrap\"}"));
    assertEquals(Optional.of(true), sandboxed.sandboxed());
    AgentMessage.Hello none = assertInstanceOf(AgentMessage.Hello.class,
        AgentMessage.parse("{\"type\":\"hello\",\"agent\":\"claude\",\"sandbox\":\"none\",\"sandboxReason\":\"--no-sandbox was given\"}"));
    assertEquals(Optional.of(false), none.sandboxed());
    assertEquals(Optional.of("--no-sandbox was given"), none.sandboxReason());
    // an agent speaking the protocol itself: nothing to record
    AgentMessage.Hello silent = assertInstanceOf(AgentMessage.Hello.class, AgentMessage.parse("{\"type\":\"hello\",\"agent\":\"bot\"}"));
    assertEquals(Optional.empty(), silent.sandboxed());
  }

  @Test
  void anUnknownSandboxIsMalformedAndAHugeReasonIsCut() {
    AgentMessage.Malformed bad = assertInstanceOf(AgentMessage.Malformed.class,
        AgentMessage.parse("{\"type\":\"hello\",\"agent\":\"claude\",\"sandbox\":\"trust-me\"}"));
    assertEquals("hello: field 'sandbox' must be \"bubblewrap\" or \"none\"", bad.problem());
    assertInstanceOf(AgentMessage.Malformed.class, AgentMessage.parse("{\"type\":\"hello\",\"agent\":\"a\",\"sandbox\":true}"));
    AgentMessage.Hello huge = assertInstanceOf(AgentMessage.Hello.class, AgentMessage.parse(
        "{\"type\":\"hello\",\"agent\":\"a\",\"sandbox\":\"none\",\"sandboxReason\":\"" + "x".repeat(100_000) + "\"}"));
    assertTrue(huge.sandboxReason().orElseThrow().length() <= AgentMessage.MAX_SANDBOX_REASON + 1, "cut for the feature, feed and page");
  }
}
