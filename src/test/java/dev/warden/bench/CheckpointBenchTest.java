package dev.warden.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code warden bench checkpoint}, from its own package: a tiny run still captures, compares with git and writes its figures. */
class CheckpointBenchTest {

  @TempDir
  Path tmp;

  @Test
  void aSmallRunWritesItsFigures() throws Exception {
    Path json = tmp.resolve("out/checkpoint.json");
    assertEquals(0, CheckpointBench.run(new String[] {"--files", "100", "--modify", "3", "--runs", "2", "--warmup", "0",
        "--json", json.toString()}));
    String figures = Files.readString(json);
    assertTrue(figures.matches("(?s)\\{\"checkpoint_ms\":\\{\"p50\":[0-9.]+,.*\"files\":100,\"modify\":3,.*\"runs\":2,"
        + ".*\"packs_at_end\":[1-9][0-9]*}\\s*"), figures);
  }

  @Test
  void badOptionsAreUsageErrors() {
    assertEquals(2, CheckpointBench.run(new String[] {"--files", "10"}));
    assertEquals(2, CheckpointBench.run(new String[] {"--modify", "x"}));
    assertEquals(2, CheckpointBench.run(new String[] {"--frobnicate"}));
  }
}
