package org.hvmmu.cli;

import java.util.ArrayList;
import java.util.List;
import org.slf4j.ILoggerFactory;
import org.slf4j.LoggerFactory;

/**
 * Captures the library's log lines (WARN and DEBUG of every {@code org.hvmmu} logger) so that
 * {@code hvmmu demo} can show them under the step that caused them, instead of on stderr.
 *
 * <p>It attaches a Logback {@code ListAppender} to the {@code org.hvmmu} logger, at DEBUG and not
 * additive, and {@link #close} restores the logger. Logback is the CLI's logging backend but a
 * runtime-only (and optional) dependency, so it is reached by reflection on its public API; with
 * another SLF4J backend, or none, {@link #available()} is false and {@link #drain} returns
 * nothing. Single-threaded use only.
 */
final class LogCapture implements AutoCloseable {
  private static final String LOGGER = "org.hvmmu";

  private final Object logger;
  private final Object appender;
  private final Object oldLevel;
  private final boolean oldAdditive;
  private final List<?> events;

  private LogCapture(Object logger, Object appender, Object oldLevel, boolean oldAdditive,
      List<?> events) {
    this.logger = logger;
    this.appender = appender;
    this.oldLevel = oldLevel;
    this.oldAdditive = oldAdditive;
    this.events = events;
  }

  /**
   * Starts capturing, if the backend is Logback.
   *
   * @return the capture; {@link #available()} tells whether it works
   */
  static LogCapture start() {
    try {
      ILoggerFactory factory = LoggerFactory.getILoggerFactory();
      if (!factory.getClass().getName().equals("ch.qos.logback.classic.LoggerContext")) {
        return unavailable();
      }
      Object logger = factory.getLogger(LOGGER);
      Class<?> loggerClass = logger.getClass();
      ClassLoader loader = loggerClass.getClassLoader();
      Class<?> levelClass = Class.forName("ch.qos.logback.classic.Level", true, loader);
      Class<?> appenderClass = Class.forName("ch.qos.logback.core.Appender", true, loader);
      Class<?> contextClass = Class.forName("ch.qos.logback.core.Context", true, loader);
      Class<?> listClass = Class.forName("ch.qos.logback.core.read.ListAppender", true, loader);
      Object appender = listClass.getConstructor().newInstance();
      listClass.getMethod("setContext", contextClass).invoke(appender, factory);
      listClass.getMethod("setName", String.class).invoke(appender, "hvmmu-demo");
      listClass.getMethod("start").invoke(appender);
      Object oldLevel = loggerClass.getMethod("getLevel").invoke(logger);
      boolean oldAdditive = (Boolean) loggerClass.getMethod("isAdditive").invoke(logger);
      Object debug = levelClass.getMethod("toLevel", String.class).invoke(null, "DEBUG");
      loggerClass.getMethod("setLevel", levelClass).invoke(logger, debug);
      loggerClass.getMethod("setAdditive", boolean.class).invoke(logger, false);
      loggerClass.getMethod("addAppender", appenderClass).invoke(logger, appender);
      List<?> events = (List<?>) listClass.getField("list").get(appender);
      return new LogCapture(logger, appender, oldLevel, oldAdditive, events);
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      return unavailable();
    }
  }

  private static LogCapture unavailable() {
    return new LogCapture(null, null, null, true, new ArrayList<>());
  }

  /**
   * Whether log lines are being captured.
   *
   * @return false without Logback
   */
  boolean available() {
    return logger != null;
  }

  /**
   * The lines logged since the last call, as {@code LEVEL Logger: message}, and forgets them.
   *
   * @return the lines, oldest first
   */
  List<String> drain() {
    List<String> lines = new ArrayList<>();
    for (Object event : events) {
      try {
        Class<?> c = Class.forName("ch.qos.logback.classic.spi.ILoggingEvent", true,
            event.getClass().getClassLoader());
        String level = String.valueOf(c.getMethod("getLevel").invoke(event));
        String name = String.valueOf(c.getMethod("getLoggerName").invoke(event));
        String message = String.valueOf(c.getMethod("getFormattedMessage").invoke(event));
        lines.add(String.format(java.util.Locale.ROOT, "%-5s %s: %s", level,
            name.substring(name.lastIndexOf('.') + 1), message));
      } catch (ReflectiveOperationException | RuntimeException e) {
        lines.add(String.valueOf(event));
      }
    }
    events.clear();
    return lines;
  }

  /** Detaches the appender and restores the logger's level and additivity. */
  @Override
  public void close() {
    if (logger == null) {
      return;
    }
    try {
      Class<?> loggerClass = logger.getClass();
      ClassLoader loader = loggerClass.getClassLoader();
      Class<?> levelClass = Class.forName("ch.qos.logback.classic.Level", true, loader);
      Class<?> appenderClass = Class.forName("ch.qos.logback.core.Appender", true, loader);
      loggerClass.getMethod("detachAppender", appenderClass).invoke(logger, appender);
      loggerClass.getMethod("setLevel", levelClass).invoke(logger, oldLevel);
      loggerClass.getMethod("setAdditive", boolean.class).invoke(logger, oldAdditive);
      appender.getClass().getMethod("stop").invoke(appender);
    } catch (ReflectiveOperationException | RuntimeException e) {
      // Restoring is best effort; the process ends after the demo.
    }
  }
}
