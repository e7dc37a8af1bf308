package dev.warden.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class TokenRegistryTest {

  private final TokenRegistry registry = new TokenRegistry(List.of(
      new TokenRegistry.Entry("ci", Role.VIEWER, TokenRegistry.sha256("viewer-secret")),
      new TokenRegistry.Entry("ops", Role.ADMIN, TokenRegistry.sha256("admin-secret"))));

  @Test
  void aConfiguredTokenAuthenticatesAsItsNameAndRole() {
    assertEquals(Optional.of(new Caller("ops", Role.ADMIN)), registry.authenticate("admin-secret"));
    assertEquals(Optional.of(new Caller("ci", Role.VIEWER)), registry.authenticate("viewer-secret"));
  }

  @Test
  void unknownEmptyOrNearlyRightTokensDoNot() {
    assertTrue(registry.authenticate("admin-secreT").isEmpty());
    assertTrue(registry.authenticate("").isEmpty());
    assertTrue(registry.authenticate("admin-secret ").isEmpty());
    // the digest itself is not a token
    assertTrue(registry.authenticate(TokenRegistry.sha256Hex("admin-secret")).isEmpty());
  }

  @Test
  void rolesIncludeEveryWeakerRole() {
    assertTrue(Role.ADMIN.includes(Role.APPROVER));
    assertTrue(Role.APPROVER.includes(Role.AGENT));
    assertTrue(Role.AGENT.includes(Role.VIEWER));
    assertFalse(Role.VIEWER.includes(Role.AGENT));
    assertFalse(Role.AGENT.includes(Role.APPROVER));
  }

  @Test
  void aDigestOfTheWrongLengthIsRefusedAtConfiguration() {
    assertThrows(IllegalArgumentException.class, () -> new TokenRegistry.Entry("bad", Role.ADMIN, new byte[16]));
    assertThrows(IllegalArgumentException.class, () -> Role.parse("root"));
  }

  @Test
  void aTokenBoundToFeaturesAuthenticatesAsABoundCallerAndRunNamesAreWardensOwn() {
    TokenRegistry bound = new TokenRegistry(List.of(
        new TokenRegistry.Entry("ci-bot", Role.AGENT, TokenRegistry.sha256("bot-secret"), java.util.Set.of("login-form"))));
    Caller caller = bound.authenticate("bot-secret").orElseThrow();
    assertTrue(caller.isBound() && caller.mayReach("login-form") && !caller.mayReach("billing"));
    assertFalse(caller.isRunToken());
    assertThrows(IllegalArgumentException.class,
        () -> new TokenRegistry.Entry("run:login-form:x", Role.AGENT, TokenRegistry.sha256("s")));
  }
}
