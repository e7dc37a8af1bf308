package dev.warden.validate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LinesTest {

  @Test
  void theBoundIsNeverBelowTheRealDiffAndExactWhenItSaysSo() {
    Random random = new Random(42);
    for (int round = 0; round < 5_000; round++) {
      List<String> lines = new ArrayList<>();
      int n = random.nextInt(30);
      for (int i = 0; i < n; i++) {
        lines.add(String.valueOf((char) ('a' + random.nextInt(4))).repeat(1 + random.nextInt(2)));
      }
      List<String> edited = new ArrayList<>(lines);
      for (int e = random.nextInt(4); e > 0; e--) {
        int op = random.nextInt(3);
        if (op == 0 || edited.isEmpty()) {
          edited.add(random.nextInt(edited.size() + 1), String.valueOf((char) ('a' + random.nextInt(4))));
        } else if (op == 1) {
          edited.remove(random.nextInt(edited.size()));
        } else {
          edited.set(random.nextInt(edited.size()), "z");
        }
      }
      byte[] before = text(lines, random.nextInt(5) > 0);
      byte[] after = text(edited, random.nextInt(5) > 0);
      int[] diff = Lines.diff(before, after);
      int[] bound = Lines.bound(before, after);
      String what = "before " + new String(before, StandardCharsets.UTF_8).replace("\n", "|") + " after "
          + new String(after, StandardCharsets.UTF_8).replace("\n", "|");
      assertTrue(bound[0] >= diff[0] && bound[1] >= diff[1], what + ": bound " + bound[0] + "/" + bound[1] + " diff " + diff[0] + "/" + diff[1]);
      if (bound[2] == 1) {
        assertArrayEquals(diff, new int[] {bound[0], bound[1]}, what);
      }
    }
  }

  @Test
  void aLocalEditIsBoundedByTheLinesItTouches() {
    StringBuilder a = new StringBuilder();
    for (int i = 0; i < 1000; i++) {
      a.append("line ").append(i).append('\n');
    }
    String b = a.toString().replace("line 500\n", "line five hundred\nand one more\n");
    int[] bound = Lines.bound(a.toString().getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    assertEquals(2, bound[0]);
    assertEquals(1, bound[1]);
  }

  @Test
  void countsLinesAsRawTextDoes() {
    assertEquals(0, Lines.count(new byte[0]));
    assertEquals(2, Lines.count("a\nb".getBytes(StandardCharsets.UTF_8)));
    assertEquals(2, Lines.count("a\nb\n".getBytes(StandardCharsets.UTF_8)));
  }

  private static byte[] text(List<String> lines, boolean finalNewline) {
    String s = String.join("\n", lines);
    return (lines.isEmpty() ? "" : finalNewline ? s + "\n" : s).getBytes(StandardCharsets.UTF_8);
  }
}
