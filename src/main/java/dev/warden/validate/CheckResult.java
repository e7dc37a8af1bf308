package dev.warden.validate;

import java.util.List;

/**
 * What one check (or the test command) did: how it ended and a bounded view of what it printed,
 * stdout and stderr interleaved. {@code outputHead} is the first bytes, {@code outputTail} the last
 * ones, {@code droppedBytes} how many in between were counted but not kept; when the whole output fit,
 * {@code droppedBytes} is 0 and head followed by tail is all of it.
 *
 * @param exitCode the command's exit code (128 + N when a signal N ended it), or null when Warden
 *     killed it (timeout)
 * @param sandbox how it was contained: {@code sandbox: writable ...; hidden ...; network off} (what it
 *     could write, what it could not see), or {@code unsandboxed: <why>}
 */
public record CheckResult(
    String name,
    List<String> argv,
    Integer exitCode,
    boolean timedOut,
    long durationMs,
    String outputHead,
    String outputTail,
    long droppedBytes,
    String sandbox) {

  public CheckResult {
    argv = List.copyOf(argv);
  }

  /** Exited 0 within its time. */
  public boolean passed() {
    return !timedOut && exitCode != null && exitCode == 0;
  }

  /** Head and tail joined, with a marker saying how much was left out between them. */
  public String output() {
    if (droppedBytes == 0) {
      return outputHead + outputTail;
    }
    return outputHead + "\n[... " + droppedBytes + " bytes not kept ...]\n" + outputTail;
  }
}
