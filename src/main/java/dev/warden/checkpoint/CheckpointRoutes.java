package dev.warden.checkpoint;

import akka.actor.typed.ActorSystem;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.sharding.typed.javadsl.EntityRef;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.PathMatchers;
import akka.http.javadsl.server.Route;
import dev.warden.Rejection;
import dev.warden.auth.Caller;
import dev.warden.auth.Role;
import dev.warden.feature.FeatureService;
import dev.warden.feature.FeatureSubRoutes;
import dev.warden.http.ApiDirectives;
import dev.warden.http.JsonFields;
import dev.warden.http.SecretViews;
import dev.warden.plan.Trigger;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;

/**
 * {@code /api/v1/features/{id}/checkpoint(s)} and {@code /rollback}: take a checkpoint, page through
 * the chain, read one with its files, its diff, compare two, roll back (a checkpoint's verdict is served
 * by the validation routes). Reading needs a viewer token;
 * checkpointing and rolling back an agent token. Diffs come with their secrets masked ({@link SecretViews}).
 */
public final class CheckpointRoutes extends ApiDirectives implements FeatureSubRoutes {

  private static final int DEFAULT_PAGE = 50;
  private static final int MAX_PAGE = 500;

  private final ClusterSharding sharding;
  private final FeatureService features;
  private final Duration askTimeout;
  private final Duration captureTimeout;
  private final SmartRollback smartRollback;

  /**
   * A smart rollback ({@code "strategy": "smart"}): the validator chooses the checkpoint and the paths.
   * The validator's package sits above this one, so it is handed in; a nothing-to-roll-back answer is
   * a {@link Checkpoints.Failed} outcome.
   */
  @FunctionalInterface
  public interface SmartRollback {
    CompletionStage<Checkpoints.Outcome> rollBack(String featureId, String by);
  }

  public CheckpointRoutes(ActorSystem<?> system, FeatureService features, long maxBodyBytes, Duration askTimeout, Duration captureTimeout,
      SmartRollback smartRollback) {
    super(system, maxBodyBytes);
    this.sharding = ClusterSharding.get(system);
    this.features = features;
    this.askTimeout = askTimeout;
    this.captureTimeout = captureTimeout;
    this.smartRollback = smartRollback;
  }

  @Override
  public Route route(Caller caller, String id) {
    return concat(
        path("checkpoint", () -> post(() -> requireRole(caller, Role.AGENT, () -> bodyText(text -> {
          JsonFields.parseObject(mapper, text, true).onlyKeys(Set.of()); // no body, or {}
          return onSuccess(live(id).thenCompose(f -> chain(id).<Checkpoints.Outcome>ask(
                  replyTo -> new Checkpoints.Request(Trigger.MANUAL, List.of(), true, replyTo), captureTimeout)),
              outcome -> outcome(outcome, true));
        })))),
        path("rollback", () -> post(() -> requireRole(caller, Role.AGENT, () -> bodyText(text -> {
          JsonFields body = JsonFields.parseObject(mapper, text, false).onlyKeys(Set.of("to", "paths", "strategy"));
          Optional<String> strategy = body.optionalText("strategy");
          if (strategy.isPresent() && strategy.get().equals("smart")) {
            if (body.optionalPositiveLong("to").isPresent() || body.optionalStrings("paths").isPresent()) {
              throw Rejection.invalid("strategy", "a smart rollback chooses its checkpoint and paths itself: leave out to and paths");
            }
            return onSuccess(live(id).thenCompose(f -> smartRollback.rollBack(id, caller.name())),
                outcome -> outcome(outcome, false));
          }
          if (strategy.isPresent() && !List.of("full", "partial").contains(strategy.get())) {
            throw Rejection.invalid("strategy", "must be \"full\", \"partial\" or \"smart\"");
          }
          if (strategy.isPresent() && strategy.get().equals("full") && body.optionalStrings("paths").isPresent()) {
            throw Rejection.invalid("paths", "a full rollback takes no paths (use strategy partial)");
          }
          if (strategy.isPresent() && strategy.get().equals("partial") && body.optionalStrings("paths").isEmpty()) {
            throw Rejection.invalid("paths", "a partial rollback needs the paths to restore");
          }
          long to = body.optionalNonNegativeLong("to")
              .orElseThrow(() -> Rejection.invalid("to", "is required: the checkpoint number to go back to (0: the base)"));
          Optional<List<String>> paths = body.optionalStrings("paths");
          if (paths.isPresent() && paths.get().isEmpty()) {
            throw Rejection.invalid("paths", "must name at least one path (omit it to roll back everything)");
          }
          paths.ifPresent(list -> list.forEach(CheckpointRoutes::requireRelative));
          return onSuccess(live(id).thenCompose(f -> chain(id).<Checkpoints.Outcome>ask(
                  replyTo -> new Checkpoints.Rollback(to, paths, caller.name(), replyTo), captureTimeout)),
              outcome -> outcome(outcome, false));
        })))),
        pathPrefix("checkpoints", () -> onSuccess(features.get(id), feature -> concat(
            pathEndOrSingleSlash(() -> get(() -> parameterOptional("offset", offset -> parameterOptional("limit", limit -> {
              int from = (int) numberParam("offset", offset, 0, Integer.MAX_VALUE);
              int size = (int) numberParam("limit", limit, DEFAULT_PAGE, MAX_PAGE);
              return onSuccess(chain(id).<Checkpoints.Listing>ask(replyTo -> new Checkpoints.ListCheckpoints(from, size, replyTo), askTimeout),
                  listing -> {
                    if (listing instanceof Checkpoints.Missing missing) {
                      throw Rejection.of(missing.kind(), missing.message());
                    }
                    Checkpoints.Page page = (Checkpoints.Page) listing;
                    return completeJson(StatusCodes.OK, new PageView(page.total(), from,
                        page.checkpoints().stream().map(CheckpointView::fromDomain).toList()));
                  });
            })))),
            path("compare", () -> get(() -> SecretViews.rawParameter(caller, raw -> parameterOptional("from", from -> parameterOptional("to", to -> {
              long a = numberParam("from", Optional.of(from.orElseThrow(() -> Rejection.invalid("from", "is required (0 is the base)"))), 0, Long.MAX_VALUE);
              long b = numberParam("to", Optional.of(to.orElseThrow(() -> Rejection.invalid("to", "is required"))), 0, Long.MAX_VALUE);
              return onSuccess(chain(id).<Checkpoints.CompareResult>ask(replyTo -> new Checkpoints.Compare(a, b, replyTo), askTimeout),
                  result -> {
                    if (result instanceof Checkpoints.Missing missing) {
                      throw Rejection.of(missing.kind(), missing.message());
                    }
                    Checkpoints.Comparison c = (Checkpoints.Comparison) result;
                    SecretViews.View diff = SecretViews.diff(c.diff(), raw);
                    return respondWithHeaders(diff.headers(), () -> completeJson(StatusCodes.OK, new ComparisonView(a, b, c.from(),
                        c.to(), c.files().stream().map(FileView::fromDomain).toList(), diff.text())));
                  });
            }))))),
            pathPrefix(PathMatchers.longSegment(), seq -> concat(
                pathEnd(() -> get(() -> onSuccess(
                    chain(id).<Checkpoints.Lookup>ask(replyTo -> new Checkpoints.GetCheckpoint(seq, replyTo), askTimeout),
                    lookup -> {
                      if (lookup instanceof Checkpoints.Missing missing) {
                        throw Rejection.of(missing.kind(), missing.message());
                      }
                      Checkpoints.Found found = (Checkpoints.Found) lookup;
                      return completeJson(StatusCodes.OK, new CheckpointDetail(CheckpointView.fromDomain(found.checkpoint()),
                          found.files().stream().map(FileView::fromDomain).toList()));
                    }))),
                path("diff", () -> get(() -> SecretViews.rawParameter(caller, raw -> parameterOptional("against", against -> {
                  boolean base = against.map(value -> {
                    if (!value.equals("base") && !value.equals("previous")) {
                      throw Rejection.invalid("against", "must be 'base' or 'previous'");
                    }
                    return value.equals("base");
                  }).orElse(false);
                  return onSuccess(chain(id).<Checkpoints.DiffResult>ask(replyTo -> new Checkpoints.Diff(seq, base, replyTo), askTimeout),
                      result -> {
                        if (result instanceof Checkpoints.Missing missing) {
                          throw Rejection.of(missing.kind(), missing.message());
                        }
                        return complete(SecretViews.diff(((Checkpoints.DiffText) result).diff(), raw).plainText());
                      });
                }))))))))));
  }

  private CompletionStage<?> live(String id) {
    return features.requireLive(id);
  }

  private EntityRef<Checkpoints.Command> chain(String id) {
    return sharding.entityRefFor(Checkpoints.ENTITY_KEY, id);
  }

  private Route outcome(Checkpoints.Outcome outcome, boolean created) {
    if (outcome instanceof Checkpoints.Taken taken) {
      return completeJson(created ? StatusCodes.CREATED : StatusCodes.OK, CheckpointView.fromDomain(taken.checkpoint()));
    }
    if (outcome instanceof Checkpoints.NoChange same) {
      return completeJson(StatusCodes.OK, same.latest().map(CheckpointView::fromDomain).orElse(null));
    }
    Checkpoints.Failed failed = (Checkpoints.Failed) outcome;
    throw Rejection.of(failed.kind(), failed.message());
  }

  /** The chain's own rule ({@link Snapshotter#restorePathProblem}), here to answer 400 naming {@code paths}. */
  private static void requireRelative(String path) {
    String problem = Snapshotter.restorePathProblem(path);
    if (problem != null) {
      throw Rejection.invalid("paths", "'" + path + "' " + problem);
    }
  }

  /**
   * A checkpoint as the API shows it. {@code skippedFiles}: files over the size cap that the capture
   * did not read (empty for most checkpoints); a checkpoint with any is invalid ({@code file-too-large}).
   */
  public record CheckpointView(
      long seq, String commit, String tree, String parent, String trigger, boolean quiesced, String quiesceNote,
      int filesChanged, int linesAdded, int linesRemoved, int filesChangedSinceBase, long captureMs, Instant takenAt,
      List<SkippedFileView> skippedFiles) {
    static CheckpointView fromDomain(Checkpoints.CheckpointRecord r) {
      return new CheckpointView(r.seq(), r.commit(), r.tree(), r.parent(), r.trigger().label(), r.quiesced(),
          r.quiesceNote().orElse(null), r.filesChanged(), r.linesAdded(), r.linesRemoved(), r.filesChangedSinceBase(),
          r.captureMs(), r.takenAt(), r.skipped().stream().map(SkippedFileView::fromDomain).toList());
    }
  }

  /** A file left out of a checkpoint: its size in bytes (apparent size: a sparse file counts in full) and the cap it exceeded. */
  public record SkippedFileView(String path, long bytes, long limitBytes) {
    static SkippedFileView fromDomain(Checkpoints.SkippedFile f) {
      return new SkippedFileView(f.path(), f.bytes(), f.limit());
    }
  }

  public record FileView(String path, String change, int linesAdded, int linesRemoved, boolean binary) {
    static FileView fromDomain(Snapshotter.FileChange f) {
      return new FileView(f.path(), f.kind().name().toLowerCase(), f.linesAdded(), f.linesRemoved(), f.binary());
    }
  }

  public record PageView(long total, int offset, List<CheckpointView> checkpoints) {}

  public record CheckpointDetail(CheckpointView checkpoint, List<FileView> files) {}

  public record ComparisonView(long from, long to, String fromCommit, String toCommit, List<FileView> files, String diff) {}
}
