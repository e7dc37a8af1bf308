package dev.warden.checkpoint;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import org.eclipse.jgit.internal.storage.file.FileRepository;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.ObjectId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes one feature's checkpoint objects into the repository as git packs: every capture becomes one
 * small pack (pack + idx, whole objects, zlib level 1, no fsync), which is far cheaper than a hundred
 * loose objects. So that packs do not pile up, ours are merged in tiers: {@value #FAN_IN} packs of one
 * tier become one pack of the next (raw entries copied, stored entries compressed), on the daemon's
 * blocking pool so a capture never waits for it. Which packs are ours (and their tier) is kept in
 * {@code <gitDir>/warden/packs/<ref>} so a restarted daemon keeps merging them. Loose objects are
 * never written; git itself can repack everything at any time (our objects are reachable from the
 * checkpoint ref).
 *
 * <p>Readers never see half a pack, and never lose one under them: a pack's index is in place before
 * the pack itself (JGit lists packs, git lists indexes; each skips a pack whose other half is missing),
 * and the packs a merge replaces stay on disk for {@link #RETIRE_AFTER} before they are deleted, pack
 * first, so a reader that listed them just before the merge still reads them, then finds the merged one.
 *
 * <p>Foreground calls come from the one capturing thread; the pack list is shared with the merger
 * and guarded by {@code this}.
 */
final class PackStore implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(PackStore.class);

  /** Packs per tier before they are merged into one of the next tier. */
  static final int FAN_IN = 4;
  /** Pending objects stay in memory up to this size, then go to a file. */
  private static final int MEMORY_LIMIT = 8 << 20;
  private static final byte[] PACK_SIGNATURE = {'P', 'A', 'C', 'K'};
  private static final byte[] IDX_SIGNATURE = {(byte) 0xff, 't', 'O', 'c'};

  private static final int SPARE_COUNT = 4;

  /** A pack of ours and its tier (0 = one capture). */
  record OurPack(String name, int tier) {}

  private final FileRepository repo;
  /**
   * The daemon's pool (the actor system's blocking dispatcher), stopped with it: merges (at most one
   * at a time per store) and spare files run there, so a capture never waits for either.
   */
  private final Executor background;
  private final Path packDir;
  private final Path stateFile;
  private final MessageDigest sha1 = sha1();
  /**
   * Stored (uncompressed) zlib in the foreground: deflating costs ~30 us per 3 KB object, copying ~1 us.
   * The first merge compresses them (on the background thread).
   */
  private final Deflater deflater = new Deflater(Deflater.NO_COMPRESSION);
  private final byte[] deflateBuffer = new byte[64 * 1024];
  private final byte[] header = new byte[32];
  private final CRC32 crc = new CRC32();

  private PendingPack pending;
  /** The last capture's buffer, reused: a capture writes a few hundred KB. */
  private byte[] reusable = new byte[512 * 1024];
  private final List<Entry> entries = new ArrayList<>();
  private final Set<ObjectId> pendingIds = new HashSet<>();

  /** Guarded by {@code this}. */
  private final List<OurPack> ours = new ArrayList<>();
  /**
   * Empty files made ahead of time (guarded by {@code this}): creating an inode costs 0.1-1 ms on some
   * filesystems (measured on the VM these figures come from), renaming one ~30 us, so a capture renames
   * spares into pack and index instead of creating them.
   */
  private final java.util.Deque<Path> spares = new java.util.ArrayDeque<>();
  private final String sparePrefix;
  private boolean refilling;
  private Future<?> merging;
  private boolean closed;
  /**
   * Packs merged away and when (guarded by {@code this}): kept on disk for {@link #retireAfter}, so no
   * reader (ours, the user's git, another JGit) has a pack removed under it.
   */
  private final Map<String, Long> retired = new LinkedHashMap<>();
  private final java.time.Duration retireAfter;

  private record Entry(ObjectId id, long offset, int crc) {}

  /** How long a pack merged away stays on disk for the readers that may still have it open. */
  static final java.time.Duration RETIRE_AFTER = java.time.Duration.ofMinutes(5);

  PackStore(FileRepository repo, Path gitDir, String refName, Executor background, java.time.Duration retireAfter) {
    this.repo = repo;
    this.background = background;
    this.retireAfter = retireAfter;
    this.packDir = repo.getObjectsDirectory().toPath().resolve("pack");
    this.stateFile = gitDir.resolve("warden").resolve("packs").resolve(URLEncoder.encode(refName, StandardCharsets.UTF_8));
    byte[] ref = refName.getBytes(StandardCharsets.UTF_8);
    this.sparePrefix = "tmp_warden_" + idFor(Constants.OBJ_BLOB, ref, 0, ref.length).name().substring(0, 12) + "_";
    deleteOldSpares();
    loadState();
    refillSpares();
  }

  // ---------------------------------------------------------------- spare files

  /** Spares a crashed predecessor left (the prefix is this ref's: no other snapshotter uses them). */
  private void deleteOldSpares() {
    try (var files = Files.newDirectoryStream(packDir, sparePrefix + "*")) {
      for (Path p : files) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      log.debug("cannot clean spare files in {}: {}", packDir, e.toString());
    }
  }

  private void refillSpares() {
    synchronized (this) {
      if (closed || refilling || spares.size() >= SPARE_COUNT) {
        return;
      }
      refilling = true;
    }
    background.execute(() -> {
      try {
        while (true) {
          synchronized (this) {
            if (closed || spares.size() >= SPARE_COUNT) {
              return;
            }
          }
          Path p = Files.createTempFile(packDir, sparePrefix, ".tmp");
          synchronized (this) {
            if (closed) {
              Files.deleteIfExists(p);
              return;
            }
            spares.add(p);
          }
        }
      } catch (IOException e) {
        log.debug("cannot make spare files in {}: {}", packDir, e.toString());
      } finally {
        synchronized (this) {
          refilling = false;
        }
      }
    });
  }

  /** An empty file in the pack directory, made ahead of time when possible; the taker owns it. */
  Path spare() throws IOException {
    synchronized (this) {
      Path p = spares.poll();
      if (p != null) {
        return p;
      }
    }
    return Files.createTempFile(packDir, sparePrefix, ".tmp");
  }

  // ---------------------------------------------------------------- hashing

  /** The git object id of {@code data} as an object of {@code type}, without storing it. */
  ObjectId idFor(int type, byte[] data, int off, int len) {
    sha1.reset();
    sha1.update(Constants.encodedTypeString(type));
    sha1.update((byte) ' ');
    sha1.update(Constants.encodeASCII(len));
    sha1.update((byte) 0);
    sha1.update(data, off, len);
    return ObjectId.fromRaw(sha1.digest());
  }

  // ---------------------------------------------------------------- writing

  /** Adds an object to the pending pack (once per pack) and returns its id. */
  ObjectId insert(int type, byte[] data, int off, int len) {
    ObjectId id = idFor(type, data, off, len);
    insert(type, id, data, off, len);
    return id;
  }

  /** Adds an object whose id the caller already computed with {@link #idFor}. */
  void insert(int type, ObjectId id, byte[] data, int off, int len) {
    if (!pendingIds.add(id)) {
      return;
    }
    PendingPack out = pendingPack();
    long offset = out.position();
    crc.reset();
    int h = encodeHeader(type, len);
    out.write(header, 0, h, crc);
    deflater.reset();
    deflater.setInput(data, off, len);
    deflater.finish();
    while (!deflater.finished()) {
      int n = deflater.deflate(deflateBuffer);
      out.write(deflateBuffer, 0, n, crc);
    }
    entries.add(new Entry(id, offset, (int) crc.getValue()));
  }

  /**
   * Streams a large blob of exactly {@code len} bytes into the pending pack, hashing it on the way,
   * so the content is read once and never held whole in memory. Fails if the stream is shorter.
   */
  ObjectId insertBlob(long len, InputStream in) throws IOException {
    PendingPack out = pendingPack();
    long offset = out.position();
    crc.reset();
    int h = encodeHeader(Constants.OBJ_BLOB, len);
    out.write(header, 0, h, crc);
    sha1.reset();
    sha1.update(Constants.encodedTypeString(Constants.OBJ_BLOB));
    sha1.update((byte) ' ');
    sha1.update(Constants.encodeASCII(len));
    sha1.update((byte) 0);
    deflater.reset();
    byte[] chunk = new byte[64 * 1024];
    long remaining = len;
    while (remaining > 0) {
      int n = in.read(chunk, 0, (int) Math.min(chunk.length, remaining));
      if (n < 0) {
        out.truncate(offset);
        throw new IOException("file shrank while it was read");
      }
      sha1.update(chunk, 0, n);
      deflater.setInput(chunk, 0, n);
      while (!deflater.needsInput()) {
        int d = deflater.deflate(deflateBuffer);
        out.write(deflateBuffer, 0, d, crc);
      }
      remaining -= n;
    }
    deflater.finish();
    while (!deflater.finished()) {
      int d = deflater.deflate(deflateBuffer);
      out.write(deflateBuffer, 0, d, crc);
    }
    ObjectId id = ObjectId.fromRaw(sha1.digest());
    if (!pendingIds.add(id)) {
      out.truncate(offset);
      return id;
    }
    entries.add(new Entry(id, offset, (int) crc.getValue()));
    return id;
  }

  private int encodeHeader(int type, long len) {
    long rest = len >>> 4;
    header[0] = (byte) ((rest > 0 ? 0x80 : 0) | (type << 4) | (len & 0x0f));
    int n = 1;
    while (rest > 0) {
      header[n++] = (byte) ((rest >>> 7 > 0 ? 0x80 : 0) | (rest & 0x7f));
      rest >>>= 7;
    }
    return n;
  }

  private PendingPack pendingPack() {
    if (pending == null) {
      pending = new PendingPack(packDir, this::spare, reusable);
    }
    return pending;
  }

  boolean hasPending() {
    return !entries.isEmpty();
  }

  /** Forgets every pending object; nothing reaches the repository. */
  void discard() {
    if (pending != null) {
      pending.delete();
      pending = null;
    }
    entries.clear();
    pendingIds.clear();
  }

  /**
   * Writes the pending objects as one pack and makes JGit see it. Afterwards merges are scheduled
   * when a tier is full.
   */
  void flush() throws IOException {
    if (entries.isEmpty()) {
      discard();
      return;
    }
    List<PackIndexEntry> idx = new ArrayList<>(entries.size());
    for (Entry e : entries) {
      idx.add(new PackIndexEntry(e.id(), e.offset(), e.crc()));
    }
    String name;
    try {
      name = pending.finish(entries.size(), idx, sha1);
    } finally {
      byte[] buffer = pending.memory();
      if (buffer != null && buffer.length <= MEMORY_LIMIT) {
        reusable = buffer;
      }
      pending = null;
      entries.clear();
      pendingIds.clear();
    }
    repo.openPack(packDir.resolve(name + ".pack").toFile());
    synchronized (this) {
      ours.add(new OurPack(name, 0));
      appendState("0 " + name);
      scheduleMergeIfDue();
    }
    refillSpares();
  }

  // ---------------------------------------------------------------- merging

  /** Our packs, oldest first (for tests and the benchmark). */
  synchronized List<OurPack> packs() {
    return List.copyOf(ours);
  }

  private void scheduleMergeIfDue() {
    if (closed || (merging != null && !merging.isDone())) {
      return;
    }
    if (fullTier() >= 0 || retiredDue()) {
      merging = CompletableFuture.runAsync(this::mergeFullTiers, background);
    }
  }

  /** The lowest tier that has {@value #FAN_IN} packs, or -1. */
  private int fullTier() {
    Map<Integer, Integer> counts = new LinkedHashMap<>();
    for (OurPack p : ours) {
      counts.merge(p.tier(), 1, Integer::sum);
    }
    return counts.entrySet().stream().filter(e -> e.getValue() >= FAN_IN).mapToInt(Map.Entry::getKey).min().orElse(-1);
  }

  /** Runs on the merger thread until no tier is full, then deletes the retired packs that are due. */
  private void mergeFullTiers() {
    try {
      mergeTiers();
      deleteRetired();
    } catch (IOException | RuntimeException e) {
      log.warn("merging checkpoint packs in {} failed (they stay as they are): {}", packDir, e.toString());
    }
  }

  private void mergeTiers() throws IOException {
    {
      while (true) {
        List<OurPack> group;
        int tier;
        synchronized (this) {
          tier = closed ? -1 : fullTier();
          if (tier < 0) {
            return;
          }
          final int t = tier;
          group = ours.stream().filter(p -> p.tier() == t).limit(FAN_IN).toList();
        }
        merge(group, tier + 1);
      }
    }
  }

  /** Merges {@code group} into one pack of {@code tier}, then retires the members (see {@link #deleteRetired}). */
  void merge(List<OurPack> group, int tier) throws IOException {
    MessageDigest md = sha1();
    // read every member's index; a member git has already repacked away is skipped
    List<Source> sources = new ArrayList<>();
    Set<ObjectId> seen = new HashSet<>();
    int count = 0;
    for (OurPack p : group) {
      Path pack = packDir.resolve(p.name() + ".pack");
      Path idxFile = packDir.resolve(p.name() + ".idx");
      List<PackIndexEntry> members;
      long packLength;
      try {
        members = readIndex(idxFile);
        packLength = Files.size(pack);
      } catch (NoSuchFileException e) {
        continue;
      }
      members.sort(Comparator.comparingLong(PackIndexEntry::offset));
      List<PackIndexEntry> kept = new ArrayList<>();
      long[] lengths = new long[members.size()];
      for (int i = 0; i < members.size(); i++) {
        long end = i + 1 < members.size() ? members.get(i + 1).offset() : packLength - 20;
        lengths[i] = end - members.get(i).offset();
      }
      List<long[]> spans = new ArrayList<>();
      for (int i = 0; i < members.size(); i++) {
        PackIndexEntry e = members.get(i);
        if (seen.add(e.id())) {
          kept.add(e);
          spans.add(new long[] {e.offset(), lengths[i]});
        }
      }
      count += kept.size();
      sources.add(new Source(pack, kept, spans));
    }
    if (sources.isEmpty()) {
      synchronized (this) {
        Set<String> gone = new HashSet<>();
        group.forEach(p -> gone.add(p.name()));
        ours.removeIf(p -> gone.contains(p.name()));
        writeState();
      }
      return;
    }
    // tier-0 packs hold stored (uncompressed) objects: compress them on the way
    boolean compress = group.stream().anyMatch(p -> p.tier() == 0);
    // named like our spares, so a merge cut short by a crash is cleaned up by the next open
    PendingPack out = new PendingPack(packDir, () -> Files.createTempFile(packDir, sparePrefix, ".tmp"), new byte[256 * 1024]);
    String name;
    try (Recompressor recompressor = new Recompressor()) {
      List<PackIndexEntry> idx = new ArrayList<>(count);
      byte[] buffer = new byte[256 * 1024];
      CRC32 entryCrc = new CRC32();
      for (Source s : sources) {
        try (FileChannel in = FileChannel.open(s.pack(), StandardOpenOption.READ)) {
          for (int i = 0; i < s.kept().size(); i++) {
            PackIndexEntry e = s.kept().get(i);
            long from = s.spans().get(i)[0];
            long length = s.spans().get(i)[1];
            long at = out.position();
            if (compress && length <= Recompressor.LIMIT) {
              if (buffer.length < length) {
                buffer = new byte[(int) length];
              }
              readFully(in, buffer, (int) length, from, s.pack());
              entryCrc.reset();
              if (recompressor.recompress(buffer, (int) length, out, entryCrc)) {
                idx.add(new PackIndexEntry(e.id(), at, (int) entryCrc.getValue()));
              } else {
                out.write(buffer, 0, (int) length, null);
                idx.add(new PackIndexEntry(e.id(), at, e.crc()));
              }
              continue;
            }
            idx.add(new PackIndexEntry(e.id(), at, e.crc()));
            while (length > 0) {
              int n = (int) Math.min(buffer.length, length);
              readFully(in, buffer, n, from, s.pack());
              out.write(buffer, 0, n, null);
              from += n;
              length -= n;
            }
          }
        }
      }
      name = out.finish(count, idx, md);
    } catch (IOException | RuntimeException e) {
      out.delete();
      throw e;
    }
    repo.openPack(packDir.resolve(name + ".pack").toFile());
    synchronized (this) {
      Set<String> merged = new HashSet<>();
      group.forEach(p -> merged.add(p.name()));
      ours.removeIf(p -> merged.contains(p.name()));
      ours.add(new OurPack(name, tier));
      // the members stay on disk for a while: a reader may have listed them a moment ago
      long now = System.currentTimeMillis();
      group.stream().filter(p -> !p.name().equals(name)).forEach(p -> retired.put(p.name(), now));
      writeState();
    }
    log.debug("merged {} checkpoint packs into {} (tier {}, {} objects)", group.size(), name, tier, count);
  }

  private record Source(Path pack, List<PackIndexEntry> kept, List<long[]> spans) {}

  /**
   * Deletes the packs merged away at least {@link #retireAfter} ago. Readers that listed them before the
   * merge (JGit keeps its pack list until an object is missing from it, git until a lookup fails) have
   * since found the merged pack. The pack goes first, then its index: JGit lists packs and git lists
   * indexes, and each skips a pack whose other half is missing without an error.
   */
  private void deleteRetired() throws IOException {
    List<String> due = new ArrayList<>();
    long now = System.currentTimeMillis();
    synchronized (this) {
      retired.forEach((name, since) -> {
        if (now - since >= retireAfter.toMillis()) {
          due.add(name);
        }
      });
    }
    if (due.isEmpty()) {
      return;
    }
    for (String name : due) {
      Files.deleteIfExists(packDir.resolve(name + ".pack"));
      Files.deleteIfExists(packDir.resolve(name + ".idx"));
    }
    synchronized (this) {
      due.forEach(retired::remove);
      writeState();
    }
    // JGit rescans the pack directory when it changed, dropping (and closing) what we deleted without
    // touching those files; a lookup instead would try each stale pack first and log a warning
    repo.getObjectDatabase().getPacks();
    log.debug("deleted {} checkpoint packs merged away at least {} ago", due.size(), retireAfter);
  }

  /** Whether a retired pack may go (guarded by {@code this}). */
  private boolean retiredDue() {
    long now = System.currentTimeMillis();
    return retired.values().stream().anyMatch(since -> now - since >= retireAfter.toMillis());
  }

  private static void readFully(FileChannel in, byte[] buffer, int n, long from, Path pack) throws IOException {
    ByteBuffer bb = ByteBuffer.wrap(buffer, 0, n);
    while (bb.hasRemaining()) {
      if (in.read(bb, from + bb.position()) < 0) {
        throw new IOException("pack " + pack + " is shorter than its index says");
      }
    }
  }

  /**
   * Re-deflates a stored pack entry (written uncompressed by a capture) at level 1: text blobs shrink
   * to about half, trees by about a third (their names compress, their ids do not).
   */
  private static final class Recompressor implements AutoCloseable {
    static final int LIMIT = 16 << 20;
    private final java.util.zip.Inflater inflater = new java.util.zip.Inflater();
    private final Deflater deflater = new Deflater(Deflater.BEST_SPEED);
    private byte[] raw = new byte[64 * 1024];
    private final byte[] chunk = new byte[64 * 1024];

    /** Writes the re-compressed entry to {@code out}; false (nothing written) when it should be copied. */
    boolean recompress(byte[] entry, int length, PendingPack out, CRC32 crc) throws IOException {
      int b = entry[0] & 0xff;
      int type = (b >> 4) & 7;
      long size = b & 0x0f;
      int shift = 4;
      int p = 1;
      while ((b & 0x80) != 0) {
        b = entry[p++] & 0xff;
        size |= (long) (b & 0x7f) << shift;
        shift += 7;
      }
      int data = length - p;
      if (type < Constants.OBJ_COMMIT || type > Constants.OBJ_TAG || size > LIMIT || data < size) {
        return false; // already compressed (or not worth it)
      }
      if (raw.length < size) {
        raw = new byte[(int) size];
      }
      inflater.reset();
      inflater.setInput(entry, p, data);
      int n = 0;
      try {
        while (n < size && !inflater.finished()) {
          int r = inflater.inflate(raw, n, (int) size - n);
          if (r == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
            return false;
          }
          n += r;
        }
      } catch (java.util.zip.DataFormatException e) {
        throw new IOException("corrupt object in a checkpoint pack: " + e.getMessage(), e);
      }
      if (n != size) {
        return false;
      }
      out.write(entry, 0, p, crc);
      deflater.reset();
      deflater.setInput(raw, 0, (int) size);
      deflater.finish();
      while (!deflater.finished()) {
        int d = deflater.deflate(chunk);
        out.write(chunk, 0, d, crc);
      }
      return true;
    }

    @Override
    public void close() {
      inflater.end();
      deflater.end();
    }
  }

  /** Waits for a running merge (tests, close). */
  void awaitMerges(long timeout, TimeUnit unit) {
    Future<?> f;
    synchronized (this) {
      f = merging;
    }
    if (f == null) {
      return;
    }
    try {
      f.get(timeout, unit);
    } catch (Exception e) {
      log.debug("waiting for the pack merge: {}", e.toString());
    }
  }

  @Override
  public void close() {
    Future<?> f;
    synchronized (this) {
      closed = true;
      f = merging;
    }
    if (f != null) {
      try {
        f.get(60, TimeUnit.SECONDS);
      } catch (Exception e) {
        log.debug("pack merge did not finish before close: {}", e.toString());
      }
    }
    discard();
    deflater.end();
    List<Path> left;
    synchronized (this) {
      left = new ArrayList<>(spares);
      spares.clear();
    }
    for (Path p : left) {
      try {
        Files.deleteIfExists(p);
      } catch (IOException e) {
        log.debug("cannot delete spare {}: {}", p, e.toString());
      }
    }
  }

  // ---------------------------------------------------------------- state file

  private void loadState() {
    List<String> lines;
    try {
      lines = Files.readAllLines(stateFile, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return;
    } catch (IOException e) {
      log.warn("cannot read {} (older checkpoint packs will not be merged): {}", stateFile, e.toString());
      return;
    }
    Map<String, Integer> tiers = new LinkedHashMap<>();
    Map<String, Long> retiredSince = new LinkedHashMap<>();
    for (String line : lines) {
      String[] parts = line.trim().split(" ");
      if (parts.length == 3 && parts[0].equals("retired") && parts[2].matches("pack-[0-9a-f]{40}")) {
        tiers.remove(parts[2]);
        try {
          retiredSince.put(parts[2], Long.parseLong(parts[1]));
        } catch (NumberFormatException ignored) {
          // a torn line from a crash: the pack stays until git repacks it
        }
      } else if (parts.length == 2 && parts[1].matches("pack-[0-9a-f]{40}")) {
        if (parts[0].equals("-")) {
          tiers.remove(parts[1]);
        } else {
          try {
            tiers.put(parts[1], Integer.parseInt(parts[0]));
          } catch (NumberFormatException ignored) {
            // a torn line from a crash: skip it
          }
        }
      }
    }
    synchronized (this) {
      tiers.forEach((name, tier) -> {
        if (Files.exists(packDir.resolve(name + ".pack")) && Files.exists(packDir.resolve(name + ".idx"))) {
          ours.add(new OurPack(name, tier));
        }
      });
      retiredSince.forEach((name, since) -> {
        if (Files.exists(packDir.resolve(name + ".pack")) || Files.exists(packDir.resolve(name + ".idx"))) {
          retired.put(name, since);
        }
      });
      writeState();
      scheduleMergeIfDue();
    }
  }

  private boolean stateDirKnown;

  private void appendState(String line) {
    try {
      if (!stateDirKnown) {
        Files.createDirectories(stateFile.getParent());
        stateDirKnown = true;
      }
      Files.write(stateFile, (line + "\n").getBytes(StandardCharsets.UTF_8),
          StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot record checkpoint pack in " + stateFile, e);
    }
  }

  private void writeState() {
    StringBuilder text = new StringBuilder();
    ours.forEach(p -> text.append(p.tier()).append(' ').append(p.name()).append('\n'));
    retired.forEach((name, since) -> text.append("retired ").append(since).append(' ').append(name).append('\n'));
    try {
      Files.createDirectories(stateFile.getParent());
      Path tmp = stateFile.resolveSibling(stateFile.getFileName() + ".tmp");
      Files.writeString(tmp, text);
      move(tmp, stateFile);
    } catch (IOException e) {
      log.warn("cannot write {}: {}", stateFile, e.toString());
    }
  }

  // ---------------------------------------------------------------- pack and index files

  record PackIndexEntry(ObjectId id, long offset, int crc) {}

  /** Reads a version 2 pack index (ids, CRCs, offsets). */
  static List<PackIndexEntry> readIndex(Path idx) throws IOException {
    byte[] b = Files.readAllBytes(idx);
    if (b.length < 8 + 256 * 4 + 40 || !Arrays.equals(Arrays.copyOf(b, 4), IDX_SIGNATURE) || readInt(b, 4) != 2) {
      throw new IOException(idx + " is not a version 2 pack index");
    }
    int n = readInt(b, 8 + 255 * 4);
    int ids = 8 + 256 * 4;
    int crcs = ids + n * 20;
    int offsets = crcs + n * 4;
    int large = offsets + n * 4;
    List<PackIndexEntry> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      ObjectId id = ObjectId.fromRaw(b, ids + i * 20);
      int crc32 = readInt(b, crcs + i * 4);
      long offset = readInt(b, offsets + i * 4) & 0xffffffffL;
      if ((offset & 0x80000000L) != 0) {
        int at = large + (int) (offset & 0x7fffffffL) * 8;
        offset = ((readInt(b, at) & 0xffffffffL) << 32) | (readInt(b, at + 4) & 0xffffffffL);
      }
      out.add(new PackIndexEntry(id, offset, crc32));
    }
    return out;
  }

  private static int readInt(byte[] b, int at) {
    return ((b[at] & 0xff) << 24) | ((b[at + 1] & 0xff) << 16) | ((b[at + 2] & 0xff) << 8) | (b[at + 3] & 0xff);
  }

  static byte[] buildIndex(List<PackIndexEntry> entries, byte[] packChecksum, MessageDigest md) {
    List<PackIndexEntry> sorted = new ArrayList<>(entries);
    sorted.sort((a, b) -> a.id().compareTo(b.id()));
    int n = sorted.size();
    int largeCount = 0;
    for (PackIndexEntry e : sorted) {
      if (e.offset() > 0x7fffffffL) {
        largeCount++;
      }
    }
    ByteBuffer out = ByteBuffer.allocate(8 + 256 * 4 + n * 28 + largeCount * 8 + 40);
    out.put(IDX_SIGNATURE).putInt(2);
    int[] fanout = new int[256];
    for (PackIndexEntry e : sorted) {
      fanout[e.id().getFirstByte()]++;
    }
    int running = 0;
    for (int i = 0; i < 256; i++) {
      running += fanout[i];
      out.putInt(running);
    }
    byte[] raw = new byte[20];
    for (PackIndexEntry e : sorted) {
      e.id().copyRawTo(raw, 0);
      out.put(raw);
    }
    for (PackIndexEntry e : sorted) {
      out.putInt(e.crc());
    }
    int largeIndex = 0;
    for (PackIndexEntry e : sorted) {
      if (e.offset() > 0x7fffffffL) {
        out.putInt(0x80000000 | largeIndex++);
      } else {
        out.putInt((int) e.offset());
      }
    }
    for (PackIndexEntry e : sorted) {
      if (e.offset() > 0x7fffffffL) {
        out.putLong(e.offset());
      }
    }
    out.put(packChecksum);
    md.reset();
    md.update(out.array(), 0, out.position());
    out.put(md.digest());
    return out.array();
  }

  /**
   * A pack being written: in memory up to {@link #MEMORY_LIMIT}, then in a temporary file in the pack
   * directory. The first 12 bytes are reserved for the header, written when the count is known.
   */
  interface FileSource {
    Path get() throws IOException;
  }

  static final class PendingPack {
    private final Path dir;
    private final FileSource files;
    private byte[] memory;
    private int memoryLength = 12;
    private Path tmp;
    private FileChannel file;
    private long fileLength;

    PendingPack(Path dir, FileSource files, byte[] buffer) {
      this.dir = dir;
      this.files = files;
      this.memory = buffer;
    }

    byte[] memory() {
      return memory;
    }

    long position() {
      return file == null ? memoryLength : fileLength;
    }

    void write(byte[] b, int off, int len, CRC32 crc) {
      if (crc != null) {
        crc.update(b, off, len);
      }
      try {
        if (file == null && memoryLength + len <= MEMORY_LIMIT) {
          if (memoryLength + len > memory.length) {
            memory = Arrays.copyOf(memory, Math.max(memory.length * 2, memoryLength + len));
          }
          System.arraycopy(b, off, memory, memoryLength, len);
          memoryLength += len;
          return;
        }
        if (file == null) {
          tmp = files.get();
          file = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.READ, StandardOpenOption.TRUNCATE_EXISTING);
          writeFully(ByteBuffer.wrap(memory, 0, memoryLength), 0);
          fileLength = memoryLength;
          memory = null;
        }
        writeFully(ByteBuffer.wrap(b, off, len), fileLength);
        fileLength += len;
      } catch (IOException e) {
        throw new UncheckedIOException("cannot write a checkpoint pack in " + dir, e);
      }
    }

    /** Drops everything written from {@code position} on (a blob that turned out to be a duplicate). */
    void truncate(long position) throws IOException {
      if (file == null) {
        memoryLength = (int) position;
      } else {
        file.truncate(position);
        fileLength = position;
      }
    }

    private void writeFully(ByteBuffer bb, long at) throws IOException {
      while (bb.hasRemaining()) {
        at += file.write(bb, at);
      }
    }

    /** Writes header, trailer and index, moves both into place; returns {@code pack-<checksum>}. */
    String finish(int count, List<PackIndexEntry> idx, MessageDigest md) throws IOException {
      byte[] head = new byte[12];
      System.arraycopy(PACK_SIGNATURE, 0, head, 0, 4);
      head[7] = 2;
      head[8] = (byte) (count >>> 24);
      head[9] = (byte) (count >>> 16);
      head[10] = (byte) (count >>> 8);
      head[11] = (byte) count;
      byte[] checksum;
      md.reset();
      if (file == null) {
        System.arraycopy(head, 0, memory, 0, 12);
        md.update(memory, 0, memoryLength);
        checksum = md.digest();
        tmp = files.get();
        try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
          ByteBuffer[] parts = {ByteBuffer.wrap(memory, 0, memoryLength), ByteBuffer.wrap(checksum)};
          while (parts[1].hasRemaining()) {
            out.write(parts);
          }
        }
      } else {
        writeFully(ByteBuffer.wrap(head), 0);
        ByteBuffer chunk = ByteBuffer.allocate(256 * 1024);
        long at = 0;
        while (at < fileLength) {
          chunk.clear();
          int n = file.read(chunk, at);
          if (n < 0) {
            throw new IOException("temporary pack " + tmp + " shrank");
          }
          md.update(chunk.array(), 0, n);
          at += n;
        }
        checksum = md.digest();
        writeFully(ByteBuffer.wrap(checksum), fileLength);
        file.close();
        file = null;
      }
      String name = "pack-" + ObjectId.fromRaw(checksum).name();
      Path pack = dir.resolve(name + ".pack");
      Path index = dir.resolve(name + ".idx");
      if (Files.exists(pack)) {
        // the very same objects are already stored (a merge repeated after a crash)
        Files.deleteIfExists(tmp);
        tmp = null;
        return name;
      }
      Path tmpIdx = files.get();
      Files.write(tmpIdx, buildIndex(idx, checksum, md), StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
      readOnly(tmp);
      readOnly(tmpIdx);
      // the index first, then the pack: JGit lists *.pack and then opens the index (a pack seen
      // without it is logged as an ERROR "Failed to access pack file"); git lists *.idx and skips
      // one whose pack is not there yet. The pack appearing last is what makes both complete
      move(tmpIdx, index);
      move(tmp, pack);
      tmp = null;
      return name;
    }

    void delete() {
      try {
        if (file != null) {
          file.close();
          file = null;
        }
        if (tmp != null) {
          Files.deleteIfExists(tmp);
          tmp = null;
        }
      } catch (IOException e) {
        log.debug("cannot delete temporary pack {}: {}", tmp, e.toString());
      }
      memory = null;
    }
  }

  private static final Set<PosixFilePermission> READ_ONLY =
      EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.GROUP_READ, PosixFilePermission.OTHERS_READ);

  private static void readOnly(Path p) {
    try {
      Files.setPosixFilePermissions(p, READ_ONLY);
    } catch (IOException | UnsupportedOperationException e) {
      // cosmetic (git does it to protect packs); nothing depends on it
    }
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  static MessageDigest sha1() {
    try {
      return MessageDigest.getInstance("SHA-1");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-1", e);
    }
  }
}
