package dev.warden.watchdog;

/**
 * The hand-over of a registration from the set-up work (on the blocking executor) to the actor: the
 * work offers what it registered; an actor that stopped meanwhile has abandoned the set-up, and
 * whoever comes second closes the registration, so a stopped watchdog leaves no watch behind.
 */
final class WatchHandover {
  private WatchHub.Registration offered;
  private boolean abandoned;

  synchronized boolean abandoned() {
    return abandoned;
  }

  /** False (and the registration closed) when the actor stopped meanwhile. */
  synchronized boolean offer(WatchHub.Registration registration) {
    if (abandoned) {
      registration.close();
      return false;
    }
    offered = registration;
    return true;
  }

  /** The actor took the registration over (or closed it): nothing is left to close here. */
  synchronized void taken() {
    offered = null;
  }

  synchronized void abandon() {
    abandoned = true;
    if (offered != null) {
      offered.close();
      offered = null;
    }
  }
}
