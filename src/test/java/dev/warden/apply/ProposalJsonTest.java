package dev.warden.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.warden.validate.Validator;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ProposalJsonTest {

  @Test
  void aTestThatPrintsAKeyShowsItMaskedInTheProposal() {
    String token = "ghp_Zq3xR8mN2vL5kJ7hG4fD1sA9pO6iU0yT2eW8";
    Validator.CheckOutcome printed = new Validator.CheckOutcome("test", List.of("sh", "-c", "env"), false, Optional.of(1), false,
        12, "GITHUB_TOKEN=" + token + "\n", "1 test failed\n", 0, Optional.empty());
    ProposalJson.TestView view = ProposalJson.TestView.fromDomain(printed);
    assertEquals("GITHUB_TOKEN=«secret:github-token masked»\n1 test failed\n", view.output());
  }
}
