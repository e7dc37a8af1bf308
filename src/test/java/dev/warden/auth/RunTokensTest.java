package dev.warden.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Base64;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunTokensTest {

  @TempDir Path data;

  @Test
  void aRunTokenIsAnAgentBoundToItsFeatureNamedForTheRun() {
    RunTokens tokens = RunTokens.open(data, Duration.ofHours(12));
    RunTokens.Issued issued = tokens.issue("login-form", "ops");
    Caller caller = tokens.authenticate(issued.token()).orElseThrow();
    assertEquals("run:login-form:" + issued.id(), caller.name());
    assertEquals(Role.AGENT, caller.role());
    assertEquals(Set.of("login-form"), caller.features());
    assertTrue(caller.isRunToken() && caller.isBound() && caller.mayReach("login-form") && !caller.mayReach("other"));
  }

  @Test
  void hostileTokensAreNoTokens() {
    RunTokens tokens = RunTokens.open(data, Duration.ofHours(12));
    String token = tokens.issue("login-form", "ops").token();
    String payload = token.substring(RunTokens.PREFIX.length(), token.indexOf('.'));
    String signature = token.substring(token.indexOf('.') + 1);
    // another feature in the payload, the old signature
    String forged = new String(Base64.getUrlDecoder().decode(payload)).replace("login-form", "admin-area");
    for (String bad : new String[] {
        RunTokens.PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(forged.getBytes()) + "." + signature,
        token.substring(0, token.length() - 1) + (token.endsWith("A") ? "B" : "A"),
        RunTokens.PREFIX, RunTokens.PREFIX + ".", RunTokens.PREFIX + "%%%.%%%", RunTokens.PREFIX + payload,
        RunTokens.PREFIX + "x".repeat(600), token + "." + signature}) {
      assertEquals(Optional.empty(), tokens.authenticate(bad), bad);
    }
  }

  @Test
  void aTokenSignedWithAnotherDataDirectorysKeyIsRefused(@TempDir Path other) {
    String token = RunTokens.open(data, Duration.ofHours(1)).issue("login-form", "ops").token();
    assertEquals(Optional.empty(), RunTokens.open(other, Duration.ofHours(1)).authenticate(token));
  }

  @Test
  void anExpiredTokenIsRefused() throws Exception {
    RunTokens tokens = RunTokens.open(data, Duration.ofSeconds(2));
    String token = tokens.issue("login-form", "ops").token();
    assertTrue(tokens.authenticate(token).isPresent(), "a fresh token with 2 s to live");
    Thread.sleep(3_100);
    assertEquals(Optional.empty(), tokens.authenticate(token));
    assertFalse(tokens.revoke(token), "nothing to revoke: it has expired");
  }

  @Test
  void theKeyIsOwnerOnlyAndTokensAndRevocationsOutliveARestart() throws Exception {
    RunTokens first = RunTokens.open(data, Duration.ofHours(1));
    String kept = first.issue("a", "ops").token();
    String revoked = first.issue("a", "ops").token();
    assertTrue(first.revoke(revoked));
    assertTrue(first.revoke(revoked), "revoking twice is harmless");
    assertEquals(Optional.empty(), first.authenticate(revoked));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(data.resolve(RunTokens.KEY_FILE))));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(data.resolve(RunTokens.REVOKED_FILE))));

    RunTokens second = RunTokens.open(data, Duration.ofHours(1));
    assertTrue(second.authenticate(kept).isPresent());
    assertEquals(Optional.empty(), second.authenticate(revoked));
  }
}
