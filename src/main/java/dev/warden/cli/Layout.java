package dev.warden.cli;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/** Plain-text layouts for the terminal: a table for lists, a summary for one object. ASCII only. */
final class Layout {

  private Layout() {}

  /** Left-aligned columns two spaces apart under a header row; the last column is not padded. */
  static final class Table {
    private final List<String[]> rows = new ArrayList<>();
    private final int columns;

    Table(String... headers) {
      columns = headers.length;
      rows.add(headers);
    }

    Table row(String... cells) {
      if (cells.length != columns) {
        throw new IllegalArgumentException(cells.length + " cells for " + columns + " columns");
      }
      rows.add(Arrays.stream(cells).map(cell -> cell.replaceAll("\\s+", " ").strip()).toArray(String[]::new));
      return this;
    }

    @Override
    public String toString() {
      int[] widths = new int[columns];
      for (String[] row : rows) {
        for (int c = 0; c < columns; c++) {
          widths[c] = Math.max(widths[c], row[c].length());
        }
      }
      StringBuilder text = new StringBuilder();
      for (String[] row : rows) {
        StringBuilder line = new StringBuilder();
        for (int c = 0; c < columns; c++) {
          line.append(c == columns - 1 ? row[c] : row[c] + " ".repeat(widths[c] - row[c].length() + 2));
        }
        text.append(line.toString().stripTrailing()).append('\n');
      }
      return text.toString();
    }
  }

  /** A heading, then {@code label: value} lines with the values aligned, continuation lines too. */
  static final class Summary {
    private static final int LABEL_WIDTH = 14;
    private final StringBuilder text = new StringBuilder();

    Summary(String heading) {
      text.append(heading).append('\n');
    }

    Summary line(String label, String value) {
      String[] lines = value.split("\n", -1);
      String tag = label + ":";
      text.append("  ").append(tag).append(" ".repeat(Math.max(1, LABEL_WIDTH - tag.length()))).append(lines[0]).append('\n');
      for (int i = 1; i < lines.length; i++) {
        text.append("  ").append(" ".repeat(LABEL_WIDTH)).append(lines[i]).append('\n');
      }
      return this;
    }

    /** A line only when there is a value. */
    Summary line(String label, Optional<String> value) {
      value.ifPresent(v -> line(label, v));
      return this;
    }

    /** One line per value under one label; nothing when there are none. */
    Summary lines(String label, List<String> values) {
      return values.isEmpty() ? this : line(label, String.join("\n", values));
    }

    @Override
    public String toString() {
      return text.toString();
    }
  }
}
