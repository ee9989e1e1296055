package org.hvmmu.testkit;

import java.util.List;
import java.util.Objects;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

/**
 * Stateful property checks: random sequences of {@link Action}s run against a fresh system and a
 * fresh model, with an invariant checked after every step.
 *
 * <p>Each try draws a sequence of 1 to {@code maxActions} actions, creates a system and a model,
 * and runs the actions in order; after each action it calls the invariant (which throws when it
 * does not hold, like an action does). The first action or invariant that throws fails the try. A
 * failing sequence shrinks by deleting actions (chunks, then single ones), then by shrinking
 * repeated actions together, then by shrinking each action's arguments through the action
 * generator's own shrink tree. The {@link PropertyFailure} lists the minimal sequence one action
 * per line, numbered, and names the failing step; its {@link
 * PropertyFailure#shrunkCounterexample()} is the {@code List} of actions.
 *
 * <pre>{@code
 * Gen<Action<RangeSet, TreeSet<Long>>> actions = Gens.<Action<RangeSet, TreeSet<Long>>>weighted()
 *     .add(3, Gens.rangesWithin(0, 63).map(r -> new Add(r.start(), r.end())))
 *     .add(1, Gens.rangesWithin(0, 63).map(r -> new Remove(r.start(), r.end())))
 *     .build();
 * StatefulCheck.run(IntervalTreeRangeSet::new, TreeSet::new, actions, 50,
 *     (set, model) -> assertTrue(set.checkInvariants()));
 * }</pre>
 *
 * <p>Systems and actions must be deterministic for shrinking and replay to work: the same sequence
 * must fail the same way each time it runs.
 */
public final class StatefulCheck {
  private StatefulCheck() {}

  /**
   * Runs the check configured by {@link PropertyConfig#defaults()}.
   *
   * @param newSystem creates a fresh system under test for each run of a sequence
   * @param newModel creates a fresh model for each run of a sequence
   * @param actions the generator of single actions
   * @param maxActions the longest sequence, at least 1
   * @param invariant checked after every step; throws when the system and model are inconsistent
   * @param <S> the type of the system under test
   * @param <M> the type of the model
   * @throws PropertyFailure with the minimal failing sequence and the seed
   * @throws IllegalArgumentException if {@code maxActions < 1}
   */
  public static <S, M> void run(
      Supplier<? extends S> newSystem,
      Supplier<? extends M> newModel,
      Gen<? extends Action<S, M>> actions,
      int maxActions,
      BiConsumer<? super S, ? super M> invariant) {
    run(PropertyConfig.defaults(), newSystem, newModel, actions, maxActions, invariant);
  }

  /**
   * Runs the check with an explicit configuration (tries, seed, shrink budget).
   *
   * @param config the configuration
   * @param newSystem creates a fresh system under test for each run of a sequence
   * @param newModel creates a fresh model for each run of a sequence
   * @param actions the generator of single actions
   * @param maxActions the longest sequence, at least 1
   * @param invariant checked after every step; throws when the system and model are inconsistent
   * @param <S> the type of the system under test
   * @param <M> the type of the model
   * @throws PropertyFailure with the minimal failing sequence and the seed
   * @throws IllegalArgumentException if {@code maxActions < 1}
   */
  public static <S, M> void run(
      PropertyConfig config,
      Supplier<? extends S> newSystem,
      Supplier<? extends M> newModel,
      Gen<? extends Action<S, M>> actions,
      int maxActions,
      BiConsumer<? super S, ? super M> invariant) {
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(newSystem, "newSystem");
    Objects.requireNonNull(newModel, "newModel");
    Objects.requireNonNull(actions, "actions");
    Objects.requireNonNull(invariant, "invariant");
    if (maxActions < 1) {
      throw new IllegalArgumentException("maxActions " + maxActions + " (expected: >= 1)");
    }
    Gen<List<Action<S, M>>> sequences =
        Gens.lists(actions.<Action<S, M>>map(action -> action), 1, maxActions);
    Runner.check(
        config,
        sequences,
        sequence -> runSequence(sequence, newSystem, newModel, invariant),
        StatefulCheck::describeSequence,
        "Stateful check");
  }

  /**
   * A sequence of actions one per line, numbered from 1, as failures print it.
   *
   * @param sequence the actions
   * @return a count line such as {@code "2 actions:"}, then one line {@code " <n>. <action>"} per
   *     action, separated by {@code '\n'}
   */
  public static String describeSequence(List<?> sequence) {
    StringBuilder out = new StringBuilder();
    out.append(sequence.size()).append(sequence.size() == 1 ? " action:" : " actions:");
    for (int i = 0; i < sequence.size(); i++) {
      out.append("\n    ").append(i + 1).append(". ").append(Runner.describe(sequence.get(i)));
    }
    return out.toString();
  }

  private static <S, M> Runner.Failure runSequence(
      List<Action<S, M>> sequence,
      Supplier<? extends S> newSystem,
      Supplier<? extends M> newModel,
      BiConsumer<? super S, ? super M> invariant) {
    S system;
    M model;
    try {
      system = newSystem.get();
      model = newModel.get();
    } catch (OutOfMemoryError e) {
      throw e;
    } catch (Throwable t) { // a constructor that throws fails the check, too
      return new Runner.Failure(t, "creating the system and model");
    }
    for (int i = 0; i < sequence.size(); i++) {
      Action<S, M> action = sequence.get(i);
      S s = system;
      M m = model;
      Throwable error = Runner.invoke(a -> a.run(s, m), action);
      if (error != null) {
        return new Runner.Failure(error, "step " + (i + 1) + " (" + Runner.describe(action) + ")");
      }
      error = Runner.invoke(ignored -> invariant.accept(s, m), action);
      if (error != null) {
        return new Runner.Failure(
            error, "the invariant after step " + (i + 1) + " (" + Runner.describe(action) + ")");
      }
    }
    return null;
  }
}
