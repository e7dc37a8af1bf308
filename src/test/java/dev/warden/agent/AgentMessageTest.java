package dev.warden.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What an agent sends is bounded field by field: a long log line is cut, any other long field refused. */
class AgentMessageTest {

  private static final int TEXT = 100;
  private static final int LINE = 200;

  private static AgentMessage parse(String json) {
    return AgentMessage.parse(json, TEXT, LINE);
  }

  @Test
  void aLongLogLineIsCutAndSaysHowLongItWas() {
    AgentMessage.Log log = assertInstanceOf(AgentMessage.Log.class, parse("{\"type\":\"log\",\"line\":\"" + "x".repeat(5000) + "\"}"));
    assertTrue(log.line().startsWith("x".repeat(LINE)));
    assertTrue(log.line().endsWith(" [cut: the line had 5000 bytes, the limit is 200]"), log.line());
    assertEquals(LINE + " [cut: the line had 5000 bytes, the limit is 200]".length(), log.line().length());
    AgentMessage.Log shortLine = assertInstanceOf(AgentMessage.Log.class, parse("{\"type\":\"log\",\"line\":\"fine\"}"));
    assertEquals("fine", shortLine.line());
  }

  @Test
  void aLongQuestionIsMalformedNamingTheField() {
    AgentMessage.Malformed malformed = assertInstanceOf(AgentMessage.Malformed.class,
        parse("{\"type\":\"question\",\"id\":\"q1\",\"text\":\"" + "?".repeat(TEXT + 1) + "\"}"));
    assertEquals("question: field 'text' is longer than the limit of 100 bytes", malformed.problem());
    assertEquals("question", malformed.ref());
    assertInstanceOf(AgentMessage.Question.class, parse("{\"type\":\"question\",\"id\":\"q1\",\"text\":\"" + "?".repeat(TEXT) + "\"}"));
  }

  @Test
  void longIdsDescriptionsAndHelloFieldsAreMalformedToo() {
    String big = "\"" + "é".repeat(TEXT / 2 + 1) + "\""; // 102 bytes in UTF-8, 51 characters
    assertEquals("propose: field 'description' is longer than the limit of 100 bytes",
        ((AgentMessage.Malformed) parse("{\"type\":\"propose\",\"description\":" + big + "}")).problem());
    assertEquals("ack: field 'id' is longer than the limit of 100 bytes",
        ((AgentMessage.Malformed) parse("{\"type\":\"ack\",\"state\":\"paused\",\"id\":" + big + "}")).problem());
    assertEquals("hello: field 'agent' is longer than the limit of 100 bytes",
        ((AgentMessage.Malformed) parse("{\"type\":\"hello\",\"agent\":" + big + "}")).problem());
    String many = "[" + "\"c\",".repeat(AgentMessage.MAX_CAPABILITIES) + "\"c\"]";
    assertEquals("hello: field 'capabilities' lists more than 32 entries",
        ((AgentMessage.Malformed) parse("{\"type\":\"hello\",\"agent\":\"a\",\"capabilities\":" + many + "}")).problem());
  }

  @Test
  void anUnknownTypeIsEchoedOnlyInPart() {
    AgentMessage.Malformed malformed = assertInstanceOf(AgentMessage.Malformed.class,
        parse("{\"type\":\"" + "t".repeat(100_000) + "\"}"));
    assertTrue(malformed.problem().length() < 300, "the error repeats at most 200 bytes of the type");
    assertEquals(200, malformed.ref().length());
  }

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

  @Test
  void exitCarriesTheCommandsExitStatusAndAnythingElseIsMalformed() {
    assertEquals(new AgentMessage.Exit(4), parse("{\"type\":\"exit\",\"code\":4}"));
    assertEquals(new AgentMessage.Exit(0), parse("{\"type\":\"exit\",\"code\":0}"));
    assertEquals(new AgentMessage.Exit(255), parse("{\"type\":\"exit\",\"code\":255}"));
    assertEquals("exit: field 'code' is required",
        assertInstanceOf(AgentMessage.Malformed.class, parse("{\"type\":\"exit\"}")).problem());
    assertEquals("exit: field 'code' must be a whole number",
        assertInstanceOf(AgentMessage.Malformed.class, parse("{\"type\":\"exit\",\"code\":\"4\"}")).problem());
    for (String code : List.of("-1", "256", "99999999999999999999", "18446744073709551620", "4.5")) {
      AgentMessage.Malformed malformed = assertInstanceOf(AgentMessage.Malformed.class, parse("{\"type\":\"exit\",\"code\":" + code + "}"));
      assertTrue(malformed.problem().startsWith("exit: field 'code' must be"), code + ": " + malformed.problem());
    }
  }
}
