package dev.warden.agent;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.DispatcherSelector;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.Route;
import dev.warden.Rejection;
import dev.warden.auth.Caller;
import dev.warden.auth.Role;
import dev.warden.feature.Feature;
import dev.warden.feature.FeatureId;
import dev.warden.feature.FeatureService;
import dev.warden.feature.FeatureSubRoutes;
import dev.warden.git.GitFailure;
import dev.warden.git.PrivateGitDir;
import dev.warden.git.SupervisedRepository;
import dev.warden.http.ApiDirectives;
import dev.warden.process.SandboxPolicy;
import dev.warden.process.SandboxSpec;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/**
 * {@code GET /api/v1/features/{id}/sandbox} (agent token): the sandbox {@code warden agent} runs the
 * feature's agent in (docs/architecture.md, "The agent's sandbox"). Prepares the feature's private git
 * directory ({@code <data>/agent-git/<id>}) first, so the layout it answers can be enforced at once.
 * 409 when the feature has ended or its worktree is gone.
 */
public final class SandboxRoutes extends ApiDirectives implements FeatureSubRoutes {

  private final FeatureService features;
  private final SandboxPolicy policy;
  private final Path agentGitRoot;
  private final Executor blocking;

  public SandboxRoutes(ActorSystem<?> system, FeatureService features, SandboxPolicy policy, Path agentGitRoot, long maxBodyBytes) {
    super(system, maxBodyBytes);
    this.features = features;
    this.policy = policy;
    this.agentGitRoot = agentGitRoot;
    this.blocking = system.dispatchers().lookup(DispatcherSelector.fromConfig("warden-blocking-dispatcher"));
  }

  @Override
  public Route route(Caller caller, String id) {
    return path("sandbox", () -> get(() -> requireRole(caller, Role.AGENT, () ->
        onSuccess(spec(id), spec -> completeJson(StatusCodes.OK, spec)))));
  }

  /** The spec of feature {@code id}'s agent, its private git dir ready. */
  public CompletionStage<SandboxSpec> spec(String id) {
    return features.requireLive(id).thenApplyAsync(this::spec, blocking);
  }

  private SandboxSpec spec(Feature.FeatureSummary feature) {
    Path worktree = Path.of(feature.worktree());
    if (!Files.isDirectory(worktree, LinkOption.NOFOLLOW_LINKS)) {
      throw Rejection.conflict("feature '" + feature.id() + "' has no worktree (" + worktree + " is missing)");
    }
    Path common = SupervisedRepository.atRoot(Path.of(feature.repo())).gitDir().toAbsolutePath().normalize();
    Path admin = PrivateGitDir.adminDirOf(worktree, common);
    Path privateDir = agentGitRoot.resolve(FeatureId.require(feature.id(), "id"));
    try {
      PrivateGitDir.prepare(common, admin, privateDir, feature.branch());
    } catch (GitFailure e) {
      // the branch or the repository is gone: the agent cannot work here, whatever it asks
      throw Rejection.conflict("feature '" + feature.id() + "' has no sandbox: " + e.getMessage());
    }
    return policy.agentSpec(worktree, common, admin, privateDir, feature.plan().sandboxRules());
  }
}
