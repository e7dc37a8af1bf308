package dev.warden.agent;

import akka.NotUsed;
import akka.actor.typed.ActorRef;
import akka.http.javadsl.model.ws.Message;
import akka.http.javadsl.model.ws.TextMessage;
import akka.stream.Materializer;
import akka.stream.OverflowStrategy;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.stream.typed.javadsl.ActorSource;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The WebSocket flow of one agent connection, bound to its reserved {@link AgentLink}: text frames in
 * become {@code FromAgent}, what the link sends goes out as text frames; either side ending ends
 * both, and the link hears {@code Disconnected}. A slow agent that lets 1,000 frames pile up is cut
 * off rather than buffered without bound.
 */
public final class AgentSocket {

  private static final int OUT_BUFFER = 1000;
  private static final long MAX_FRAME_WAIT_MS = 10_000;

  private AgentSocket() {}

  public static Flow<Message, Message, NotUsed> flow(ActorRef<AgentLink.Command> link, String connectionId, Materializer materializer) {
    // Disconnected is told when the last incoming frame has been handed on, never before it:
    // an agent that sends propose and closes at once must not lose the propose.
    Sink<Message, NotUsed> in = Flow.<Message>create()
        .mapAsync(1, message -> text(message, link, materializer))
        .filter(Optional::isPresent)
        .map(Optional::get)
        .toMat(Sink.foreach(text -> link.tell(new AgentLink.FromAgent(connectionId, text))), Keep.right())
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

  private static CompletionStage<Optional<String>> text(Message message, ActorRef<AgentLink.Command> link, Materializer materializer) {
    if (message.isText()) {
      TextMessage text = message.asTextMessage();
      return text.toStrict(MAX_FRAME_WAIT_MS, materializer).thenApply(strict -> Optional.of(strict.text()));
    }
    message.asBinaryMessage().getStreamedData().runWith(Sink.ignore(), materializer);
    link.tell(new AgentLink.Notify(AgentMessage.error("binary frames are not part of warden.agent.v1; send JSON text", null)));
    return CompletableFuture.completedFuture(Optional.empty());
  }
}
