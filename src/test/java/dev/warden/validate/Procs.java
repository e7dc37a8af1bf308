package dev.warden.validate;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.function.BooleanSupplier;

/** What /proc says about processes, read directly so tests do not trust the code under test. */
final class Procs {

  private static final Path PROC = Path.of("/proc");

  private Procs() {}

  /** Live (not zombie) processes whose process group is {@code pgid}. */
  static List<Long> liveMembers(long pgid) {
    List<Long> pids = new ArrayList<>();
    for (long pid : allPids()) {
      long[] stat = stat(pid);
      if (stat != null && stat[1] == pgid && stat[0] != 'Z' && stat[0] != 'X') {
        pids.add(pid);
      }
    }
    return pids;
  }

  /**
   * The process group led by a live process whose command line contains {@code marker}. Only group
   * leaders count: between fork and setsid the command line may already show but the group is still
   * the JVM's.
   */
  static OptionalLong groupOf(String marker) {
    for (long pid : allPids()) {
      try {
        String cmdline = new String(Files.readAllBytes(PROC.resolve(Long.toString(pid)).resolve("cmdline")),
            StandardCharsets.UTF_8);
        long[] stat = stat(pid);
        if (cmdline.contains(marker) && stat != null && stat[0] != 'Z' && stat[1] == pid) {
          return OptionalLong.of(stat[1]);
        }
      } catch (IOException e) {
        // gone meanwhile
      }
    }
    return OptionalLong.empty();
  }

  /** {state, pgrp} of a process, or null when it is gone. */
  private static long[] stat(long pid) {
    try {
      String text = Files.readString(PROC.resolve(Long.toString(pid)).resolve("stat"));
      String[] fields = text.substring(text.lastIndexOf(')') + 2).split(" ");
      return new long[] {fields[0].charAt(0), Long.parseLong(fields[2])};
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  private static List<Long> allPids() {
    List<Long> pids = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(PROC)) {
      for (Path entry : entries) {
        String name = entry.getFileName().toString();
        if (name.chars().allMatch(Character::isDigit)) {
          pids.add(Long.parseLong(name));
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return pids;
  }

  /** Waits until a group led by a process showing {@code marker} has at least {@code members} live members; its id. */
  static long awaitGroup(String marker, int members, Duration within) throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    while (true) {
      OptionalLong pgid = groupOf(marker);
      if (pgid.isPresent() && liveMembers(pgid.getAsLong()).size() >= members) {
        return pgid.getAsLong();
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for a group of " + members + " led by '" + marker + "'");
      }
      Thread.sleep(10);
    }
  }

  static void await(BooleanSupplier condition, Duration within, String what) throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting until " + what);
      }
      Thread.sleep(10);
    }
  }
}
