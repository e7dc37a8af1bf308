package dev.warden.agent;

import akka.Done;
import akka.NotUsed;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Scheduler;
import akka.actor.typed.javadsl.AskPattern;
import akka.http.javadsl.model.ws.Message;
import akka.http.javadsl.model.ws.TextMessage;
import akka.stream.Materializer;
import akka.stream.OverflowStrategy;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.stream.typed.javadsl.ActorSource;
import dev.warden.http.BoundedMessages;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The WebSocket flow of one agent connection, bound to its reserved {@link AgentLink}: text frames in
 * become {@code FromAgent}, what the link sends goes out as text frames; either side ending ends
 * both, and the link hears {@code Disconnected}. Nothing is buffered without bound: a message is
 * read only up to {@code maxMessageBytes} (a larger one is drained unread, the agent is told and
 * disconnected), the next message is read only once the link has handled the last one, and a slow
 * agent that lets 1,000 frames pile up is cut off.
 */
public final class AgentSocket {

  private static final int OUT_BUFFER = 1000;
  private static final Duration MAX_FRAME_WAIT = Duration.ofSeconds(10);

  private AgentSocket() {}

  public static Flow<Message, Message, NotUsed> flow(ActorRef<AgentLink.Command> link, String connectionId, long maxMessageBytes,
      Duration askTimeout, Scheduler scheduler, Materializer materializer) {
    // Disconnected is told when the last incoming frame has been handled, never before it:
    // an agent that sends propose and closes at once must not lose the propose.
    Sink<Message, NotUsed> in = Flow.<Message>create()
        .mapAsync(1, message -> BoundedMessages.read(message, maxMessageBytes, MAX_FRAME_WAIT, materializer))
        .mapAsync(1, read -> handOn(read, link, connectionId, askTimeout, scheduler))
        .toMat(Sink.ignore(), Keep.right())
        .mapMaterializedValue(done -> {
          done.whenComplete((ok, failure) -> link.tell(new AgentLink.Disconnected(connectionId)));
          return NotUsed.getInstance();
        });

    Source<Message, NotUsed> out = ActorSource.<AgentLink.Outgoing>actorRef(
            outgoing -> outgoing instanceof AgentLink.Close,
            outgoing -> Optional.empty(),
            OUT_BUFFER,
            OverflowStrategy.fail())
        .mapMaterializedValue(ref -> {
          link.tell(new AgentLink.Connected(connectionId, ref));
          return NotUsed.getInstance();
        })
        .filter(outgoing -> outgoing instanceof AgentLink.Frame)
        .map(outgoing -> (Message) TextMessage.create(((AgentLink.Frame) outgoing).json()));

    return Flow.fromSinkAndSourceCoupled(in, out);
  }

  private static CompletionStage<Done> handOn(BoundedMessages.Read read, ActorRef<AgentLink.Command> link, String connectionId,
      Duration askTimeout, Scheduler scheduler) {
    if (read instanceof BoundedMessages.Text text) {
      return AskPattern.ask(link, replyTo -> new AgentLink.FromAgent(connectionId, text.text(), replyTo), askTimeout, scheduler);
    }
    if (read instanceof BoundedMessages.TooLarge tooLarge) {
      link.tell(new AgentLink.TooLarge(connectionId, tooLarge.limit()));
    } else {
      link.tell(new AgentLink.Notify(AgentMessage.error("binary frames are not part of warden.agent.v1; send JSON text", null)));
    }
    return CompletableFuture.completedFuture(Done.getInstance());
  }
}
