package dev.warden.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * What every bench prints and writes (a picocli mixin): its table on standard output, and with
 * {@code --json FILE} its figures as JSON, the directories made as needed; {@code -h} for its usage.
 */
final class BenchOutput {

  @Option(names = "--json", paramLabel = "FILE", description = "write the figures as JSON to FILE")
  Path json;

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "show this usage and exit")
  boolean help;

  /** Prints {@code table}, then writes {@code figures} to the {@code --json} file when one was given. */
  void report(String table, String figures) throws IOException {
    System.out.print(table);
    if (json != null) {
      Path parent = json.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      Files.writeString(json, figures);
      System.out.println("wrote " + json);
    }
  }
}
