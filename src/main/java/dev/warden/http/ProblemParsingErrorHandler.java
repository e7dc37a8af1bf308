package dev.warden.http;

import akka.event.LoggingAdapter;
import akka.http.ParsingErrorHandler;
import akka.http.javadsl.model.HttpResponse;
import akka.http.scaladsl.model.ErrorInfo;
import akka.http.scaladsl.model.StatusCode;
import akka.http.scaladsl.settings.ServerSettings;

/**
 * The answer to a request so malformed that no route sees it (Akka HTTP's parser refuses it: 501 for
 * an unknown method, 505 for an HTTP version other than 1.0/1.1, 400 for a bad request line or header,
 * 414/431 for a URI or headers too long): problem+json like every other error, instead of Akka's
 * plain text. Installed by {@link HttpServer} ({@code akka.http.server.parsing.error-handler}); Akka
 * creates it by reflection, hence the public no-argument constructor.
 */
public final class ProblemParsingErrorHandler extends ParsingErrorHandler {

  public ProblemParsingErrorHandler() {}

  @Override
  public HttpResponse handle(StatusCode status, ErrorInfo error, LoggingAdapter log, ServerSettings settings) {
    log.warning("Illegal request, responding with status '{}': {}", status, error.formatPretty());
    // the summary only, as Akka's own handler does without verbose-error-messages: the detail echoes the request
    String detail = settings.verboseErrorMessages() ? error.formatPretty() : error.summary();
    return Problems.response(status, detail.isBlank() ? status.reason() : detail, null);
  }
}
