package dev.warden.watchdog;

import dev.warden.plan.Trigger;
import java.util.List;

/** Who a feature's watchdog tells: its checkpoint chain and its agent. */
public interface WatchdogPeers {

  void requestCheckpoint(Trigger trigger, List<String> paths, boolean fullScan);

  void notifyAgent(String json);

  /** A critical violation: pause the agent and put the feature in needs_attention. */
  void critical(String reason);
}
