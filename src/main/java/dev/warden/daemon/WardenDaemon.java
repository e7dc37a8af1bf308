package dev.warden.daemon;

import akka.Done;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import akka.http.javadsl.ServerBinding;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import com.typesafe.config.Config;
import dev.warden.auth.AdminTokenFile;
import dev.warden.auth.Role;
import dev.warden.auth.RunTokens;
import dev.warden.auth.SecureFiles;
import dev.warden.agent.RunTokenRoutes;
import dev.warden.feature.PlanTemplates;
import java.util.Optional;
import dev.warden.auth.TokenRegistry;
import dev.warden.agent.AgentRoutes;
import dev.warden.agent.SandboxRoutes;
import dev.warden.apply.Applier;
import dev.warden.apply.ApprovalIndex;
import dev.warden.apply.ApplySettings;
import dev.warden.apply.ApprovalRoutes;
import dev.warden.apply.CheckedOutTargets;
import dev.warden.apply.Landing;
import dev.warden.apply.MergeEngine;
import dev.warden.apply.ProposalDiff;
import dev.warden.apply.ProposalService;
import dev.warden.agent.AgentSettings;
import dev.warden.checkpoint.CheckpointRoutes;
import dev.warden.checkpoint.CheckpointSettings;
import dev.warden.dashboard.DashboardRoutes;
import dev.warden.feature.Feature;
import dev.warden.feature.FeatureSubRoutes;
import dev.warden.feed.FeedCatalog;
import dev.warden.feed.FeedHub;
import dev.warden.feed.FeedRoutes;
import dev.warden.feed.FeedSettings;
import dev.warden.validate.CheckPool;
import dev.warden.validate.CheckRunner;
import dev.warden.validate.CheckSandbox;
import dev.warden.validate.HeavyChecks;
import dev.warden.policy.PolicyRoutes;
import dev.warden.policy.PolicyStore;
import dev.warden.process.SandboxPolicy;
import dev.warden.validate.PatchRoutes;
import dev.warden.validate.ThrowawayWorktree;
import dev.warden.validate.Validator;
import dev.warden.validate.VerdictRoutes;
import dev.warden.watchdog.ChangeLogRoutes;
import dev.warden.watchdog.WatchHub;
import dev.warden.watchdog.WatchdogSettings;
import java.time.Duration;
import dev.warden.feature.FeatureRoutes;
import dev.warden.feature.FeatureService;
import dev.warden.feature.FeatureWorkspaces;
import dev.warden.git.GitCli;
import dev.warden.git.RepositoryGuard;
import dev.warden.git.Worktrees;
import dev.warden.http.Authentication;
import dev.warden.http.HealthRoutes;
import dev.warden.http.HttpServer;
import dev.warden.http.OriginGuard;
import dev.warden.persistence.DatabaseSettings;
import dev.warden.persistence.SchemaInitializer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running Warden node, wired by hand: data directory, journal schema, actor system (a cluster
 * node that joins itself unless seed nodes are configured), the sharded Feature entity, tokens,
 * routes, and the HTTP binding. {@code bin/warden serve} runs one; integration tests start and
 * stop several in one JVM.
 */
public final class WardenDaemon {

  private static final Logger log = LoggerFactory.getLogger(WardenDaemon.class);

  private final ActorSystem<Void> system;
  private final ServerBinding binding;
  private final WardenSettings settings;
  private final DataDirLock lock;

  private WardenDaemon(ActorSystem<Void> system, ServerBinding binding, WardenSettings settings, DataDirLock lock) {
    this.system = system;
    this.binding = binding;
    this.settings = settings;
    this.lock = lock;
  }

  /** Starts a node and returns once HTTP is bound; throws with a readable message when it cannot. */
  public static WardenDaemon start(Config config) {
    WardenSettings settings = WardenSettings.fromConfig(config);
    // a taken port or a data directory in use: one line naming the setting, before anything is written
    requireFreePort(settings.httpHost(), settings.httpPort());
    Path dataDir = prepareDataDir(settings.dataDir());
    DataDirLock lock = DataDirLock.acquire(dataDir);
    try {
      return start(config, settings, dataDir, lock);
    } catch (RuntimeException e) {
      lock.close();
      throw e;
    }
  }

  private static WardenDaemon start(Config config, WardenSettings settings, Path dataDir, DataDirLock lock) {
    DatabaseSettings database = DatabaseSettings.fromConfig(config, dataDir);
    SchemaInitializer.ensureSchema(database);
    ownerOnlyDatabase(database, dataDir);
    TokenRegistry tokens = tokens(settings, dataDir);
    RunTokens runTokens = RunTokens.open(dataDir, settings.runTokenTtl());

    // read before anything starts: a bad policy file stops startup with the problem named
    PolicyStore policy = new PolicyStore(
        Path.of(config.getString("warden.policy.file")).toAbsolutePath().normalize());

    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "warden", config);
    system.getWhenTerminated().thenRun(lock::close); // also when it stops by itself
    WatchHub hub = new WatchHub("warden-watch");
    system.getWhenTerminated().thenRun(hub::close);
    try {
      joinCluster(system);
      Config warden = config.getConfig("warden");
      AgentSettings agentSettings = AgentSettings.fromConfig(warden);
      GitCli git = new GitCli(settings.gitExecutable(), settings.gitCommandTimeout());
      SandboxPolicy sandboxPolicy = sandboxPolicy(config, dataDir); // one for agents, checks and tests
      CheckSandbox checkSandbox = CheckSandbox.of(sandboxPolicy);
      Validator.ValidationServices validation = validationServices(system, warden, git, dataDir, checkSandbox);
      FeatureRuntimeWiring runtime = new FeatureRuntimeWiring(system, hub, agentSettings,
          CheckpointSettings.fromConfig(warden), WatchdogSettings.fromConfig(warden), validation, settings.askTimeout());
      FeatureWorkspaces workspaces = new FeatureWorkspaces(
          new RepositoryGuard(settings.allowedRoots()), new Worktrees(git), dataDir.resolve("worktrees"), dataDir.resolve("agent-git"));
      FeatureService features = new FeatureService(system, workspaces, runtime, settings.askTimeout());

      // the applier before the features: a recovering feature's checkpoints tell it about themselves
      Duration captureTimeout = settings.askTimeout().plus(runtime.pauseTimeout());
      ApplySettings applySettings = ApplySettings.fromConfig(warden);
      Executor blocking = system.dispatchers().lookup(akka.actor.typed.DispatcherSelector.fromConfig("warden-blocking-dispatcher"));
      // the landing's test runs agent-written code like any check: the same sandbox
      MergeEngine engine = new MergeEngine(git, new CheckRunner(CheckRunner.Settings.defaults(), checkSandbox), validation.scratch());
      CheckedOutTargets checkedOut = new CheckedOutTargets(git, dataDir.resolve("landings"),
          List.of(dataDir.resolve("worktrees"), validation.scratch()), applySettings.checkedOutTarget(),
          CheckedOutTargets.holdAt(warden.getString("apply.hold-after-branch-move")));
      Landing landing = new Landing(engine, git, applySettings, blocking, Optional.of(checkedOut));
      // a daemon killed between a branch move and its working tree: finish it (each pending one logged with its command)
      landing.recover().whenComplete((pending, failure) -> {
        if (failure != null) {
          log.warn("cannot finish the landings left in progress: {}", failure.getMessage());
        }
      });
      Applier.init(system, new ApplierWiring(system, features, landing, settings.askTimeout()), applySettings);
      ProposalService proposals = new ProposalService(system, features, policy, new ProposalDiff(git), applySettings,
          new ApprovalIndex(system, applySettings.historyRetention()), blocking, settings.askTimeout(), captureTimeout);
      runtime.useProposals(proposals);
      Feature.init(system, runtime);

      ApprovalRoutes approvalRoutes = new ApprovalRoutes(system, proposals, settings.maxBodyBytes(),
          captureTimeout.plus(applySettings.proposeWait()).plus(settings.askTimeout().multipliedBy(3)),
          settings.askTimeout().plusMinutes(35));
      OriginGuard origins = OriginGuard.fromConfig(warden); // told the bound address below
      VerdictRoutes verdicts = new VerdictRoutes(system, features, settings.maxBodyBytes(), settings.askTimeout(), captureTimeout);
      List<FeatureSubRoutes> subRoutes = List.of(
          new CheckpointRoutes(system, features, settings.maxBodyBytes(), settings.askTimeout(), captureTimeout,
              verdicts::smartRollback),
          verdicts,
          new AgentRoutes(system, features, settings.maxBodyBytes(), settings.askTimeout(), agentSettings, origins,
              runtime::agentConnected),
          new RunTokenRoutes(system, features, runTokens, settings.maxBodyBytes()),
          new SandboxRoutes(system, features, sandboxPolicy, dataDir.resolve("agent-git"), settings.maxBodyBytes()),
          new ChangeLogRoutes(system, features, settings.maxBodyBytes()),
          new PatchRoutes(system, features, settings.maxBodyBytes(), captureTimeout.plusMinutes(30)),
          approvalRoutes);
      watchPolicy(system, warden, policy);
      FeedHub feed = FeedHub.start(system, FeedSettings.fromConfig(warden), FeedCatalog.standard());
      PlanTemplates templates = PlanTemplates.fromConfig(warden, dev.warden.http.ApiDirectives.apiMapper(system));
      Route routes = routes(system, settings, new Authentication(tokens, Optional.of(runTokens)), templates, features, subRoutes, hub,
          new PolicyRoutes(system, policy, settings.maxBodyBytes()), approvalRoutes,
          new FeedRoutes(system, feed, settings.maxBodyBytes(), origins));
      ServerBinding binding = HttpServer.start(system, settings.httpHost(), settings.httpPort(), routes)
          .toCompletableFuture()
          .get(30, TimeUnit.SECONDS);
      origins.bound(binding.localAddress());
      log.info("Warden started: data {}, database {}, {} API token(s)", dataDir, database.describe(), tokens.size());
      return new WardenDaemon(system, binding, settings, lock);
    } catch (Exception e) {
      system.terminate();
      try {
        // let the journal and the cluster shut down before the caller goes on (or the JVM exits)
        system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
      } catch (Exception ignored) {
        // reported below
      }
      throw new IllegalStateException("Warden failed to start: " + e.getMessage(), e);
    }
  }

  private static Route routes(ActorSystem<?> system, WardenSettings settings, Authentication authentication, PlanTemplates templates,
      FeatureService features, List<FeatureSubRoutes> subRoutes, WatchHub hub, PolicyRoutes policyRoutes, ApprovalRoutes approvalRoutes,
      FeedRoutes feedRoutes) {
    AllDirectives d = new AllDirectives() {};
    FeatureRoutes featureRoutes = new FeatureRoutes(system, features, settings.maxBodyBytes(), subRoutes, templates);
    dev.warden.http.WhoAmIRoutes whoAmI = new dev.warden.http.WhoAmIRoutes(system, settings.maxBodyBytes());
    return d.concat(
        new HealthRoutes(system, () -> {
          var stats = hub.stats();
          return new HealthRoutes.WatchFigures(stats.features(), stats.watchedDirectories(), stats.overflows(),
              stats.failedRegistrations(), stats.degradedFeatures());
        }).route(),
        new DashboardRoutes().route(), // static files, no token: the page asks for one
        feedRoutes.route(authentication), // authenticates itself: browsers may pass ?token=
        // a feature-bound caller (a run token) reaches only /api/v1/features/{its id}/...: anything else is 403
        d.pathPrefix("api", () -> authentication.authenticated(caller -> d.extractUnmatchedPath(rest ->
            !dev.warden.http.ApiDirectives.reachable(caller, rest)
                ? d.complete(dev.warden.http.ApiDirectives.boundRefusal(caller))
                : d.pathPrefix("v1", () -> d.concat(featureRoutes.route(caller), policyRoutes.route(), approvalRoutes.route(caller),
                    whoAmI.route(caller)))))));
  }

  /** Polls the policy file for changes until the system terminates. */
  private static void watchPolicy(ActorSystem<?> system, Config warden, PolicyStore store) {
    java.util.concurrent.ScheduledExecutorService poller = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
      Thread thread = new Thread(r, "warden-policy");
      thread.setDaemon(true);
      return thread;
    });
    store.startWatching(poller, warden.getDuration("policy.poll-interval"));
    system.getWhenTerminated().thenRun(poller::shutdownNow);
  }

  /**
   * Warden's side of every sandbox ({@code warden.sandbox}): its data directory and every configuration
   * file a {@code warden} setting came from ({@code --config}, {@code WARDEN_CONFIG}, their includes,
   * {@code -Dconfig.file}) are hidden from sandboxed commands, since they hold tokens and the database
   * password.
   */
  private static SandboxPolicy sandboxPolicy(Config config, Path dataDir) {
    Config warden = config.getConfig("warden");
    java.util.Set<Path> configFiles = new java.util.LinkedHashSet<>();
    Optional.ofNullable(System.getProperty("config.file")).filter(f -> !f.isBlank()).map(Path::of).ifPresent(configFiles::add);
    if (config.hasPath(WardenConfig.OPERATOR_FILE)) {
      configFiles.add(Path.of(config.getString(WardenConfig.OPERATOR_FILE)));
    }
    for (var entry : warden.entrySet()) {
      Optional.ofNullable(entry.getValue().origin().filename()).map(Path::of).ifPresent(configFiles::add);
    }
    return new SandboxPolicy(SandboxPolicy.Settings.fromConfig(warden), dataDir, List.copyOf(configFiles));
  }

  /** The global check pool and heavy-check runner every feature's validator shares. */
  private static Validator.ValidationServices validationServices(ActorSystem<?> system, Config warden, GitCli git, Path dataDir,
      CheckSandbox checkSandbox) throws IOException {
    Config v = warden.getConfig("validation");
    int concurrency = v.getInt("check-concurrency") > 0 ? v.getInt("check-concurrency") : CheckPool.defaultConcurrency();
    CheckPool pool = new CheckPool(concurrency, v.getInt("check-queue"));
    system.getWhenTerminated().thenRun(() -> {
      try {
        pool.shutdown(Duration.ofSeconds(5));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    Path scratch = Files.createDirectories(dataDir.resolve("scratch"));
    sweepScratch(git, scratch);
    HeavyChecks heavy = new HeavyChecks(git, new CheckRunner(CheckRunner.Settings.defaults(), checkSandbox), scratch,
        v.getInt("check-cache-entries"));
    var registry = dev.warden.metrics.WardenMetrics.get(system).registry();
    io.micrometer.core.instrument.Gauge.builder("warden_check_pool_running", pool, p -> p.stats().running()).register(registry);
    io.micrometer.core.instrument.Gauge.builder("warden_check_pool_queued", pool, p -> p.stats().queued()).register(registry);
    io.micrometer.core.instrument.Gauge.builder("warden_check_pool_rejected", pool, p -> p.stats().rejected())
        .description("Heavy checks refused because the queue was full (their verdict says queued)").register(registry);
    io.micrometer.core.instrument.Gauge.builder("warden_check_cache_hits", heavy, h -> h.cacheStats().hits()).register(registry);
    io.micrometer.core.instrument.Gauge.builder("warden_check_cache_misses", heavy, h -> h.cacheStats().misses()).register(registry);
    return new Validator.ValidationServices(pool, heavy,
        system.dispatchers().lookup(akka.actor.typed.DispatcherSelector.fromConfig("warden-blocking-dispatcher")),
        v.getDuration("fast-budget"), v.getDuration("queue-retry"), v.getInt("cache-entries"), git, scratch,
        CheckpointSettings.fromConfig(warden).maxFileBytes());
  }

  /**
   * Throwaway worktrees a previous run left behind (it died mid-check): before any check runs, find
   * each one's repository through its {@code .git} file and let git remove it there; what git does not
   * know any more is simply deleted.
   */
  private static void sweepScratch(GitCli git, Path scratch) throws IOException {
    java.util.Set<Path> repositories = new java.util.LinkedHashSet<>();
    List<Path> leftovers;
    try (var entries = Files.list(scratch)) {
      leftovers = entries.filter(p -> p.getFileName().toString().startsWith("check-")).toList();
    }
    for (Path leftover : leftovers) {
      try {
        String link = Files.readString(leftover.resolve(".git")).trim();
        if (link.startsWith("gitdir:")) {
          Path admin = Path.of(link.substring("gitdir:".length()).trim());
          if (admin.getParent() != null && admin.getParent().getParent() != null) {
            repositories.add(admin.getParent().getParent());
          }
        }
      } catch (IOException unreadable) {
        // no usable .git file: deleted below
      }
    }
    for (Path repository : repositories) {
      try {
        List<Path> removed = ThrowawayWorktree.sweep(git, repository, scratch);
        if (!removed.isEmpty()) {
          log.info("removed {} check worktree(s) a previous run left in {}", removed.size(), repository);
        }
      } catch (RuntimeException e) {
        log.warn("cannot sweep check worktrees of {}: {}", repository, e.getMessage());
      }
    }
    for (Path leftover : leftovers) {
      if (Files.exists(leftover)) {
        dev.warden.git.Directories.deleteTree(leftover);
      }
    }
  }

  /**
   * Fails with one line naming {@code WARDEN_HTTP_PORT} when something already listens on the HTTP
   * port (another Warden, usually). Port 0 (any free one) always passes.
   */
  static void requireFreePort(String host, int port) {
    if (port == 0) {
      return;
    }
    try (java.net.ServerSocket probe = new java.net.ServerSocket()) {
      probe.setReuseAddress(true); // as the HTTP server binds: a port in TIME_WAIT is free
      probe.bind(new InetSocketAddress(host, port));
    } catch (java.net.BindException e) {
      throw new IllegalStateException("the HTTP port " + port + " on " + host + " is taken (another Warden?): set WARDEN_HTTP_PORT"
          + " (warden.http.port) to a free port");
    } catch (IOException e) {
      throw new IllegalStateException("cannot listen on " + host + ":" + port + " (" + e.getMessage()
          + "): check WARDEN_HTTP_HOST and WARDEN_HTTP_PORT (warden.http.host, warden.http.port)");
    }
  }

  /** The data directory, created (or tightened) to mode 0700: tokens, journal and worktrees are the owner's alone. */
  private static Path prepareDataDir(Path dataDir) {
    try {
      Path real = SecureFiles.ownerOnlyDirectory(dataDir);
      Files.createDirectories(real.resolve("worktrees"));
      return real;
    } catch (IOException e) {
      throw new IllegalStateException("cannot create the data directory " + dataDir + ": " + e.getMessage(), e);
    }
  }

  /** The embedded database's files are 0600 in a 0700 directory (PostgreSQL keeps its own). */
  private static void ownerOnlyDatabase(DatabaseSettings database, Path dataDir) {
    if (database.kind() != DatabaseSettings.Kind.H2) {
      return;
    }
    try {
      SecureFiles.ownerOnlyFiles(dataDir.resolve("db"));
    } catch (IOException e) {
      throw new IllegalStateException("cannot restrict the database files under " + dataDir.resolve("db") + ": " + e.getMessage(), e);
    }
  }

  private static TokenRegistry tokens(WardenSettings settings, Path dataDir) {
    if (!settings.tokens().isEmpty()) {
      return new TokenRegistry(settings.tokens());
    }
    String admin = AdminTokenFile.readOrCreate(dataDir);
    return new TokenRegistry(List.of(new TokenRegistry.Entry("admin", Role.ADMIN, TokenRegistry.sha256(admin))));
  }

  /** A node without seed nodes is a cluster of one: it joins itself. */
  private static void joinCluster(ActorSystem<?> system) {
    if (system.settings().config().getStringList("akka.cluster.seed-nodes").isEmpty()) {
      Cluster cluster = Cluster.get(system);
      cluster.manager().tell(Join.create(cluster.selfMember().address()));
    }
  }

  public InetSocketAddress httpAddress() {
    return binding.localAddress();
  }

  public Path dataDir() {
    return settings.dataDir();
  }

  public ActorSystem<Void> system() {
    return system;
  }

  /** Graceful stop through CoordinatedShutdown: unbind, let requests finish, stop entities, close the journal. */
  public CompletionStage<Done> stop() {
    system.terminate();
    // the data directory is free for the next daemon once this completes
    return system.getWhenTerminated().thenApply(done -> {
      lock.close();
      return done;
    });
  }
}
