package dev.warden.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warden.plan.Tier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyFileTest {

  @TempDir Path dir;

  private Path write(String text) throws Exception {
    Path file = dir.resolve("policy.conf");
    Files.writeString(file, text);
    return file;
  }

  private List<String> problems(String text) throws Exception {
    Path file = write(text);
    PolicyFile.InvalidPolicyException e = assertThrows(PolicyFile.InvalidPolicyException.class, () -> PolicyFile.parse(file));
    assertTrue(e.getMessage().startsWith("policy file " + file + ": "), e.getMessage());
    return e.problems();
  }

  private static void assertProblem(List<String> problems, String start) {
    assertTrue(problems.stream().anyMatch(p -> p.startsWith(start)), "no problem starting '" + start + "' in " + problems);
  }

  @Test
  void theIssuesExampleParsesWithItsSettings() throws Exception {
    Policy policy = PolicyFile.parse(write("""
        rules = [ { paths = "docs/**", tier = low }, { paths = "src/**", tier = medium }, { paths = "**", tier = high } ]
        tiers { medium { review-window = 2h }, high { approvers = 2 }, expiry = 3d }
        """));
    assertEquals(3, policy.rules().size());
    assertEquals(Tier.LOW, policy.tierOf("docs/x"));
    assertEquals(Duration.ofHours(2), policy.mediumReviewWindow());
    assertEquals(2, policy.highApprovers());
    assertEquals(Duration.ofDays(3), policy.expiry());
  }

  @Test
  void omittedKeysTakeTheDefaultsAndAnEmptyFileIsTheDefaultPolicy() throws Exception {
    assertEquals(Policy.defaults(), PolicyFile.parse(write("")));
    Policy policy = PolicyFile.parse(write("tiers { high { approvers = 3 } }"));
    assertEquals(new Policy(List.of(), Duration.ofHours(24), 3, Duration.ofDays(7)), policy);
  }

  @Test
  void theExampleInConfParsesAndDocumentsTheDefaults() {
    Policy policy = PolicyFile.parse(Path.of("conf/policy.conf"));
    assertEquals(Policy.DEFAULT_MEDIUM_REVIEW_WINDOW, policy.mediumReviewWindow());
    assertEquals(Policy.DEFAULT_HIGH_APPROVERS, policy.highApprovers());
    assertEquals(Policy.DEFAULT_EXPIRY, policy.expiry());
    assertEquals(Tier.HIGH, policy.tierOf("src/main/java/dev/warden/auth/Role.java"));
    assertEquals(Tier.MEDIUM, policy.tierOf("src/main/java/dev/warden/Main.java"));
    assertEquals(Tier.LOW, policy.tierOf("docs/api.md"));
    assertEquals(Tier.LOW, policy.tierOf("src/README.md")); // "*.md" comes before "src/**"
    assertEquals(Tier.HIGH, policy.tierOf("Makefile"));
  }

  @Test
  void errorsNameTheKeyPathAndTheRuleIndex() throws Exception {
    List<String> problems = problems("""
        rules = [
          { paths = "docs/**", tier = low }
          { paths = "src/**" }
          { paths = "**", tier = urgent }
          { tier = low }
          { paths = [], tier = low }
          { paths = ["a/**", 3], tier = LOW }
          "src/**"
        ]
        tiers { medium { review-window = soon }, high { approvers = 0 }, expiry = 0d }
        """);
    assertProblem(problems, "rules[1].tier: missing");
    assertProblem(problems, "rules[2].tier: must be low, medium or high, not 'urgent' (line 4)");
    assertProblem(problems, "rules[3].paths: missing");
    assertProblem(problems, "rules[4].paths: must be a glob or a non-empty list of globs");
    assertProblem(problems, "rules[5].paths[1]: must be a glob in quotes");
    assertProblem(problems, "rules[5].tier: must be low, medium or high, not 'LOW'");
    assertProblem(problems, "rules[6]: must be an object");
    assertProblem(problems, "tiers.medium.review-window: must be a duration");
    assertProblem(problems, "tiers.high.approvers: must be a whole number, at least 1, not 0");
    assertProblem(problems, "tiers.expiry: must be positive");
    assertEquals(10, problems.size(), problems.toString());
  }

  @Test
  void badGlobsAreRejectedWithPathGlobsMessage() throws Exception {
    List<String> problems = problems("""
        rules = [ { paths = "docs/**", tier = low }, { paths = ["ok/**", "src/[a"], tier = medium }, { paths = "../x", tier = low } ]
        """);
    assertProblem(problems, "rules[1].paths[1]: glob 'src/[a': unclosed '['");
    assertProblem(problems, "rules[2].paths: glob '../x': '..' segment");
    assertEquals(2, problems.size(), problems.toString());
  }

  @Test
  void unknownKeysAreRejectedAtEveryLevel() throws Exception {
    List<String> problems = problems("""
        rule = []
        rules = [ { paths = "a/**", tier = low, teir = high } ]
        tiers { low { x = 1 }, medium { review-windows = 1h }, high { approver = 2 }, expires = 1d }
        """);
    assertProblem(problems, "rule: unknown key (known here: rules, tiers)");
    assertProblem(problems, "rules[0].teir: unknown key");
    assertProblem(problems, "tiers.low: unknown key");
    assertProblem(problems, "tiers.medium.review-windows: unknown key");
    assertProblem(problems, "tiers.high.approver: unknown key");
    assertProblem(problems, "tiers.expires: unknown key");
    assertEquals(6, problems.size(), problems.toString());
  }

  @Test
  void wrongShapesAndSyntaxErrorsAreReported() throws Exception {
    assertProblem(problems("rules = \"docs/**\""), "rules: must be a list");
    assertProblem(problems("tiers = 3"), "tiers: must be an object");
    assertProblem(problems("tiers { expiry = 604800000 }"), "tiers.expiry: must be a duration with a unit");
    assertProblem(problems("rules = [ { paths = \"a\", tier = low }"), "syntax: ");
    assertProblem(problems("rules = ${nowhere}"), "syntax: ");
  }
}
