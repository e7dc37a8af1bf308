package dev.warden.validate;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.eclipse.jgit.lib.ObjectId;

/**
 * Per-file results of the fast rules that read content (secrets, line counts), so an unchanged file
 * is not read again by the next checkpoint's validation. Bounded (least recently used out), thread-safe,
 * with hit and miss counters. One instance can serve every feature of the daemon: what is cached
 * depends only on the key — path, the base-side and checkpoint-side blob ids, and the plan version.
 *
 * <p>The base-side blob is in the key beside the design's (path, blob id, plan version) because the
 * cached line counts are counts of the change from it, and a secret the base already held is reported
 * differently; for one feature it is constant (its base does not move), so it costs no hits.
 */
public final class ValidationCache {

  public static final int DEFAULT_CAPACITY = 50_000;

  /** The cache key; ids are copied (a MutableObjectId must not change under the map). */
  public record Key(String path, ObjectId baseBlob, ObjectId blob, int planVersion) {
    public Key {
      Objects.requireNonNull(path, "path");
      baseBlob = baseBlob.copy();
      blob = blob.copy();
    }
  }

  /**
   * What the content rules found for one file: its violations, and lines added/removed — exact, or
   * (exact false) upper bounds: every line of the new side added and every line of the old removed.
   */
  record FileResult(List<Violation> violations, int added, int removed, boolean exactLines) {
    FileResult {
      violations = List.copyOf(violations);
    }
  }

  private final int capacity;
  private final LinkedHashMap<Key, FileResult> map;
  private long hits;
  private long misses;

  public ValidationCache(int capacity) {
    if (capacity < 0) {
      throw new IllegalArgumentException("capacity must be >= 0, got " + capacity);
    }
    this.capacity = capacity;
    this.map = new LinkedHashMap<>(Math.min(capacity, 1024) * 4 / 3 + 1, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<Key, FileResult> eldest) {
        return size() > ValidationCache.this.capacity;
      }
    };
  }

  public ValidationCache() {
    this(DEFAULT_CAPACITY);
  }

  /** A cache that keeps nothing (every lookup a miss): for callers that do not want one. */
  public static ValidationCache disabled() {
    return new ValidationCache(0);
  }

  synchronized FileResult get(Key key) {
    FileResult r = map.get(key);
    if (r == null) {
      misses++;
    } else {
      hits++;
    }
    return r;
  }

  synchronized void put(Key key, FileResult result) {
    if (capacity > 0) {
      map.put(key, result);
    }
  }

  public int capacity() {
    return capacity;
  }

  public synchronized int size() {
    return map.size();
  }

  public synchronized long hits() {
    return hits;
  }

  public synchronized long misses() {
    return misses;
  }

  /** Hits over lookups since the cache was made (0 before the first lookup). */
  public synchronized double hitRate() {
    long lookups = hits + misses;
    return lookups == 0 ? 0 : (double) hits / lookups;
  }

  public synchronized void clear() {
    map.clear();
  }

  @Override
  public synchronized String toString() {
    return "ValidationCache[" + map.size() + "/" + capacity + ", hits " + hits + ", misses " + misses + "]";
  }
}
