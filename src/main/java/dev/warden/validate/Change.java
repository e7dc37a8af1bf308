package dev.warden.validate;

import java.util.Objects;
import java.util.Optional;
import org.eclipse.jgit.lib.AnyObjectId;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;

/**
 * One path that differs between the feature's base and a checkpoint: its mode and blob on each side
 * ({@link Mode#ABSENT} and the zero id on the side where it does not exist), the new blob's size,
 * line counts when the caller knows them ({@link #UNKNOWN_LINES} otherwise: the validator counts them
 * if a limit needs them) and, for a symlink, its target when known.
 */
public record Change(String path, Mode oldMode, Mode newMode, ObjectId oldId, ObjectId newId, long size,
                     int linesAdded, int linesRemoved, Optional<String> symlinkTarget) {

  public static final int UNKNOWN_LINES = -1;

  /** What git records for a path: a file, an executable file, a symlink, a submodule — or nothing. */
  public enum Mode {
    ABSENT, REGULAR, EXECUTABLE, SYMLINK, GITLINK;

    /** From a raw git mode (0100644, 0100755, 0120000, 0160000; 0 or a tree: absent). */
    public static Mode of(int rawMode) {
      int type = rawMode & FileMode.TYPE_MASK;
      if (type == FileMode.TYPE_FILE) {
        return (rawMode & 0111) != 0 ? EXECUTABLE : REGULAR;
      } else if (type == FileMode.TYPE_SYMLINK) {
        return SYMLINK;
      } else if (type == FileMode.TYPE_GITLINK) {
        return GITLINK;
      }
      return ABSENT;
    }

    /** A file whose content is text or data we read (regular or executable). */
    public boolean isFile() {
      return this == REGULAR || this == EXECUTABLE;
    }
  }

  public enum Kind { ADDED, MODIFIED, DELETED, TYPE_CHANGED }

  public Change {
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(oldMode, "oldMode");
    Objects.requireNonNull(newMode, "newMode");
    if (oldMode == Mode.ABSENT && newMode == Mode.ABSENT) {
      throw new IllegalArgumentException(path + ": a change needs a mode on at least one side");
    }
    oldId = oldMode == Mode.ABSENT || oldId == null ? ObjectId.zeroId() : oldId.copy();
    newId = newMode == Mode.ABSENT || newId == null ? ObjectId.zeroId() : newId.copy();
    if (linesAdded < UNKNOWN_LINES || linesRemoved < UNKNOWN_LINES) {
      throw new IllegalArgumentException(path + ": line counts must be >= 0, or UNKNOWN_LINES");
    }
    symlinkTarget = newMode == Mode.SYMLINK ? Objects.requireNonNull(symlinkTarget, "symlinkTarget") : Optional.empty();
  }

  public static Change added(String path, Mode mode, AnyObjectId id, long size) {
    return new Change(path, Mode.ABSENT, mode, null, id.copy(), size, UNKNOWN_LINES, UNKNOWN_LINES, Optional.empty());
  }

  public static Change deleted(String path, Mode mode, AnyObjectId id) {
    return new Change(path, mode, Mode.ABSENT, id.copy(), null, 0, UNKNOWN_LINES, UNKNOWN_LINES, Optional.empty());
  }

  public static Change modified(String path, Mode oldMode, AnyObjectId oldId, Mode newMode, AnyObjectId newId, long size) {
    return new Change(path, oldMode, newMode, oldId.copy(), newId.copy(), size, UNKNOWN_LINES, UNKNOWN_LINES, Optional.empty());
  }

  /** The same change with line counts the caller already has (e.g. from the checkpoint's own diff). */
  public Change withLines(int added, int removed) {
    return new Change(path, oldMode, newMode, oldId, newId, size, added, removed, symlinkTarget);
  }

  /** The same change with its symlink target (the content of the link's blob). */
  public Change withSymlinkTarget(String target) {
    return new Change(path, oldMode, newMode, oldId, newId, size, linesAdded, linesRemoved, Optional.of(target));
  }

  public Kind kind() {
    if (oldMode == Mode.ABSENT) {
      return Kind.ADDED;
    } else if (newMode == Mode.ABSENT) {
      return Kind.DELETED;
    } else if (oldMode.isFile() != newMode.isFile() || (!oldMode.isFile() && oldMode != newMode)) {
      return Kind.TYPE_CHANGED;
    }
    return Kind.MODIFIED;
  }

  boolean linesKnown() {
    return linesAdded >= 0 && linesRemoved >= 0;
  }
}
