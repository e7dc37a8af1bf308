package dev.warden.process;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Finding a program Warden runs: its usual places first (a trimmed PATH must not hide it), then PATH. */
public final class Executables {

  private Executables() {}

  /** The first executable among {@code usual}, then {@code name} in each PATH directory. */
  public static Optional<Path> find(String name, List<String> usual) {
    List<Path> candidates = new ArrayList<>();
    usual.forEach(p -> candidates.add(Path.of(p)));
    String pathVariable = System.getenv("PATH");
    if (pathVariable != null) {
      for (String dir : pathVariable.split(File.pathSeparator)) {
        if (!dir.isEmpty()) {
          candidates.add(Path.of(dir, name));
        }
      }
    }
    return candidates.stream().filter(Files::isExecutable).findFirst();
  }
}
