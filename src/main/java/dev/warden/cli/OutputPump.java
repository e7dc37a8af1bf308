package dev.warden.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * Copies one of the agent's output streams to ours byte for byte as it comes (a prompt without a
 * newline shows at once), and hands each complete line to {@code lines}. Keeps draining even when
 * our own stream is gone, so the agent never blocks on a full pipe.
 */
final class OutputPump implements Runnable {

  /** Longer lines are forwarded in pieces of this many bytes. */
  static final int MAX_LINE_BYTES = 16 * 1024;

  private final InputStream from;
  private final OutputStream copy;
  private final Consumer<String> lines;
  private final ByteArrayOutputStream line = new ByteArrayOutputStream();
  private boolean copying = true;

  OutputPump(InputStream from, OutputStream copy, Consumer<String> lines) {
    this.from = from;
    this.copy = copy;
    this.lines = lines;
  }

  /** Runs the pump on a daemon thread of its own. */
  static Thread start(String name, InputStream from, OutputStream copy, Consumer<String> lines) {
    Thread thread = new Thread(new OutputPump(from, copy, lines), name);
    thread.setDaemon(true);
    thread.start();
    return thread;
  }

  @Override
  public void run() {
    byte[] buffer = new byte[8192];
    try (from) {
      int read;
      while ((read = from.read(buffer)) >= 0) {
        copy(buffer, read);
        for (int i = 0; i < read; i++) {
          byte b = buffer[i];
          if (b == '\n') {
            emit();
          } else {
            line.write(b);
            if (line.size() >= MAX_LINE_BYTES) {
              emit();
            }
          }
        }
      }
    } catch (IOException e) {
      // the pipe closed under us: the process is gone
    } finally {
      if (line.size() > 0) {
        emit();
      }
    }
  }

  private void copy(byte[] buffer, int length) {
    if (!copying) {
      return;
    }
    try {
      copy.write(buffer, 0, length);
      copy.flush();
    } catch (IOException e) {
      copying = false; // our own stdout/stderr is closed; the agent must not notice
    }
  }

  private void emit() {
    String text = line.toString(StandardCharsets.UTF_8);
    line.reset();
    if (text.endsWith("\r")) {
      text = text.substring(0, text.length() - 1);
    }
    lines.accept(text);
  }
}
