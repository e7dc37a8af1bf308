package dev.warden.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warden.plan.Tier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyTest {

  @TempDir Path dir;

  private Policy parse(String text) throws Exception {
    Path file = dir.resolve("policy.conf");
    Files.writeString(file, text);
    return PolicyFile.parse(file);
  }

  private static final String EXAMPLE = """
      rules = [
        { paths = "docs/**", tier = low }
        { paths = ["src/**", "/pom.xml"], tier = medium }
        { paths = "src/main/java/dev/warden/auth/**", tier = high }
        { paths = "*.md", tier = low }
      ]
      """;

  @Test
  void eachPathGetsItsFirstMatchingRulesTierAndAnUnnamedPathIsHigh() throws Exception {
    Policy policy = parse(EXAMPLE);
    assertEquals(Tier.LOW, policy.tierOf("docs/guide/intro.md"));
    assertEquals(Tier.MEDIUM, policy.tierOf("src/main/java/A.java"));
    assertEquals(Tier.MEDIUM, policy.tierOf("pom.xml"));
    assertEquals(Tier.LOW, policy.tierOf("README.md"));
    assertEquals(Tier.HIGH, policy.tierOf("deploy/warden.service"));
    assertEquals(Tier.HIGH, policy.tierOf("lib/pom.xml")); // "/pom.xml" is anchored at the root (git-style)
    assertEquals(Tier.LOW, policy.tierOf("lib/NOTES.md")); // "*.md" has no '/': any depth
  }

  @Test
  void theFirstMatchWinsEvenWhenALaterRuleIsMoreSpecificOrRiskier() throws Exception {
    Policy policy = parse(EXAMPLE);
    // rule 1 (src/**) comes before rule 2 (src/.../auth/**): the earlier rule decides
    assertEquals(Tier.MEDIUM, policy.tierOf("src/main/java/dev/warden/auth/TokenRegistry.java"));
    assertEquals(1, policy.ruleFor("src/main/java/dev/warden/auth/TokenRegistry.java").orElseThrow().index());
    // docs/** (low) before *.md (low) and nothing after can raise it
    assertEquals(0, policy.ruleFor("docs/x.md").orElseThrow().index());
    // reversed order: the specific high rule first
    Policy reversed = parse("""
        rules = [ { paths = "src/secret/**", tier = high }, { paths = "src/**", tier = low } ]
        """);
    assertEquals(Tier.HIGH, reversed.tierOf("src/secret/key.txt"));
    assertEquals(Tier.LOW, reversed.tierOf("src/ok.txt"));
  }

  @Test
  void aProposalsTierIsTheHighestOverItsPaths() throws Exception {
    Policy policy = parse(EXAMPLE);
    assertEquals(Tier.LOW, policy.tierOf(List.of("docs/a.md", "README.md"), Optional.empty()));
    assertEquals(Tier.MEDIUM, policy.tierOf(List.of("docs/a.md", "src/A.java"), Optional.empty()));
    assertEquals(Tier.HIGH, policy.tierOf(List.of("docs/a.md", "src/A.java", "Makefile"), Optional.empty()));
    assertEquals(Tier.LOW, policy.tierOf(List.of(), Optional.empty()));
  }

  @Test
  void aPlanMayRaiseTheTierButNeverLowerIt() throws Exception {
    Policy policy = parse(EXAMPLE);
    List<String> docs = List.of("docs/a.md");
    List<String> unnamed = List.of("docs/a.md", "Makefile");
    assertEquals(Tier.MEDIUM, policy.tierOf(docs, Optional.of(Tier.MEDIUM)));
    assertEquals(Tier.HIGH, policy.tierOf(docs, Optional.of(Tier.HIGH)));
    assertEquals(Tier.LOW, policy.tierOf(docs, Optional.of(Tier.LOW)));
    assertEquals(Tier.HIGH, policy.tierOf(unnamed, Optional.of(Tier.LOW)));
    assertEquals(Tier.HIGH, policy.tierOf(unnamed, Optional.of(Tier.MEDIUM)));
    assertEquals(Tier.MEDIUM, policy.tierOf(List.of(), Optional.of(Tier.MEDIUM)));
  }

  @Test
  void theDefaultsMakeEverythingHighWithTheIssuesTierSettings() {
    Policy policy = Policy.defaults();
    assertTrue(policy.rules().isEmpty());
    assertEquals(Tier.HIGH, policy.tierOf("docs/a.md"));
    assertEquals(Tier.HIGH, policy.tierOf(List.of("README.md"), Optional.of(Tier.LOW)));
    assertEquals(Duration.ofHours(24), policy.mediumReviewWindow());
    assertEquals(1, policy.highApprovers());
    assertEquals(Duration.ofDays(7), policy.expiry());
  }

  @Test
  void tiersAreOrderedAndLowerCaseInJson() throws Exception {
    assertEquals(Tier.HIGH, Tier.LOW.max(Tier.HIGH));
    assertEquals(Tier.MEDIUM, Tier.MEDIUM.max(Tier.LOW));
    assertEquals(Tier.MEDIUM, Tier.MEDIUM.max(Tier.MEDIUM));
    ObjectMapper json = new ObjectMapper();
    assertEquals("\"medium\"", json.writeValueAsString(Tier.MEDIUM));
    assertEquals(Tier.HIGH, json.readValue("\"high\"", Tier.class));
    assertEquals(Optional.of(Tier.LOW), Tier.fromLabel("low"));
    assertEquals(Optional.empty(), Tier.fromLabel("LOW"));
  }

  @Test
  void aPolicyRefusesImpossibleSettings() {
    assertThrows(IllegalArgumentException.class, () -> new Policy(List.of(), Duration.ofHours(-1), 1, Duration.ofDays(1)));
    assertThrows(IllegalArgumentException.class, () -> new Policy(List.of(), Duration.ZERO, 0, Duration.ofDays(1)));
    assertThrows(IllegalArgumentException.class, () -> new Policy(List.of(), Duration.ZERO, 1, Duration.ZERO));
  }
}
