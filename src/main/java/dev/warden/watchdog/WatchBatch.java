package dev.warden.watchdog;

import dev.warden.watchdog.WatchHub.Kind;
import dev.warden.watchdog.WatchHub.PathChange;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What one drain of the {@link WatchHub}'s watch service collected, per feature {@code F}: changes
 * de-duplicated by (path, kind), first seen first, and the gaps (directories whose events were lost,
 * directories that could not be watched) that make a feature full-scan. Used on the hub thread only.
 */
final class WatchBatch<F> {
  private record Key(Path path, Kind kind) {}

  private final Map<F, LinkedHashMap<Key, PathChange>> changes = new LinkedHashMap<>();
  private final Map<F, Gap> gaps = new LinkedHashMap<>();
  final Map<F, Set<Path>> lostTreeDirs = new LinkedHashMap<>();
  final Set<F> lostExtraDirs = new LinkedHashSet<>();

  void change(F feature, Path path, Kind kind, Instant at) {
    changes.computeIfAbsent(feature, f -> new LinkedHashMap<>()).putIfAbsent(new Key(path, kind), new PathChange(path, kind, at));
  }

  void lost(F feature, Path dir, boolean tree) {
    if (tree) {
      lostTreeDirs.computeIfAbsent(feature, f -> new LinkedHashSet<>()).add(dir);
    } else {
      lostExtraDirs.add(feature);
    }
    Gap gap = gaps.computeIfAbsent(feature, f -> new Gap());
    if (gap.lostDirs++ == 0) {
      gap.firstLost = dir;
    }
  }

  void failed(F feature, Path dir, String message) {
    Gap gap = gaps.computeIfAbsent(feature, f -> new Gap());
    if (gap.failedDirs++ == 0) {
      gap.firstFailure = "cannot watch " + dir + ": " + message;
    }
  }

  Set<F> features() {
    Set<F> all = new LinkedHashSet<>(changes.keySet());
    all.addAll(gaps.keySet());
    return all;
  }

  List<PathChange> changesOf(F feature) {
    LinkedHashMap<Key, PathChange> of = changes.get(feature);
    return of == null ? List.of() : List.copyOf(of.values());
  }

  /** Why {@code feature} must full-scan after this drain, or null when nothing was lost. */
  String overflowOf(F feature) {
    Gap gap = gaps.get(feature);
    if (gap == null) {
      return null;
    }
    List<String> parts = new ArrayList<>();
    if (gap.lostDirs > 0) {
      parts.add("events lost (overflow) in " + gap.lostDirs + " watched director" + (gap.lostDirs == 1 ? "y" : "ies")
          + ", first " + gap.firstLost);
    }
    if (gap.failedDirs > 0) {
      parts.add(gap.firstFailure + (gap.failedDirs > 1 ? " (and " + (gap.failedDirs - 1) + " more directories)" : ""));
    }
    return String.join("; ", parts);
  }

  private static final class Gap {
    int lostDirs;
    Path firstLost;
    int failedDirs;
    String firstFailure;
  }
}
