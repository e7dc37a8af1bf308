package dev.warden.feature;

import dev.warden.Rejection;
import java.util.regex.Pattern;

/** Feature ids are slugs: they become a branch name, a directory name and part of a persistence id. */
public final class FeatureId {

  private static final Pattern SLUG = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");

  private FeatureId() {}

  public static boolean isValid(String id) {
    return id != null && SLUG.matcher(id).matches();
  }

  /** Returns {@code id} or rejects it naming {@code field}. */
  public static String require(String id, String field) {
    if (!isValid(id)) {
      throw Rejection.invalid(field, "must be a slug: a lowercase letter or digit, then up to 62 lowercase letters, digits or '-'");
    }
    return id;
  }

  public static String branchOf(String id) {
    return "warden/" + id;
  }
}
