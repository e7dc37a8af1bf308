package dev.warden.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warden.Rejection;
import dev.warden.feature.FeatureJson;
import dev.warden.feature.FeatureService;
import dev.warden.plan.Plan;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Request bodies: every malformed one is refused naming the field at fault. */
class JsonFieldsTest {

  private final ObjectMapper mapper = new ObjectMapper();

  private FeatureService.NewFeature parse(String body) {
    return FeatureJson.newFeature(JsonFields.parseObject(mapper, body, false));
  }

  private void assertRejectedField(String body, String field) {
    Rejection rejection = assertThrows(Rejection.class, () -> parse(body));
    assertEquals(Rejection.Kind.INVALID, rejection.kind());
    assertEquals(Optional.of(field), rejection.field(), rejection.getMessage());
  }

  @Test
  void aCompleteRequestParsesWithPlanDefaults() {
    FeatureService.NewFeature request = parse("{\"id\":\"login-form\",\"repo\":\"/r\",\"target\":\"main\"}");
    assertEquals("login-form", request.id());
    assertEquals(Plan.defaults(), request.plan());
  }

  @Test
  void aPlanIsReadWithItsLimitsChecksAndTest() {
    FeatureService.NewFeature request = parse("""
        {"id":"x","repo":"/r","target":"main","plan":{
          "allowedPaths":["src/**"],"forbiddenPaths":["secrets/**"],
          "limits":{"maxChangedLines":500,"maxChangedFiles":20},
          "checks":[{"name":"lint","argv":["npm","run","lint"],"timeoutSeconds":60}],
          "test":{"argv":["npm","test"]}}}""");
    Plan plan = request.plan();
    assertEquals(List.of("src/**"), plan.allowedPaths());
    assertEquals(500, plan.limits().maxChangedLines());
    assertEquals(Optional.of(20L), plan.limits().maxChangedFiles());
    assertEquals(Plan.DEFAULT_DISK_QUOTA_BYTES, plan.limits().diskQuotaBytes());
    assertEquals(List.of("npm", "run", "lint"), plan.checks().get(0).argv());
    assertEquals("**", plan.checks().get(0).paths());
    assertEquals(1800, plan.test().orElseThrow().timeoutSeconds());
  }

  @Test
  void missingFieldsAreNamed() {
    assertRejectedField("{\"repo\":\"/r\",\"target\":\"main\"}", "id");
    assertRejectedField("{\"id\":\"x\",\"target\":\"main\"}", "repo");
    assertRejectedField("{\"id\":\"x\",\"repo\":\"/r\"}", "target");
    assertRejectedField("{\"id\":null,\"repo\":\"/r\",\"target\":\"main\"}", "id");
  }

  @Test
  void wronglyTypedFieldsAreNamedAndNeverCoerced() {
    assertRejectedField("{\"id\":42,\"repo\":\"/r\",\"target\":\"main\"}", "id");
    assertRejectedField("{\"id\":\"x\",\"repo\":[\"/r\"],\"target\":\"main\"}", "repo");
    assertRejectedField("{\"id\":\"x\",\"repo\":\"/r\",\"target\":\"main\",\"plan\":\"all\"}", "plan");
    assertRejectedField("{\"id\":\"x\",\"repo\":\"/r\",\"target\":\"main\",\"plan\":{\"limits\":{\"maxChangedLines\":\"9\"}}}",
        "plan.limits.maxChangedLines");
    assertRejectedField("{\"id\":\"x\",\"repo\":\"/r\",\"target\":\"main\",\"plan\":{\"limits\":{\"maxChangedLines\":1.5}}}",
        "plan.limits.maxChangedLines");
    assertRejectedField("{\"id\":\"x\",\"repo\":\"/r\",\"target\":\"main\",\"plan\":{\"allowedPaths\":[\"a\",3]}}",
        "plan.allowedPaths[1]");
  }

  @Test
  void badValuesAreNamed() {
    assertRejectedField("{\"id\":\"Not A Slug\",\"repo\":\"/r\",\"target\":\"main\"}", "id");
    assertRejectedField("{\"id\":\"-leading-dash\",\"repo\":\"/r\",\"target\":\"main\"}", "id");
    assertRejectedField("{\"id\":\"" + "a".repeat(64) + "\",\"repo\":\"/r\",\"target\":\"main\"}", "id");
    assertRejectedField("{\"id\":\"x\",\"repo\":\"/r\",\"target\":\"main\",\"plan\":{\"limits\":{\"diskQuotaBytes\":0}}}",
        "plan.limits.diskQuotaBytes");
    assertRejectedField("{\"id\":\"x\",\"repo\":\"/r\",\"target\":\"main\",\"plan\":{\"checks\":[{\"name\":\"lint\",\"argv\":[]}]}}",
        "plan.checks[0].argv");
    assertRejectedField("{\"id\":\"x\",\"repo\":\"/r\",\"target\":\"main\",\"plan\":{\"test\":{\"argv\":[\"t\"],\"timeoutSeconds\":-1}}}",
        "plan.test.timeoutSeconds");
  }

  @Test
  void badGlobsAndPlannedFilesAreNamed() {
    assertRejectedField("{\"id\":\"x\",\"repo\":\"/r\",\"target\":\"main\",\"plan\":{\"allowedPaths\":[\"src/**\",\"src/[a\"]}}",
        "plan.allowedPaths[1]");
    assertRejectedField("{\"id\":\"x\",\"repo\":\"/r\",\"target\":\"main\",\"plan\":{\"forbiddenPaths\":[\"\"]}}",
        "plan.forbiddenPaths[0]");
    assertRejectedField("{\"id\":\"x\",\"repo\":\"/r\",\"target\":\"main\",\"plan\":{\"plannedFiles\":[\"../etc/passwd\"]}}",
        "plan.plannedFiles[0]");
    assertRejectedField("{\"id\":\"x\",\"repo\":\"/r\",\"target\":\"main\",\"plan\":{\"checks\":[{\"name\":\"l\",\"argv\":[\"x\"],\"paths\":\"a/[\"}]}}",
        "plan.checks[0].paths");
  }

  @Test
  void unknownKeysAreRefusedAtEveryLevel() {
    assertRejectedField("{\"id\":\"x\",\"repo\":\"/r\",\"target\":\"main\",\"branch\":\"b\"}", "branch");
    assertRejectedField("{\"id\":\"x\",\"repo\":\"/r\",\"target\":\"main\",\"plan\":{\"allowed\":[]}}", "plan.allowed");
    assertRejectedField("{\"id\":\"x\",\"repo\":\"/r\",\"target\":\"main\",\"plan\":{\"limits\":{\"maxLines\":1}}}",
        "plan.limits.maxLines");
  }

  @Test
  void aBodyThatIsNotAJsonObjectIsRefusedAsBody() {
    assertRejectedField("", "body");
    assertRejectedField("[1,2]", "body");
    assertRejectedField("{\"id\":", "body");
    assertRejectedField("null", "body");
  }

  private Rejection rejectedBytes(byte[] body) {
    return assertThrows(Rejection.class, () -> parse(JsonFields.decodeUtf8(body)));
  }

  private static byte[] concat(String before, int[] bad, String after) {
    byte[] a = before.getBytes(StandardCharsets.UTF_8);
    byte[] c = after.getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[a.length + bad.length + c.length];
    System.arraycopy(a, 0, out, 0, a.length);
    for (int i = 0; i < bad.length; i++) {
      out[a.length + i] = (byte) bad[i];
    }
    System.arraycopy(c, 0, out, a.length + bad.length, c.length);
    return out;
  }

  @Test
  void contentAfterTheObjectIsRefused() {
    for (String trailing : List.of("{}", "x", "]", "{\"id\":\"y\"}", "0", "\"s\"", "}")) {
      Rejection rejection = assertThrows(Rejection.class,
          () -> parse("{\"id\":\"x\",\"repo\":\"/r\",\"target\":\"main\"} " + trailing));
      assertEquals(Optional.of("body"), rejection.field(), trailing);
      assertTrue(rejection.getMessage().contains("after the JSON object"), rejection.getMessage());
    }
    // whitespace after the object is not content
    assertEquals("x", parse("{\"id\":\"x\",\"repo\":\"/r\",\"target\":\"main\"}\n\t ").id());
  }

  @Test
  void aRepeatedKeyIsRefusedNamingIt() {
    assertRejectedField("{\"id\":\"x\",\"id\":\"y\",\"repo\":\"/r\",\"target\":\"main\"}", "id");
    assertRejectedField("{\"id\":\"x\",\"repo\":\"/r\",\"target\":\"main\",\"plan\":{\"limits\":{\"maxChangedLines\":5,\"maxChangedLines\":9}}}",
        "plan.limits.maxChangedLines");
    assertRejectedField("{\"id\":\"x\",\"repo\":\"/r\",\"target\":\"main\",\"plan\":{\"checks\":[{\"name\":\"a\",\"name\":\"b\",\"argv\":[\"true\"]}]}}",
        "plan.checks[0].name");
  }

  @Test
  void aLoneSurrogateOrNulInAnyStringIsRefusedNamingIt() {
    assertRejectedField("{\"id\":\"x\",\"repo\":\"/r\\ud800\",\"target\":\"main\"}", "repo");
    assertRejectedField("{\"id\":\"x\",\"repo\":\"/r\",\"target\":\"\\udc00main\"}", "target");
    assertRejectedField("{\"id\":\"x\",\"repo\":\"/r\",\"target\":\"ma\\u0000in\"}", "target");
    assertRejectedField("{\"id\":\"x\",\"repo\":\"/r\",\"target\":\"main\",\"plan\":{\"allowedPaths\":[\"src/**\",\"\\ud800\"]}}",
        "plan.allowedPaths[1]");
    // a key: named with the bad character written out, so the problem document stays valid text
    Rejection key = assertThrows(Rejection.class, () -> parse("{\"id\":\"x\",\"repo\":\"/r\",\"target\":\"main\",\"k\\ud800\":1}"));
    assertEquals(Optional.of("k\\ud800"), key.field());
    assertRejectedField("{\"id\":\"x\",\"repo\":\"/r\",\"target\":\"main\",\"plan\":{\"\\u0000\":1}}", "plan.\\u0000");
    // checked before any other rule, so even a field that is unknown or unused cannot carry one
    assertRejectedField("{\"id\":\"x\",\"repo\":\"/r\",\"target\":\"main\",\"extra\":[{\"a\":\"\\udfff\"}]}", "extra[0].a");
  }

  @Test
  void aRawControlCharacterInsideAStringIsRefusedNamingIt() {
    assertRejectedField("{\"id\":\"x\",\"repo\":\"/r\u0000\",\"target\":\"main\"}", "repo");
  }

  @Test
  void aSurrogatePairAndOtherUnicodeAreAccepted() {
    FeatureService.NewFeature request = parse(JsonFields.decodeUtf8(
        "{\"id\":\"x\",\"repo\":\"/r\\ud83d\\ude00/\u00e9t\u00e9\",\"target\":\"\u6f22\ud83d\ude00\"}".getBytes(StandardCharsets.UTF_8)));
    assertEquals("/r\ud83d\ude00/\u00e9t\u00e9", request.repo());
    assertEquals("\u6f22\ud83d\ude00", request.target());
  }

  @Test
  void invalidUtf8IsRefusedNamingTheFieldThatHoldsIt() {
    Rejection stray = rejectedBytes(concat("{\"id\":\"x\",\"repo\":\"/r", new int[] {0xff}, "\",\"target\":\"main\"}"));
    assertEquals(Optional.of("repo"), stray.field());
    assertTrue(stray.getMessage().contains("0xff"), stray.getMessage());
    // an encoded surrogate (CESU-style), an overlong '/', a truncated sequence
    assertEquals(Optional.of("target"),
        rejectedBytes(concat("{\"id\":\"x\",\"repo\":\"/r\",\"target\":\"", new int[] {0xed, 0xa0, 0x80}, "\"}")).field());
    assertEquals(Optional.of("plan.allowedPaths[1]"), rejectedBytes(concat(
        "{\"id\":\"x\",\"repo\":\"/r\",\"target\":\"main\",\"plan\":{\"allowedPaths\":[\"a\",\"b", new int[] {0xc0, 0xaf}, "\"]}}")).field());
    assertEquals(Optional.of("id"), rejectedBytes(concat("{\"id\":\"", new int[] {0xe2, 0x82}, "\"}")).field());
    // in a key: the object holding it is named; outside any string: the body
    assertEquals(Optional.of("plan"), rejectedBytes(concat(
        "{\"id\":\"x\",\"repo\":\"/r\",\"target\":\"main\",\"plan\":{\"allowedPaths\":[],\"k", new int[] {0xff}, "\":1}}")).field());
    assertEquals(Optional.of("body"), rejectedBytes(concat("{\"id\":\"x\"}", new int[] {0xff}, "")).field());
  }
}
