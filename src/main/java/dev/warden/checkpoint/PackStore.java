package dev.warden.checkpoint;

import java.io.IOException;
import java.io.InputStream;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
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


  /** A pack of ours and its tier (0 = one capture). */
  record OurPack(String name, int tier) {}

  private final FileRepository repo;
  /**
   * The daemon's pool (the actor system's blocking dispatcher), stopped with it: merges (at most one
   * at a time per store) and spare files run there, so a capture never waits for either.
   */
  private final Executor background;
  private final Path packDir;
  /** Which packs are ours, in {@code <gitDir>/warden/packs/<ref>}. */
  private final PackLedger ledger;
  private final MessageDigest sha1 = PackFiles.sha1();
  /**
   * Stored (uncompressed) zlib in the foreground: deflating costs ~30 us per 3 KB object, copying ~1 us.
   * The first merge compresses them (on the background thread).
   */
  private final Deflater deflater = new Deflater(Deflater.NO_COMPRESSION);
  private final byte[] deflateBuffer = new byte[64 * 1024];
  private final byte[] header = new byte[32];
  private final CRC32 crc = new CRC32();

  private PackFiles.PendingPack pending;
  /** The last capture's buffer, reused: a capture writes a few hundred KB. */
  private byte[] reusable = new byte[512 * 1024];
  private final List<Entry> entries = new ArrayList<>();
  private final Set<ObjectId> pendingIds = new HashSet<>();

  /** Guarded by {@code this}. */
  private final List<OurPack> ours = new ArrayList<>();
  /** Empty files made ahead of time, renamed into pack and index by a capture. */
  private final SpareFiles spares;
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
    this.ledger = new PackLedger(gitDir.resolve("warden").resolve("packs").resolve(URLEncoder.encode(refName, StandardCharsets.UTF_8)));
    byte[] ref = refName.getBytes(StandardCharsets.UTF_8);
    this.spares = new SpareFiles(packDir, "tmp_warden_" + idFor(Constants.OBJ_BLOB, ref, 0, ref.length).name().substring(0, 12) + "_",
        background);
    loadState();
    spares.refill();
  }

  /** An empty file in the pack directory, made ahead of time when possible; the taker owns it. */
  Path spare() throws IOException {
    return spares.take();
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
    PackFiles.PendingPack out = pendingPack();
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
    PackFiles.PendingPack out = pendingPack();
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

  private PackFiles.PendingPack pendingPack() {
    if (pending == null) {
      pending = new PackFiles.PendingPack(packDir, this::spare, reusable);
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
    List<PackFiles.PackIndexEntry> idx = new ArrayList<>(entries.size());
    for (Entry e : entries) {
      idx.add(new PackFiles.PackIndexEntry(e.id(), e.offset(), e.crc()));
    }
    String name;
    try {
      name = pending.finish(entries.size(), idx, sha1);
    } finally {
      byte[] buffer = pending.memory();
      if (buffer != null && buffer.length <= PackFiles.MEMORY_LIMIT) {
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
    spares.refill();
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
    MessageDigest md = PackFiles.sha1();
    // read every member's index; a member git has already repacked away is skipped
    List<Source> sources = new ArrayList<>();
    Set<ObjectId> seen = new HashSet<>();
    int count = 0;
    for (OurPack p : group) {
      Path pack = packDir.resolve(p.name() + ".pack");
      Path idxFile = packDir.resolve(p.name() + ".idx");
      List<PackFiles.PackIndexEntry> members;
      long packLength;
      try {
        members = PackFiles.readIndex(idxFile);
        packLength = Files.size(pack);
      } catch (NoSuchFileException e) {
        continue;
      }
      members.sort(Comparator.comparingLong(PackFiles.PackIndexEntry::offset));
      List<PackFiles.PackIndexEntry> kept = new ArrayList<>();
      long[] lengths = new long[members.size()];
      for (int i = 0; i < members.size(); i++) {
        long end = i + 1 < members.size() ? members.get(i + 1).offset() : packLength - 20;
        lengths[i] = end - members.get(i).offset();
      }
      List<long[]> spans = new ArrayList<>();
      for (int i = 0; i < members.size(); i++) {
        PackFiles.PackIndexEntry e = members.get(i);
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
    PackFiles.PendingPack out = new PackFiles.PendingPack(packDir, spares::fresh, new byte[256 * 1024]);
    String name;
    try (Recompressor recompressor = new Recompressor()) {
      List<PackFiles.PackIndexEntry> idx = new ArrayList<>(count);
      byte[] buffer = new byte[256 * 1024];
      CRC32 entryCrc = new CRC32();
      for (Source s : sources) {
        try (FileChannel in = FileChannel.open(s.pack(), StandardOpenOption.READ)) {
          for (int i = 0; i < s.kept().size(); i++) {
            PackFiles.PackIndexEntry e = s.kept().get(i);
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
                idx.add(new PackFiles.PackIndexEntry(e.id(), at, (int) entryCrc.getValue()));
              } else {
                out.write(buffer, 0, (int) length, null);
                idx.add(new PackFiles.PackIndexEntry(e.id(), at, e.crc()));
              }
              continue;
            }
            idx.add(new PackFiles.PackIndexEntry(e.id(), at, e.crc()));
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

  private record Source(Path pack, List<PackFiles.PackIndexEntry> kept, List<long[]> spans) {}

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
    spares.close();
  }

  // ---------------------------------------------------------------- state file

  private void loadState() {
    PackLedger.Recorded recorded = ledger.read();
    synchronized (this) {
      recorded.tiers().forEach((name, tier) -> {
        if (Files.exists(packDir.resolve(name + ".pack")) && Files.exists(packDir.resolve(name + ".idx"))) {
          ours.add(new OurPack(name, tier));
        }
      });
      recorded.retired().forEach((name, since) -> {
        if (Files.exists(packDir.resolve(name + ".pack")) || Files.exists(packDir.resolve(name + ".idx"))) {
          retired.put(name, since);
        }
      });
      writeState();
      scheduleMergeIfDue();
    }
  }

  private void appendState(String line) {
    ledger.append(line);
  }

  /** Guarded by {@code this}. */
  private void writeState() {
    ledger.write(ours, retired);
  }

  static MessageDigest sha1() {
    return PackFiles.sha1();
  }
}
