package dev.warden.feature;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import dev.warden.Rejection;
import dev.warden.http.JsonFields;
import dev.warden.plan.Plan;
import java.util.List;
import org.junit.jupiter.api.Test;

class PlanTemplatesTest {

  private final ObjectMapper mapper = new ObjectMapper();

  private PlanTemplates read(String hocon) {
    return PlanTemplates.fromConfig(ConfigFactory.parseString(hocon), mapper);
  }

  @Test
  void aTemplateIsAPlanInTheApisShape() {
    PlanTemplates templates = read("""
        plan-templates {
          java-service {
            allowedPaths = ["src/**"]
            checks = [ { name = "compile", argv = ["mvn", "-q", "compile"], timeoutSeconds = 600 } ]
            test { argv = ["mvn", "-q", "test"] }
          }
        }
        """);
    Plan plan = templates.get("java-service").orElseThrow();
    assertEquals(List.of("src/**"), plan.allowedPaths());
    assertEquals("compile", plan.checks().get(0).name());
    assertEquals(List.of("mvn", "-q", "test"), plan.test().orElseThrow().argv());
    assertTrue(read("x = 1").all().isEmpty(), "no section: no templates");
  }

  @Test
  void aBadTemplateStopsStartupNamingItAndTheField() {
    ConfigException.BadValue bad = assertThrows(ConfigException.BadValue.class,
        () -> read("plan-templates { broken { checks = [ { name = \"x\", argv = [] } ] } }"));
    assertTrue(bad.getMessage().contains("warden.plan-templates.broken") && bad.getMessage().contains("checks[0].argv"), bad.getMessage());
    assertTrue(assertThrows(ConfigException.BadValue.class, () -> read("plan-templates { \"Not A Slug\" { } }"))
        .getMessage().contains("slugs"));
    assertTrue(assertThrows(ConfigException.BadValue.class, () -> read("plan-templates { odd = 3 }"))
        .getMessage().contains("plan object"));
    assertTrue(assertThrows(ConfigException.BadValue.class, () -> read("plan-templates { typo { alowedPaths = [] } }"))
        .getMessage().contains("alowedPaths"));
  }

  @Test
  void onlyAnApproverSendsAPlanThatRunsCodeButAnyoneMayUseATemplate() {
    PlanTemplates templates = read("plan-templates { t { test { argv = [\"true\"] } } }");
    String checks = "{\"id\":\"a\",\"repo\":\"/r\",\"target\":\"main\",\"plan\":{\"checks\":[{\"name\":\"l\",\"argv\":[\"x\"]}]}}";
    Rejection refused = assertThrows(Rejection.class,
        () -> FeatureJson.newFeature(JsonFields.parseObject(mapper, checks, false), templates, false));
    assertEquals(Rejection.Kind.FORBIDDEN, refused.kind());
    assertEquals("plan.checks", refused.field().orElseThrow());
    assertEquals(1, FeatureJson.newFeature(JsonFields.parseObject(mapper, checks, false), templates, true).plan().checks().size());
    FeatureService.NewFeature fromTemplate = FeatureJson.newFeature(
        JsonFields.parseObject(mapper, "{\"id\":\"a\",\"repo\":\"/r\",\"target\":\"main\",\"planTemplate\":\"t\"}", false), templates, false);
    assertTrue(fromTemplate.plan().test().isPresent());
  }
}
