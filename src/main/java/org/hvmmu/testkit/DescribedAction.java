package org.hvmmu.testkit;

import java.util.Objects;
import java.util.function.BiConsumer;

/** {@link Action#of}: a body and the description that identifies it. */
final class DescribedAction<S, M> implements Action<S, M> {
  private final String description;
  private final BiConsumer<? super S, ? super M> body;

  DescribedAction(String description, BiConsumer<? super S, ? super M> body) {
    this.description = Objects.requireNonNull(description, "description");
    this.body = Objects.requireNonNull(body, "body");
  }

  @Override
  public void run(S system, M model) {
    body.accept(system, model);
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof DescribedAction<?, ?> that && description.equals(that.description);
  }

  @Override
  public int hashCode() {
    return description.hashCode();
  }

  @Override
  public String toString() {
    return description;
  }
}
