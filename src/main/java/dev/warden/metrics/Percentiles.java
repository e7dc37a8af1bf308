package dev.warden.metrics;

import java.util.Arrays;

/** Percentiles of a benchmark's samples, the same way in every benchmark. */
public final class Percentiles {

  private Percentiles() {}

  /** Nearest-rank percentile (100 = max); NaN for no samples. */
  public static double of(double[] values, double p) {
    if (values.length == 0) {
      return Double.NaN;
    }
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }
}
