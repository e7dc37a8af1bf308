package dev.warden.checkpoint;

import akka.actor.typed.ActorRef;
import akka.actor.typed.javadsl.ActorContext;
import akka.persistence.typed.javadsl.EffectFactories;
import akka.persistence.typed.javadsl.ReplyEffect;
import dev.warden.Rejection;
import dev.warden.checkpoint.Checkpoints.CheckpointRecord;
import dev.warden.checkpoint.Checkpoints.Command;
import dev.warden.checkpoint.Checkpoints.Compare;
import dev.warden.checkpoint.Checkpoints.Comparison;
import dev.warden.checkpoint.Checkpoints.Diff;
import dev.warden.checkpoint.Checkpoints.DiffText;
import dev.warden.checkpoint.Checkpoints.Event;
import dev.warden.checkpoint.Checkpoints.Found;
import dev.warden.checkpoint.Checkpoints.GetCheckpoint;
import dev.warden.checkpoint.Checkpoints.HistoryRead;
import dev.warden.checkpoint.Checkpoints.ListCheckpoints;
import dev.warden.checkpoint.Checkpoints.Listing;
import dev.warden.checkpoint.Checkpoints.Missing;
import dev.warden.checkpoint.Checkpoints.Page;
import dev.warden.checkpoint.CheckpointsState.Started;
import dev.warden.plan.Trigger;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.eclipse.jgit.lib.ObjectId;

/**
 * A chain's reads (list, get, diff, compare), answered from its state when it holds the records,
 * else from the journal first: the records a read needs that only the journal has
 * ({@link CheckpointJournal}) come back to the chain as a {@link HistoryRead}, and the read is then
 * handled again with them. Git reads go through {@link ChainWorker#read}, answered straight to the
 * asker, never waiting behind a capture. Used by the {@link Checkpoints} command handlers, on the
 * actor's thread; nothing running elsewhere touches the actor.
 */
final class CheckpointReads {

  private final String featureId;
  private final String persistenceId;
  private final ActorContext<Command> context;
  private final CheckpointSettings settings;
  private final ChainWorker worker;
  private final CheckpointJournal history;
  private final EffectFactories<Event, CheckpointsState> effects;

  CheckpointReads(String featureId, String persistenceId, ActorContext<Command> context, CheckpointSettings settings,
      ChainWorker worker, CheckpointJournal history, EffectFactories<Event, CheckpointsState> effects) {
    this.featureId = featureId;
    this.persistenceId = persistenceId;
    this.context = context;
    this.settings = settings;
    this.worker = worker;
    this.history = history;
    this.effects = effects;
  }

  Optional<ReplyEffect<Event, CheckpointsState>> listProblem(ListCheckpoints list) {
    if (list.offset() < 0) {
      return Optional.of(effects.reply(list.replyTo(), new Missing(Rejection.Kind.INVALID, "offset: must not be negative, was " + list.offset())));
    }
    if (list.limit() < 0) {
      return Optional.of(effects.reply(list.replyTo(), new Missing(Rejection.Kind.INVALID, "limit: must not be negative, was " + list.limit())));
    }
    return Optional.empty();
  }

  ReplyEffect<Event, CheckpointsState> onList(Started state, ListCheckpoints list) {
    Optional<ReplyEffect<Event, CheckpointsState>> problem = listProblem(list);
    if (problem.isPresent()) {
      return problem.get();
    }
    long total = state.count();
    long from = Math.min(list.offset(), total); // checkpoints from + 1 ..
    long to = from + Math.min(list.limit(), total - from); // .. to; never from + limit: it overflows
    if (from == to || from + 1 >= state.firstRecent()) {
      int skip = (int) (from + 1 - state.firstRecent());
      return effects.reply(list.replyTo(), new Page(total, List.copyOf(state.recent().subList(skip, skip + (int) (to - from)))));
    }
    ActorRef<Listing> replyTo = list.replyTo();
    history.range(persistenceId, from + 1, to).whenComplete((records, failure) -> replyTo.tell(failure == null
        ? new Page(total, List.copyOf(records))
        : new Missing(Rejection.Kind.CONFLICT, "cannot read the checkpoints of '" + featureId + "': " + unwrap(failure).getMessage())));
    return effects.noReply();
  }

  ReplyEffect<Event, CheckpointsState> onGet(Started state, GetCheckpoint get, Map<Long, CheckpointRecord> read) {
    if (unread(state, read, get.seq())) {
      return readHistory(get, Set.of(get.seq()));
    }
    Optional<CheckpointRecord> record = record(state, read, get.seq());
    if (record.isEmpty()) {
      return effects.reply(get.replyTo(), missing(get.seq()));
    }
    CheckpointRecord r = record.get();
    worker.read(state.setup(), chain -> chain.compare(ObjectId.fromString(r.parent()), ObjectId.fromString(r.commit())))
        .whenComplete((files, failure) -> get.replyTo().tell(failure == null ? new Found(r, files)
            : new Missing(Rejection.Kind.CONFLICT, "cannot read checkpoint " + r.seq() + ": " + unwrap(failure).getMessage())));
    return effects.noReply();
  }

  ReplyEffect<Event, CheckpointsState> onDiff(Started state, Diff diff, Map<Long, CheckpointRecord> read) {
    if (unread(state, read, diff.seq())) {
      return readHistory(diff, Set.of(diff.seq()));
    }
    Optional<CheckpointRecord> record = record(state, read, diff.seq());
    if (record.isEmpty()) {
      return effects.reply(diff.replyTo(), missing(diff.seq()));
    }
    String from = diff.againstBase() ? state.setup().baseCommit() : record.get().parent();
    String to = record.get().commit();
    long maxBytes = settings.diffMaxBytes();
    worker.read(state.setup(), chain -> chain.diff(ObjectId.fromString(from), ObjectId.fromString(to), maxBytes))
        .whenComplete((text, failure) -> diff.replyTo().tell(failure == null ? new DiffText(from, to, text)
            : new Missing(Rejection.Kind.CONFLICT, "cannot diff checkpoint " + diff.seq() + ": " + unwrap(failure).getMessage())));
    return effects.noReply();
  }

  ReplyEffect<Event, CheckpointsState> onCompare(Started state, Compare compare, Map<Long, CheckpointRecord> read) {
    Set<Long> unread = new java.util.TreeSet<>();
    for (long seq : new long[] {compare.from(), compare.to()}) {
      if (unread(state, read, seq)) {
        unread.add(seq);
      }
    }
    if (!unread.isEmpty()) {
      return readHistory(compare, unread);
    }
    Optional<String> from = commitOf(state, read, compare.from());
    Optional<String> to = commitOf(state, read, compare.to());
    if (from.isEmpty()) {
      return effects.reply(compare.replyTo(), missing(compare.from()));
    }
    if (to.isEmpty()) {
      return effects.reply(compare.replyTo(), missing(compare.to()));
    }
    ObjectId a = ObjectId.fromString(from.get());
    ObjectId b = ObjectId.fromString(to.get());
    long maxBytes = settings.diffMaxBytes();
    worker.read(state.setup(), chain -> new Comparison(from.get(), to.get(), chain.compare(a, b), chain.diff(a, b, maxBytes)))
        .whenComplete((result, failure) -> compare.replyTo().tell(failure == null ? result
            : new Missing(Rejection.Kind.CONFLICT, "cannot compare: " + unwrap(failure).getMessage())));
    return effects.noReply();
  }

  /** Whether record {@code seq} is needed from the journal and was not read yet. */
  static boolean unread(Started state, Map<Long, CheckpointRecord> read, long seq) {
    return state.onlyInJournal(seq) && !read.containsKey(seq);
  }

  ReplyEffect<Event, CheckpointsState> readHistory(Command original, Set<Long> seqs) {
    context.pipeToSelf(history.only(persistenceId, seqs), (records, failure) -> failure != null
        ? new HistoryRead(original, Map.of(), Optional.of(String.valueOf(unwrap(failure).getMessage())))
        : new HistoryRead(original, records.stream().collect(java.util.stream.Collectors.toMap(CheckpointRecord::seq, r -> r)),
            Optional.empty()));
    return effects.noReply();
  }

  /** Why {@code read} failed, for the asker. */
  String journalFailure(HistoryRead read) {
    return "cannot read the checkpoints of '" + featureId + "' from the journal: " + read.failure().orElse("");
  }

  /** A get, diff or compare handled again with the records the journal had (other commands: no reply). */
  ReplyEffect<Event, CheckpointsState> onHistoryRead(Started state, HistoryRead read) {
    if (read.failure().isPresent()) {
      Missing missing = new Missing(Rejection.Kind.CONFLICT, journalFailure(read));
      Command original = read.original();
      if (original instanceof GetCheckpoint get) {
        return effects.reply(get.replyTo(), missing);
      } else if (original instanceof Diff diff) {
        return effects.reply(diff.replyTo(), missing);
      } else if (original instanceof Compare compare) {
        return effects.reply(compare.replyTo(), missing);
      }
      return effects.noReply();
    }
    // a record the journal does not have is missing: not asked for again
    Map<Long, CheckpointRecord> records = new java.util.HashMap<>(read.records());
    Command original = read.original();
    if (original instanceof GetCheckpoint get) {
      return onGet(state, get, absentAsKnown(records, get.seq()));
    } else if (original instanceof Diff diff) {
      return onDiff(state, diff, absentAsKnown(records, diff.seq()));
    } else if (original instanceof Compare compare) {
      return onCompare(state, compare, absentAsKnown(absentAsKnown(records, compare.from()), compare.to()));
    }
    return effects.noReply();
  }

  /** Marks {@code seq} as read even if the journal had no such record (it is then missing). */
  static Map<Long, CheckpointRecord> absentAsKnown(Map<Long, CheckpointRecord> records, long seq) {
    records.putIfAbsent(seq, NOT_IN_JOURNAL);
    return records;
  }

  private static final CheckpointRecord NOT_IN_JOURNAL = new CheckpointRecord(-1, "", "", "", Trigger.MANUAL, false,
      Optional.empty(), 0, 0, 0, 0, 0, Instant.EPOCH);

  private static Optional<CheckpointRecord> record(Started state, Map<Long, CheckpointRecord> read, long seq) {
    Optional<CheckpointRecord> fromState = state.bySeq(seq);
    return fromState.isPresent() ? fromState : Optional.ofNullable(read.get(seq)).filter(r -> r != NOT_IN_JOURNAL);
  }

  static Optional<String> commitOf(Started state, Map<Long, CheckpointRecord> read, long seq) {
    if (seq == 0) {
      return Optional.of(state.setup().baseCommit());
    }
    return record(state, read, seq).map(CheckpointRecord::commit);
  }

  Missing missing(long seq) {
    return new Missing(Rejection.Kind.NOT_FOUND, "feature '" + featureId + "' has no checkpoint " + seq);
  }

  /** The failure itself, not the CompletionException around it. */
  static Throwable unwrap(Throwable failure) {
    Throwable cause = failure;
    while (cause instanceof java.util.concurrent.CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    return cause;
  }
}
