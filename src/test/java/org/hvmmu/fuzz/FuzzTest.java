package org.hvmmu.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The campaign runner counts outcomes and fails on anything undocumented and on a hang. */
class FuzzTest {
  @Test
  void countsResultsAndDocumentedErrors() {
    Fuzz.Counts c = Fuzz.campaign("parity", 1000)
        .documented(IllegalArgumentException.class)
        .run(r -> r.nextInt(4), x -> {
          if (x == 0) {
            throw new NumberFormatException("zero"); // a subclass of a documented type
          }
        });
    assertEquals(1000, c.inputs());
    assertEquals(1000, c.results() + c.errors());
    assertEquals(Map.of("NumberFormatException", c.errors()), c.documentedErrors());
    assertTrue(c.errors() > 150 && c.errors() < 350, c.toString()); // about a quarter
  }

  @Test
  void theSameSeedDrawsTheSameInputs() {
    Fuzz.Counts a = Fuzz.campaign("same", 500).documented(IllegalStateException.class)
        .run(r -> r.nextInt(3), x -> {
          if (x == 1) {
            throw new IllegalStateException();
          }
        });
    Fuzz.Counts b = Fuzz.campaign("same", 500).documented(IllegalStateException.class)
        .run(r -> r.nextInt(3), x -> {
          if (x == 1) {
            throw new IllegalStateException();
          }
        });
    assertEquals(a, b);
  }

  @Test
  void anUndocumentedErrorFailsWithTheInput() {
    AssertionError e = assertThrows(AssertionError.class,
        () -> Fuzz.campaign("npe", 10).documented(IllegalArgumentException.class)
            .run(r -> "input-" + r.nextInt(1), x -> {
              throw new NullPointerException("boom");
            }));
    assertTrue(e.getMessage().contains("input 0 input-0"), e.getMessage());
    assertTrue(e.getMessage().contains("NullPointerException: boom"), e.getMessage());
  }

  @Test
  void aHangFails() {
    AssertionError e = assertThrows(AssertionError.class,
        () -> Fuzz.campaign("hang", 3).timeoutMillis(100).run(r -> 1, x -> {
          while (!Thread.currentThread().isInterrupted()) { // ends on the runner's cancel
            Thread.onSpinWait();
          }
        }));
    assertTrue(e.getMessage().contains("no answer in 100 ms"), e.getMessage());
  }
}
