package dev.warden.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.function.Consumer;

/**
 * The wrapper's run token: asked for with the operator's token
 * ({@code POST /api/v1/features/{id}/agent-token}), used for the agent connection instead of the
 * operator's token, renewed past half its life (on the next connection), and revoked when the run
 * ends ({@code DELETE}, presenting it). The agent process never sees it, nor the operator's.
 */
final class RunToken {

  private final WardenClient operator;
  private final String feature;
  private final Consumer<String> warn;
  private String token; // guarded by this
  private Instant renewAt; // guarded by this
  private boolean revoked; // guarded by this

  private RunToken(WardenClient operator, String feature, Consumer<String> warn) {
    this.operator = operator;
    this.feature = feature;
    this.warn = warn;
  }

  /** A fresh run token for {@code feature}; Warden's refusal or silence is an {@link AgentCommand.Refusal}. */
  static RunToken obtain(WardenClient operator, String feature, Consumer<String> warn)
      throws AgentCommand.Refusal, InterruptedException {
    RunToken run = new RunToken(operator, feature, warn);
    try {
      run.issue();
    } catch (WardenClient.Unreachable e) {
      throw new AgentCommand.Refusal(e.getMessage());
    } catch (WardenClient.Problem e) {
      throw new AgentCommand.Refusal(AgentCommand.refusal(feature, e.status(), e.detail()) + " (asking for a run token)");
    }
    return run;
  }

  private synchronized void issue() throws WardenClient.Problem, WardenClient.Unreachable, InterruptedException {
    Instant asked = Instant.now();
    JsonNode answer = AgentProtocol.parse(operator.post(path(), "{}"))
        .orElseThrow(() -> new WardenClient.Problem(502, "Bad Gateway", "Warden's run token answer is not a JSON object"));
    String fresh = AgentProtocol.text(answer, "token").filter(t -> !t.isBlank())
        .orElseThrow(() -> new WardenClient.Problem(502, "Bad Gateway", "Warden's run token answer has no token"));
    Instant expiresAt;
    try {
      expiresAt = Instant.parse(AgentProtocol.text(answer, "expiresAt").orElse(""));
    } catch (DateTimeParseException e) {
      expiresAt = asked.plus(Duration.ofMinutes(10));
    }
    token = fresh;
    renewAt = asked.plus(Duration.between(asked, expiresAt).dividedBy(2));
  }

  /** The token for the next connection: renewed first when past half its life (the old one is revoked). */
  synchronized String current() {
    if (!revoked && Instant.now().isAfter(renewAt)) {
      String old = token;
      try {
        issue();
        revoke(old);
      } catch (WardenClient.Problem | WardenClient.Unreachable e) {
        warn.accept("could not renew the run token (" + e.getMessage() + "); using the current one until it expires");
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    return token;
  }

  /** Ends the token (harmless to repeat); failures are reported, it expires anyway. */
  synchronized void revoke() {
    if (revoked) {
      return;
    }
    revoked = true;
    try {
      revoke(token);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void revoke(String which) throws InterruptedException {
    try {
      operator.withToken(which).delete(path());
    } catch (WardenClient.Problem | WardenClient.Unreachable e) {
      warn.accept("could not revoke the run token (" + e.getMessage() + "); it expires by itself");
    }
  }

  private String path() {
    return "/api/v1/features/" + feature + "/agent-token";
  }
}
