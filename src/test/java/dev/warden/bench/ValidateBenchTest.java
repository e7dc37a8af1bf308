package dev.warden.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ValidateBenchTest {

  @TempDir
  Path tmp;

  @Test
  void aSmallRunWritesItsFigures() throws Exception {
    Path json = tmp.resolve("out/validate.json");
    assertEquals(0, ValidateBench.run(new String[] {"--files", "40", "--runs", "3", "--warmup", "1", "--json", json.toString()}));
    String figures = Files.readString(json);
    assertTrue(figures.matches("(?s)\\{\"cold_ms\":\\{\"p50\":[0-9.]+,\"p95\":[0-9.]+,\"p99\":[0-9.]+},\"warm_ms\":\\{.*\"files\":40,.*"),
        figures);
  }

  @Test
  void badOptionsAreUsageErrors() {
    assertEquals(2, ValidateBench.run(new String[] {"--files", "3"}));
    assertEquals(2, ValidateBench.run(new String[] {"--frobnicate"}));
  }

  @Test
  void percentilesAreNearestRank() {
    double[] v = {5, 1, 4, 2, 3};
    assertEquals(3, ValidateBench.percentile(v, 50));
    assertEquals(5, ValidateBench.percentile(v, 99));
    assertEquals(1, ValidateBench.percentile(v, 1));
  }
}
