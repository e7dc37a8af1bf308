package dev.warden.checkpoint;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The file that says which packs are one chain's ({@code <gitDir>/warden/packs/<ref>}), so a restarted
 * daemon keeps merging them: one line per pack, {@code <tier> <name>}, {@code - <name>} for one gone,
 * {@code retired <epoch ms> <name>} for one merged away and waiting to be deleted. New packs are
 * appended; the whole file is rewritten (atomically) after a merge.
 */
final class PackLedger {

  private static final Logger log = LoggerFactory.getLogger(PackLedger.class);

  /** What the file says: tier per live pack, retirement time per retired one (name order kept). */
  record Recorded(Map<String, Integer> tiers, Map<String, Long> retired) {}

  private final Path file;
  private boolean dirKnown;

  PackLedger(Path file) {
    this.file = file;
  }

  Recorded read() {
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return new Recorded(Map.of(), Map.of());
    } catch (IOException e) {
      log.warn("cannot read {} (older checkpoint packs will not be merged): {}", file, e.toString());
      return new Recorded(Map.of(), Map.of());
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
    return new Recorded(tiers, retiredSince);
  }

  void append(String line) {
    try {
      if (!dirKnown) {
        Files.createDirectories(file.getParent());
        dirKnown = true;
      }
      Files.write(file, (line + "\n").getBytes(StandardCharsets.UTF_8),
          StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot record checkpoint pack in " + file, e);
    }
  }

  void write(List<PackStore.OurPack> ours, Map<String, Long> retired) {
    StringBuilder text = new StringBuilder();
    ours.forEach(p -> text.append(p.tier()).append(' ').append(p.name()).append('\n'));
    retired.forEach((name, since) -> text.append("retired ").append(since).append(' ').append(name).append('\n'));
    try {
      Files.createDirectories(file.getParent());
      Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
      Files.writeString(tmp, text);
      PackFiles.move(tmp, file);
    } catch (IOException e) {
      log.warn("cannot write {}: {}", file, e.toString());
    }
  }
}
