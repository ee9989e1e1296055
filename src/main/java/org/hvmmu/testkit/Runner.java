package org.hvmmu.testkit;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.function.Function;

/** The try loop and the greedy shrinker shared by {@link Property} and {@link StatefulCheck}. */
final class Runner {
  private Runner() {}

  /** One run of the property on one value: null when it holds. */
  interface Trial<T> {
    Failure run(T value);
  }

  /** A failed trial: what was thrown, and where (empty, or for example "step 2 (add(0))"). */
  static final class Failure {
    final Throwable error;
    final String where;

    Failure(Throwable error, String where) {
      this.error = error;
      this.where = where;
    }
  }

  /** Runs the tries of {@code config} and throws a {@link PropertyFailure} on the first failure. */
  static <T> void check(
      PropertyConfig config,
      Gen<T> gen,
      Trial<T> trial,
      Function<? super T, String> render,
      String kind) {
    SplittableRandom master = new SplittableRandom(config.seed());
    for (int tryNumber = 1; tryNumber <= config.tries(); tryNumber++) {
      SplittableRandom random = master.split();
      Shrinkable<T> root = gen.sample(random);
      Failure failure = trial.run(root.value());
      if (failure != null) {
        throw shrink(config, root, failure, trial, render, kind, tryNumber);
      }
    }
  }

  private static <T> PropertyFailure shrink(
      PropertyConfig config,
      Shrinkable<T> root,
      Failure rootFailure,
      Trial<T> trial,
      Function<? super T, String> render,
      String kind,
      int tryNumber) {
    Shrinkable<T> current = root;
    Failure failure = rootFailure;
    int steps = 0;
    int attempts = 0;
    boolean exhausted = false;
    search:
    while (true) {
      for (Shrinkable<T> candidate : current.shrinks()) {
        if (attempts >= config.maxShrinkAttempts()) {
          exhausted = true;
          break search;
        }
        attempts++;
        Failure candidateFailure = trial.run(candidate.value());
        if (candidateFailure != null) {
          current = candidate;
          failure = candidateFailure;
          steps++;
          continue search;
        }
      }
      break;
    }
    String seed = PropertyConfig.seedText(config.seed());
    StringBuilder message = new StringBuilder();
    message
        .append(kind)
        .append(" failed on try ")
        .append(tryNumber)
        .append(" of ")
        .append(config.tries())
        .append(" with seed ")
        .append(seed)
        .append("\n  replay: -D")
        .append(PropertyConfig.SEED_PROPERTY)
        .append('=')
        .append(seed)
        .append("\n  shrunk counterexample (")
        .append(steps)
        .append(" shrink steps, ")
        .append(attempts)
        .append(" attempts")
        .append(exhausted ? ", stopped at the limit" : "")
        .append("): ")
        .append(render.apply(current.value()))
        .append("\n  shrunk failure")
        .append(failure.where.isEmpty() ? "" : " at " + failure.where)
        .append(": ")
        .append(failure.error)
        .append("\n  original counterexample: ")
        .append(render.apply(root.value()))
        .append("\n  original failure")
        .append(rootFailure.where.isEmpty() ? "" : " at " + rootFailure.where)
        .append(": ")
        .append(rootFailure.error);
    return new PropertyFailure(
        message.toString(),
        failure.error,
        config.seed(),
        tryNumber,
        config.tries(),
        root.value(),
        current.value(),
        steps,
        attempts);
  }

  /** Runs {@code check} on {@code value}: null if it returns, what it threw otherwise. */
  static <T> Throwable invoke(Consumer<? super T> check, T value) {
    try {
      check.accept(value);
      return null;
    } catch (OutOfMemoryError e) {
      throw e;
    } catch (Throwable t) { // any throwable signals failure, AssertionError included
      return t;
    }
  }

  /** A counterexample for the message: arrays by content, anything else by toString. */
  static String describe(Object value) {
    try {
      if (value != null && value.getClass().isArray()) {
        String s = Arrays.deepToString(new Object[] {value});
        return s.substring(1, s.length() - 1);
      }
      return String.valueOf(value);
    } catch (RuntimeException e) {
      return "<toString threw " + e + ">";
    }
  }
}
