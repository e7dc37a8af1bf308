package dev.warden.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * The API tokens Warden accepts, held only as SHA-256 digests. A presented token is hashed and
 * compared with every configured digest in constant time, so neither timing nor an early exit tells
 * an attacker how close a guess was.
 */
public final class TokenRegistry {

  /**
   * One configured token: who it stands for, its role, the SHA-256 digest of the secret, and the
   * features it is bound to (empty: not bound, see {@link Caller#features()}).
   */
  public record Entry(String name, Role role, byte[] sha256, java.util.Set<String> features) {
    public Entry {
      if (sha256.length != 32) {
        throw new IllegalArgumentException("token '" + name + "': sha256 must be 64 hex characters");
      }
      if (name.startsWith(RunTokens.NAME_PREFIX)) {
        throw new IllegalArgumentException("token '" + name + "': names starting with '" + RunTokens.NAME_PREFIX
            + "' are Warden's run tokens");
      }
      sha256 = sha256.clone();
      features = java.util.Set.copyOf(features);
    }

    public Entry(String name, Role role, byte[] sha256) {
      this(name, role, sha256, java.util.Set.of());
    }
  }

  private final List<Entry> entries;

  public TokenRegistry(List<Entry> entries) {
    this.entries = List.copyOf(entries);
  }

  public int size() {
    return entries.size();
  }

  public Optional<Caller> authenticate(String presentedToken) {
    byte[] digest = sha256(presentedToken);
    Entry match = null;
    for (Entry entry : entries) {
      // no early exit: every entry is compared whatever matched before
      if (MessageDigest.isEqual(entry.sha256(), digest) && match == null) {
        match = entry;
      }
    }
    return match == null ? Optional.empty() : Optional.of(new Caller(match.name(), match.role(), match.features()));
  }

  public static byte[] sha256(String token) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  public static String sha256Hex(String token) {
    return HexFormat.of().formatHex(sha256(token));
  }
}
