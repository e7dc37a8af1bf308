package dev.warden.cli;

import java.util.Arrays;
import java.util.List;

/**
 * A cursor over one command's arguments, shared by every {@code bin/warden} client so that they all
 * read options alike: an option takes its value as {@code --name VALUE} or {@code --name=VALUE}, and a
 * value is never blank.
 */
final class Arguments {

  /** Bad arguments: the command prints why and its usage, and exits 2. */
  static final class UsageError extends Exception {
    UsageError(String message) {
      super(message);
    }
  }

  private final String[] args;
  private int next;
  private String current;

  Arguments(String[] args) {
    this.args = args.clone();
  }

  boolean hasNext() {
    return next < args.length;
  }

  /** Moves to the next argument and returns it. */
  String next() {
    current = args[next++];
    return current;
  }

  String current() {
    return current;
  }

  /** Whether the current argument is {@code option}, alone or as {@code option=VALUE}. */
  boolean isOption(String option) {
    return current.equals(option) || current.startsWith(option + "=");
  }

  /** The current option's value: after its '=', else the next argument, which is then used up. */
  String value(String option) throws UsageError {
    String value = current.startsWith(option + "=") ? current.substring(option.length() + 1)
        : next < args.length ? args[next++] : null;
    if (value == null || value.isBlank()) {
      throw new UsageError(option + " needs a value");
    }
    return value;
  }

  /** The current argument and all after it. */
  List<String> fromCurrent() {
    return List.of(Arrays.copyOfRange(args, next - 1, args.length));
  }

  /** All arguments after the current one. */
  List<String> afterCurrent() {
    return List.of(Arrays.copyOfRange(args, next, args.length));
  }
}
