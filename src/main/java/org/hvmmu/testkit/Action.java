package org.hvmmu.testkit;

import java.util.function.BiConsumer;

/**
 * One step of a stateful check: applies an operation to the system under test and to the model, and
 * throws (an {@link AssertionError}, say) if their results disagree.
 *
 * <p>{@link #toString()} must describe the operation with its arguments, {@code "add(0x10, 0x1f)"}
 * for example, since failures print the shrunk sequence that way. Records with an overridden {@code
 * toString} make good actions: their {@code equals} also lets shrinking simplify repeated actions
 * together. Actions must hold no state of their own between runs, because shrinking runs the same
 * action objects again and again on fresh systems.
 *
 * <pre>{@code
 * record Add(long s, long e) implements Action<RangeSet, TreeSet<Long>> {
 *   public void run(RangeSet set, TreeSet<Long> model) {
 *     assertEquals(0, set.addRange(s, e));
 *     for (long v = s; v <= e; v++) { model.add(v); }
 *   }
 *   public String toString() { return "add(" + s + ", " + e + ")"; }
 * }
 * }</pre>
 *
 * @param <S> the type of the system under test
 * @param <M> the type of the model
 */
public interface Action<S, M> {
  /**
   * Applies the action to both, checking that they agree.
   *
   * @param system the system under test
   * @param model the model
   */
  void run(S system, M model);

  /**
   * The action and its arguments, as printed in a failure.
   *
   * @return for example {@code "add(0x10, 0x1f)"}
   */
  @Override
  String toString();

  /**
   * An action from a description and a body. Two actions made this way are equal when their
   * descriptions are, so the description must say everything the action does; equality lets
   * shrinking simplify repeated actions together ({@code add(8), add(8)} to {@code add(0),
   * add(0)}).
   *
   * <pre>{@code
   * Action<Counter, int[]> increment = Action.of("increment()", (c, m) -> {
   *   c.increment();
   *   m[0]++;
   *   assertEquals(m[0], c.get());
   * });
   * }</pre>
   *
   * @param description what {@link #toString()} returns
   * @param body applies the action to the system and the model and checks them
   * @param <S> the type of the system under test
   * @param <M> the type of the model
   * @return the action
   */
  static <S, M> Action<S, M> of(String description, BiConsumer<? super S, ? super M> body) {
    return new DescribedAction<>(description, body);
  }
}
