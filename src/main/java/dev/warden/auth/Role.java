package dev.warden.auth;

import java.util.Locale;

/** What a token may do; each role includes every weaker one. */
public enum Role {
  VIEWER,
  AGENT,
  APPROVER,
  ADMIN;

  public boolean includes(Role required) {
    return compareTo(required) >= 0;
  }

  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses a configured role name; throws naming the allowed values. */
  public static Role parse(String value) {
    for (Role role : values()) {
      if (role.label().equals(value)) {
        return role;
      }
    }
    throw new IllegalArgumentException("unknown role '" + value + "' (viewer, agent, approver, admin)");
  }
}
