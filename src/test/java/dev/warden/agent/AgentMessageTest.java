package dev.warden.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import org.junit.jupiter.api.Test;

/**
 * An agent's text that the journal could not store (a lone surrogate, a NUL) is refused as a malformed
 * message naming the field, before it can become a question or a proposal.
 */
class AgentMessageTest {

  @Test
  void aLoneSurrogateOrNulAnywhereIsMalformedNamingTheField() {
    var question = assertInstanceOf(AgentMessage.Malformed.class,
        AgentMessage.parse("{\"type\":\"question\",\"id\":\"q1\",\"text\":\"why\\ud800?\"}"));
    assertEquals("field 'text' contains a lone surrogate (\\ud800) at character 3; send valid Unicode", question.problem());
    assertEquals("question", question.ref());
    var propose = assertInstanceOf(AgentMessage.Malformed.class,
        AgentMessage.parse("{\"type\":\"propose\",\"description\":\"done\\u0000\"}"));
    assertEquals("field 'description' contains NUL (\\u0000) at character 4; text may not hold NUL", propose.problem());
    var hello = assertInstanceOf(AgentMessage.Malformed.class,
        AgentMessage.parse("{\"type\":\"hello\",\"agent\":\"a\",\"capabilities\":[\"pause\",\"\\udc00\"]}"));
    assertEquals("hello", hello.ref());
  }

  @Test
  void properUnicodeStillPasses() {
    var question = assertInstanceOf(AgentMessage.Question.class,
        AgentMessage.parse("{\"type\":\"question\",\"id\":\"q1\",\"text\":\"ok \\ud83d\\ude00 \u00e9\"}"));
    assertEquals("ok \ud83d\ude00 \u00e9", question.text());
  }
}
