package dev.warden.validate;

import dev.warden.validate.Validator.ChecksCompleted;
import dev.warden.validate.Validator.ChecksQueued;
import dev.warden.validate.Validator.Event;
import dev.warden.validate.Validator.FastRulesChecked;
import dev.warden.validate.Validator.Idle;
import dev.warden.validate.VerdictLedger.Span;
import dev.warden.validate.Validator.State;
import dev.warden.validate.Validator.Underway;
import dev.warden.validate.Validator.ValidationFailed;
import dev.warden.validate.Validator.ValidationStarted;
import dev.warden.validate.Validator.Validating;
import dev.warden.validate.Validator.VerdictRecord;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.stream.Stream;

/**
 * The Validator's event handlers, pure: an event and the state before it give the state after it. The
 * same folds rebuild one checkpoint's verdict from the journal ({@link #fold}) when the state no longer
 * holds it, so a verdict read back from the journal is the verdict the entity held.
 */
final class ValidatorStates {

  private ValidatorStates() {}

  static State apply(State state, Event event) {
    if (event instanceof ValidationStarted e) {
      List<Underway> underway = new ArrayList<>(without(state.underway(), e.seq()));
      underway.add(new Underway(e, started(e)));
      underway.sort(Comparator.comparingLong(Underway::seq));
      return new Validating(List.copyOf(underway), state.ledger().started(e.seq()));
    }
    if (event instanceof FastRulesChecked e) {
      VerdictRecord after = fastRulesChecked(held(state, e.seq(), e.at()), e);
      return e.checksFollow() ? replace(state, after) : finish(state, after);
    }
    if (event instanceof ChecksQueued e) {
      return replace(state, queued(held(state, e.seq(), e.at()), e));
    }
    if (event instanceof ChecksCompleted e) {
      return finish(state, completed(held(state, e.seq(), e.at()), e));
    }
    if (event instanceof ValidationFailed e) {
      return finish(state, failed(state.verdict(e.seq()), e));
    }
    return state; // PatchRejected: an audit fact, no checkpoint's verdict
  }

  /**
   * Checkpoint {@code seq}'s verdict after {@code event}, from its verdict before ({@code current}); events
   * of other checkpoints leave it as it is. Folding a whole journal gives the verdict the entity held.
   */
  static Optional<VerdictRecord> fold(Optional<VerdictRecord> current, long seq, Object event) {
    if (event instanceof ValidationStarted e && e.seq() == seq) {
      return Optional.of(started(e));
    }
    if (event instanceof FastRulesChecked e && e.seq() == seq) {
      return Optional.of(fastRulesChecked(current.orElseGet(() -> stub(seq, e.at())), e));
    }
    if (event instanceof ChecksQueued e && e.seq() == seq) {
      return Optional.of(queued(current.orElseGet(() -> stub(seq, e.at())), e));
    }
    if (event instanceof ChecksCompleted e && e.seq() == seq) {
      return Optional.of(completed(current.orElseGet(() -> stub(seq, e.at())), e));
    }
    if (event instanceof ValidationFailed e && e.seq() == seq) {
      return Optional.of(failed(current, e));
    }
    return current;
  }

  // ---- one verdict ----

  static VerdictRecord started(ValidationStarted e) {
    return new VerdictRecord(e.seq(), e.commit(), VerdictStatus.RUNNING, VerdictStatus.RUNNING, 0, List.of(), List.of(), List.of(),
        Optional.empty(), e.at(), Optional.empty());
  }

  private static VerdictRecord fastRulesChecked(VerdictRecord before, FastRulesChecked e) {
    // an invalid checkpoint stays invalid whatever the checks say, but the checks still run and are recorded
    VerdictStatus status = e.checksFollow() && e.verdict() != VerdictStatus.INVALID ? VerdictStatus.RUNNING : e.verdict();
    return new VerdictRecord(e.seq(), before.commit(), status, e.verdict(), e.planVersion(), e.violations(), e.unchecked(), List.of(),
        Optional.empty(), before.startedAt(), e.checksFollow() ? Optional.empty() : Optional.of(e.at()));
  }

  private static VerdictRecord queued(VerdictRecord before, ChecksQueued e) {
    return new VerdictRecord(e.seq(), before.commit(), VerdictStatus.QUEUED, before.fastRules(), before.planVersion(),
        before.violations(), before.unchecked(), List.of(), Optional.of(e.reason()), before.startedAt(), Optional.empty());
  }

  private static VerdictRecord completed(VerdictRecord before, ChecksCompleted e) {
    return new VerdictRecord(e.seq(), before.commit(), e.verdict(), before.fastRules(), before.planVersion(), before.violations(),
        before.unchecked(), e.checks(), Optional.empty(), before.startedAt(), Optional.of(e.at()));
  }

  private static VerdictRecord failed(Optional<VerdictRecord> held, ValidationFailed e) {
    VerdictRecord before = held.orElse(null);
    boolean alreadyInvalid = before != null && before.fastRules() == VerdictStatus.INVALID;
    return new VerdictRecord(e.seq(), before == null ? "" : before.commit(),
        alreadyInvalid ? VerdictStatus.INVALID : VerdictStatus.DEGRADED,
        before == null ? VerdictStatus.DEGRADED : before.fastRules(),
        before == null ? 0 : before.planVersion(), before == null ? List.of() : before.violations(),
        Stream.concat(before == null ? Stream.<String>empty() : before.unchecked().stream(),
            Stream.of("validation failed: " + e.reason())).toList(), List.of(), Optional.of(e.reason()),
        before == null ? e.at() : before.startedAt(), Optional.of(e.at()));
  }

  /** A verdict for an event whose start is not held (never happens in a journal the entity wrote). */
  private static VerdictRecord stub(long seq, Instant at) {
    return new VerdictRecord(seq, "", VerdictStatus.RUNNING, VerdictStatus.RUNNING, 0, List.of(), List.of(), List.of(),
        Optional.empty(), at, Optional.empty());
  }

  // ---- the state ----

  private static VerdictRecord held(State state, long seq, Instant at) {
    return state.verdict(seq).orElseGet(() -> stub(seq, at));
  }

  private static List<Underway> without(List<Underway> underway, long seq) {
    return underway.stream().filter(u -> u.seq() != seq).toList();
  }

  /** A verdict under way changed but is not final yet. */
  private static State replace(State state, VerdictRecord verdict) {
    Optional<Underway> current = state.underway().stream().filter(u -> u.seq() == verdict.seq()).findFirst();
    if (current.isEmpty()) {
      return state; // not under way: nothing the state keeps
    }
    List<Underway> underway = state.underway().stream()
        .map(u -> u.seq() == verdict.seq() ? new Underway(u.started(), verdict) : u).toList();
    return new Validating(underway, state.ledger());
  }

  /** A verdict is final: it leaves the validations under way and the ledger keeps what decisions need of it. */
  private static State finish(State state, VerdictRecord verdict) {
    List<Underway> underway = without(state.underway(), verdict.seq());
    OptionalLong oldest = underway.stream().mapToLong(Underway::seq).min();
    VerdictLedger ledger = state.ledger().judged(verdict, oldest);
    return underway.isEmpty() ? new Idle(ledger) : new Validating(underway, ledger);
  }

  // ---- the ledger ----

  /** {@code seqs} with {@code seq} added (or removed), sorted. */
  static List<Long> with(List<Long> seqs, long seq, boolean in) {
    Stream<Long> kept = seqs.stream().filter(s -> s != seq);
    return (in ? Stream.concat(kept, Stream.of(seq)) : kept).sorted().toList();
  }

  /**
   * The valid checkpoints smart rollback may need: every one from the oldest validation under way on, and
   * the newest before it (the only one a question about a later checkpoint can be answered with).
   */
  static List<Long> trim(List<Long> valid, OptionalLong oldestUnderway) {
    long from = oldestUnderway.orElse(Long.MAX_VALUE);
    Optional<Long> newestBefore = valid.stream().filter(s -> s < from).max(Long::compare);
    return Stream.concat(newestBefore.stream(), valid.stream().filter(s -> s >= from)).toList();
  }

  /** {@code spans} with {@code seq} in them: adjacent spans are merged, so a run of checkpoints is one span. */
  static List<Span> seen(List<Span> spans, long seq) {
    if (spans.stream().anyMatch(s -> s.contains(seq))) {
      return spans;
    }
    List<Span> all = new ArrayList<>(spans);
    all.add(new Span(seq, seq));
    all.sort(Comparator.comparingLong(Span::from));
    List<Span> merged = new ArrayList<>();
    for (Span span : all) {
      Span last = merged.isEmpty() ? null : merged.get(merged.size() - 1);
      if (last != null && span.from() <= last.to() + 1) {
        merged.set(merged.size() - 1, new Span(last.from(), Math.max(last.to(), span.to())));
      } else {
        merged.add(span);
      }
    }
    return List.copyOf(merged);
  }
}
