package dev.warden.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warden.Rejection;
import dev.warden.feature.FeatureJson;
import dev.warden.feature.FeatureService;
import dev.warden.feature.Plan;
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
}
