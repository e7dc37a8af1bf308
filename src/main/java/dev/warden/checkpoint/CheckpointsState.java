package dev.warden.checkpoint;

import dev.warden.CborSerializable;
import dev.warden.checkpoint.Checkpoints.ChainSetup;
import dev.warden.checkpoint.Checkpoints.CheckpointRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The state of a {@link Checkpoints} chain: one record per phase, changed only by its event handler,
 * which returns a new one. What the chain keeps is only what its decisions need. The records of all
 * its checkpoints are in its events ({@link Checkpoints.CheckpointTaken}); the state keeps their
 * number and the newest {@link #RECENT_KEPT} (the tip, and what reads ask most), so it does not grow
 * with the chain's history. Older records are read back from the journal ({@link CheckpointJournal}).
 * Stored in snapshots: snapshots of the state before it was bounded ({@code Checkpoints$State}) are
 * read by {@link CheckpointsStateMigration}.
 */
public sealed interface CheckpointsState extends CborSerializable {

  /**
   * How many of the newest checkpoint records a chain keeps in its state (and snapshots): at least the
   * dashboard's page (50, newest first), so opening a feature reads no journal.
   */
  int RECENT_KEPT = 64;

  /** How many checkpoints the chain has recorded (the newest is numbered so). */
  long count();

  /** The newest records, oldest first: numbered {@code count - recent.size() + 1} to {@code count}. */
  List<CheckpointRecord> recent();

  default Optional<CheckpointRecord> latest() {
    List<CheckpointRecord> recent = recent();
    return recent.isEmpty() ? Optional.empty() : Optional.of(recent.get(recent.size() - 1));
  }

  /** The chain's Start has not come yet: nothing recorded, commands that need it wait for it. */
  record Unstarted() implements CheckpointsState {
    @Override
    public long count() {
      return 0;
    }

    @Override
    public List<CheckpointRecord> recent() {
      return List.of();
    }
  }

  /** Started at {@code setup}, with {@code count} checkpoints of which the newest are {@code recent}. */
  record Started(ChainSetup setup, long count, List<CheckpointRecord> recent) implements CheckpointsState {
    public Started {
      recent = List.copyOf(recent);
    }

    Started withSetup(ChainSetup newSetup) {
      return new Started(newSetup, count, recent);
    }

    Started taken(CheckpointRecord record) {
      int keep = Math.min(recent.size() + 1, RECENT_KEPT);
      List<CheckpointRecord> next = new ArrayList<>(keep);
      next.addAll(recent.subList(recent.size() + 1 - keep, recent.size()));
      next.add(record);
      return new Started(setup, count + 1, next);
    }

    /** The first number {@link #recent} holds. */
    long firstRecent() {
      return count - recent.size() + 1;
    }

    /** Whether record {@code seq} exists but only the journal has it. */
    boolean onlyInJournal(long seq) {
      return seq >= 1 && seq < firstRecent();
    }

    /** Record {@code seq} if the state holds it; see {@link #onlyInJournal}. */
    Optional<CheckpointRecord> bySeq(long seq) {
      return seq >= firstRecent() && seq <= count ? Optional.of(recent.get((int) (seq - firstRecent()))) : Optional.empty();
    }
  }
}
