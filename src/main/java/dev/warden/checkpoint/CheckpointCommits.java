package dev.warden.checkpoint;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import org.eclipse.jgit.lib.CommitBuilder;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.PersonIdent;

/** The bytes of a checkpoint commit, and its message naming the files left out for their size. */
final class CheckpointCommits {

  private static final PersonIdent WARDEN = new PersonIdent("Warden", "warden@localhost");

  private CheckpointCommits() {}

  /** A checkpoint commit by Warden, now, with one parent. */
  static byte[] commitBytes(ObjectId tree, ObjectId parent, String message) {
    CommitBuilder commit = new CommitBuilder();
    commit.setTreeId(tree);
    commit.setParentId(parent);
    PersonIdent who = new PersonIdent(WARDEN, Instant.now(), ZoneId.systemDefault());
    commit.setAuthor(who);
    commit.setCommitter(who);
    String text = message == null || message.isBlank() ? "checkpoint" : message;
    commit.setMessage(text.endsWith("\n") ? text : text + "\n");
    try {
      return commit.build();
    } catch (java.io.UnsupportedEncodingException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The commit message with one {@value Snapshotter#Snapshotter.OVERSIZED_TRAILER} line per file left out (at most {@link
   * Snapshotter#Snapshotter.OVERSIZED_LISTED}, then a {@value Snapshotter#Snapshotter.OVERSIZED_TOTAL_TRAILER} line): the checkpoint itself says
   * what it lacks, whoever reads it and however late.
   */
  static String withOversized(String message, List<Snapshotter.Oversized> leftOut) {
    String text = message == null || message.isBlank() ? "checkpoint" : message.strip();
    if (leftOut.isEmpty()) {
      return text;
    }
    StringBuilder b = new StringBuilder(text).append("\n\n");
    for (int i = 0; i < leftOut.size() && i < Snapshotter.OVERSIZED_LISTED; i++) {
      Snapshotter.Oversized o = leftOut.get(i);
      b.append(Snapshotter.OVERSIZED_TRAILER).append(": ").append(o.bytes()).append(' ').append(o.limit()).append(' ')
          .append(java.net.URLEncoder.encode(o.path(), StandardCharsets.UTF_8)).append('\n');
    }
    if (leftOut.size() > Snapshotter.OVERSIZED_LISTED) {
      b.append(Snapshotter.OVERSIZED_TOTAL_TRAILER).append(": ").append(leftOut.size()).append('\n');
    }
    return b.toString();
  }
}
