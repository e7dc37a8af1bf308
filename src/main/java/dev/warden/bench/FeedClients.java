package dev.warden.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;

/** N WebSocket connections read by one selector thread: frames parsed, latencies counted in a histogram. */
final class FeedClients implements AutoCloseable {
  private static final byte[] CREATED = "\"createdNanos\":".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] LAGGED = "{\"type\":\"lagged\"".getBytes(StandardCharsets.US_ASCII);

  final List<Connection> connections = new ArrayList<>();
  private final Selector selector;
  private final FeedBench.Window window;
  private final long[] histogram = new long[FeedBench.BUCKETS];
  private final Thread thread;
  private volatile boolean running = true;

  static final class Connection {
    final SocketChannel channel;
    ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
    volatile long delivered;
    /** Messages that carried at least one measured event. */
    volatile long messages;
    volatile boolean lagged;
    volatile boolean closed;

    Connection(SocketChannel channel) {
      this.channel = channel;
    }
  }

  private FeedClients(Selector selector, FeedBench.Window window) {
    this.selector = selector;
    this.window = window;
    this.thread = new Thread(this::loop, "feed-bench-clients");
  }

  static FeedClients connect(int port, String token, int count, FeedBench.Window window, boolean batch) throws IOException {
    FeedClients clients = new FeedClients(Selector.open(), window);
    for (int i = 0; i < count; i++) {
      clients.connections.add(clients.handshake(port, token, batch));
    }
    for (Connection c : clients.connections) {
      c.channel.configureBlocking(false);
      c.channel.register(clients.selector, SelectionKey.OP_READ, c);
    }
    clients.thread.setDaemon(true);
    clients.thread.start();
    return clients;
  }

  private Connection handshake(int port, String token, boolean batch) throws IOException {
    SocketChannel channel = SocketChannel.open(new InetSocketAddress("127.0.0.1", port));
    channel.socket().setTcpNoDelay(true);
    byte[] key = new byte[16];
    new SecureRandom().nextBytes(key);
    String request = "GET /api/v1/events" + (batch ? "?batch=true" : "") + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nUpgrade: websocket\r\n"
        + "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + Base64.getEncoder().encodeToString(key)
        + "\r\nAuthorization: Bearer " + token + "\r\n\r\n";
    channel.write(ByteBuffer.wrap(request.getBytes(StandardCharsets.US_ASCII)));
    Connection connection = new Connection(channel);
    ByteBuffer buffer = connection.buffer;
    while (true) {
      if (channel.read(buffer) < 0) {
        throw new IOException("the daemon closed the connection during the handshake");
      }
      String head = new String(buffer.array(), 0, buffer.position(), StandardCharsets.ISO_8859_1);
      int end = head.indexOf("\r\n\r\n");
      if (end >= 0) {
        if (!head.startsWith("HTTP/1.1 101")) {
          throw new IOException("the feed refused the bench's client: " + head.lines().findFirst().orElse(""));
        }
        // keep whatever frames came with the response
        buffer.flip();
        buffer.position(end + 4);
        buffer.compact();
        return connection;
      }
    }
  }

  private void loop() {
    try {
      while (running) {
        selector.select(100);
        long now = System.nanoTime();
        Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
        while (keys.hasNext()) {
          SelectionKey key = keys.next();
          keys.remove();
          Connection c = (Connection) key.attachment();
          try {
            int read = c.channel.read(c.buffer);
            if (read < 0) {
              c.closed = true;
              key.cancel();
              continue;
            }
            frames(c, now);
          } catch (IOException e) {
            c.closed = true;
            key.cancel();
          }
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Parses the complete frames in the buffer; a partial one stays for the next read. */
  private void frames(Connection c, long now) throws IOException {
    ByteBuffer b = c.buffer;
    b.flip();
    while (b.remaining() >= 2) {
      int start = b.position();
      int opcode = b.get(start) & 0x0F;
      int len7 = b.get(start + 1) & 0x7F;
      int header = len7 == 126 ? 4 : len7 == 127 ? 10 : 2;
      if (b.remaining() < header) {
        break;
      }
      long length = len7 == 126 ? b.getShort(start + 2) & 0xFFFF : len7 == 127 ? b.getLong(start + 2) : len7;
      if (b.remaining() < header + length) {
        if (header + length > b.capacity()) {
          ByteBuffer bigger = ByteBuffer.allocate((int) (header + length) * 2);
          bigger.put(b);
          c.buffer = bigger;
          return;
        }
        break;
      }
      int payload = start + header;
      switch (opcode) {
        case 1 -> text(c, b, payload, (int) length, now);
        case 8 -> c.closed = true;
        case 9 -> pong(c, b, payload, (int) length);
        default -> { }
      }
      b.position(payload + (int) length);
    }
    b.compact();
  }

  /** One text message: an event, a batch of events (one per line), a ping or {@code lagged}. */
  private void text(Connection c, ByteBuffer b, int from, int length, long now) {
    byte[] bytes = b.array();
    int start = b.arrayOffset() + from;
    int end = start + length;
    if (startsWith(bytes, start, end, LAGGED)) {
      c.lagged = true;
      return;
    }
    boolean counted = false;
    int line = start;
    while (line < end) {
      int lineEnd = line;
      while (lineEnd < end && bytes[lineEnd] != '\n') {
        lineEnd++;
      }
      if (event(c, bytes, line, lineEnd, now) && !counted) {
        c.messages++;
        counted = true;
      }
      line = lineEnd + 1;
    }
  }

  /** Counts one event's latency when it is one of the measured ones. */
  private boolean event(Connection c, byte[] bytes, int from, int to, long now) {
    int at = createdAt(bytes, from, to);
    if (at < 0) {
      return false; // a ping
    }
    long created = 0;
    for (int i = at + CREATED.length; i < to; i++) {
      byte digit = bytes[i];
      if (digit < '0' || digit > '9') {
        break;
      }
      created = created * 10 + (digit - '0');
    }
    if (!window.contains(created)) {
      return false;
    }
    c.delivered++;
    long bucket = Math.max(0, now - created) / FeedBench.BUCKET_NANOS;
    histogram[(int) Math.min(FeedBench.BUCKETS - 1, bucket)]++;
    return true;
  }

  private static void pong(Connection c, ByteBuffer b, int from, int length) throws IOException {
    // client frames are masked; a zero mask leaves the payload as it is
    ByteBuffer frame = ByteBuffer.allocate(6 + length);
    frame.put((byte) 0x8A).put((byte) (0x80 | length)).putInt(0);
    for (int i = 0; i < length; i++) {
      frame.put(b.get(from + i));
    }
    frame.flip();
    c.channel.write(frame);
  }

  private static boolean startsWith(byte[] bytes, int from, int to, byte[] prefix) {
    return to - from >= prefix.length && Arrays.equals(bytes, from, from + prefix.length, prefix, 0, prefix.length);
  }

  /**
   * Where {@code "createdNanos":} starts in one event's JSON, or -1. The bench's events end with it
   * ({@code ...,"createdNanos":123}}}), so it is looked for from the end first: the clients read a
   * million events a second on the same cores as the daemon.
   */
  private static int createdAt(byte[] bytes, int from, int to) {
    int i = to - 1;
    while (i >= from && bytes[i] == '}') {
      i--;
    }
    while (i >= from && bytes[i] >= '0' && bytes[i] <= '9') {
      i--;
    }
    int at = i + 1 - CREATED.length;
    if (at >= from && Arrays.equals(bytes, at, at + CREATED.length, CREATED, 0, CREATED.length)) {
      return at;
    }
    return indexOf(bytes, from, to, CREATED);
  }

  /** Where {@code pattern} starts in {@code bytes[from, to)}, or -1. */
  private static int indexOf(byte[] bytes, int from, int to, byte[] pattern) {
    byte first = pattern[0];
    for (int i = from, last = to - pattern.length; i <= last; i++) {
      if (bytes[i] == first && Arrays.equals(bytes, i, i + pattern.length, pattern, 0, pattern.length)) {
        return i;
      }
    }
    return -1;
  }

  long delivered() {
    return connections.stream().mapToLong(c -> c.delivered).sum();
  }

  long messages() {
    return connections.stream().mapToLong(c -> c.messages).sum();
  }

  /** Every client still open has had all {@code events}. */
  boolean caughtUp(long events) {
    return connections.stream().allMatch(c -> c.lagged || c.closed || c.delivered >= events);
  }

  int count(java.util.function.Predicate<Connection> predicate) {
    return (int) connections.stream().filter(predicate).count();
  }

  void stop() throws InterruptedException {
    running = false;
    thread.join(5000);
  }

  long[] histogram() {
    return histogram.clone();
  }

  @Override
  public void close() throws IOException {
    running = false;
    for (Connection c : connections) {
      c.channel.close();
    }
    selector.close();
  }
}
