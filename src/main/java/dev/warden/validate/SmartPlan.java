package dev.warden.validate;

import dev.warden.validate.Validator.State;
import dev.warden.validate.Validator.Underway;
import dev.warden.validate.Validator.VerdictRecord;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A smart rollback's plan: which files of checkpoint {@code from} go back to their content in
 * checkpoint {@code to} (the last valid one before it; the base when none was). Decided from the
 * {@link Validator}'s state alone.
 */
record SmartPlan(long from, long to, List<String> paths) {

  /** The plan for the latest judged checkpoint; empty when it has no violation tied to a file. */
  static Optional<SmartPlan> latest(State state) {
    // the latest judged checkpoint (an invalid one whose checks still run counts); nothing to undo unless its
    // own violations make it invalid
    Stream<VerdictRecord> judging = state.underway().stream().map(Underway::verdict)
        .filter(v -> v.status() != VerdictStatus.RUNNING && v.status() != VerdictStatus.QUEUED);
    Stream<VerdictRecord> judged = state.ledger().latest().filter(v -> state.underway().stream().noneMatch(u -> u.seq() == v.seq()))
        .stream();
    return Stream.concat(judging, judged).max(Comparator.comparingLong(VerdictRecord::seq))
        .flatMap(latest -> of(state, latest.seq(), latest.violations()));
  }

  /** Which files of checkpoint {@code from} to put back, and from which checkpoint; empty when none. */
  static Optional<SmartPlan> of(State state, long from, List<Violation> violations) {
    List<String> paths = violations.stream().filter(v -> v.severity().failsValidation()).map(Violation::path)
        .filter(path -> !path.equals(".") && !path.isBlank()).distinct().toList();
    if (paths.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new SmartPlan(from, state.ledger().lastValidBefore(from), paths));
  }
}
