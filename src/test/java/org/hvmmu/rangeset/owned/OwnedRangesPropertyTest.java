package org.hvmmu.rangeset.owned;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import org.hvmmu.rangeset.IntervalTreeRangeSet;
import org.hvmmu.rangeset.RangeSet;
import org.hvmmu.testkit.Action;
import org.hvmmu.testkit.Gen;
import org.hvmmu.testkit.Gens;
import org.hvmmu.testkit.StatefulCheck;
import org.hvmmu.xen.Errno;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Random registrations and removals by three registrants over frames 0..15, against a brute-force
 * model: per registrant a list of ranges, and per frame the expected membership. Under the
 * ownership-aware policy a frame is in the set exactly when some live registration covers it; under
 * Xen's, the set is what the adds and the plain removals leave. Results ({@code 0}, {@code
 * -ENOENT}) are predicted by the model, and the registry's own invariants hold after every step.
 */
class OwnedRangesPropertyTest {
  private static final int FRAMES = 16;

  /** The model: each registrant's ranges, and the set Xen's policy would hold. */
  static final class Model {
    final List<List<long[]>> held = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
    final BitSet xenSet = new BitSet();

    int find(int who, long s, long e) {
      List<long[]> list = held.get(who);
      for (int i = 0; i < list.size(); i++) {
        if (list.get(i)[0] == s && list.get(i)[1] == e) {
          return i;
        }
      }
      return -1;
    }

    boolean covered(long frame) {
      for (List<long[]> list : held) {
        for (long[] r : list) {
          if (r[0] <= frame && frame <= r[1]) {
            return true;
          }
        }
      }
      return false;
    }
  }

  /** The system under test: a registry and its registrants 0, 1, 2. */
  static final class Sys {
    final OwnedRanges registry;

    Sys(RemovalPolicy policy) {
      registry =
          new OwnedRanges(new IntervalTreeRangeSet("ro", RangeSet.PRETTYPRINT_HEX), policy);
      for (int i = 0; i < 3; i++) {
        registry.newRegistrant("r" + i);
      }
    }
  }

  record Add(int who, long s, long e) implements Action<Sys, Model> {
    @Override
    public void run(Sys sys, Model model) {
      assertEquals(0, sys.registry.add(who, s, e));
      model.held.get(who).add(new long[] {s, e});
      model.xenSet.set((int) s, (int) e + 1);
    }

    @Override
    public String toString() {
      return "add(r" + who + ", " + s + ", " + e + ")";
    }
  }

  record Remove(int who, long s, long e) implements Action<Sys, Model> {
    @Override
    public void run(Sys sys, Model model) {
      int index = model.find(who, s, e);
      boolean aware = sys.registry.policy() == RemovalPolicy.OWNERSHIP_AWARE;
      int expected = index < 0 && aware ? -Errno.ENOENT : 0;
      assertEquals(expected, sys.registry.remove(who, s, e), toString());
      if (index >= 0) {
        model.held.get(who).remove(index);
      }
      if (!aware) {
        model.xenSet.clear((int) s, (int) e + 1);
      }
    }

    @Override
    public String toString() {
      return "remove(r" + who + ", " + s + ", " + e + ")";
    }
  }

  /** Removes the registrant's {@code index}-th registration (modulo its count), if any. */
  record RemoveHeld(int who, int index) implements Action<Sys, Model> {
    @Override
    public void run(Sys sys, Model model) {
      List<long[]> list = model.held.get(who);
      if (list.isEmpty()) {
        return;
      }
      long[] r = list.get(index % list.size());
      new Remove(who, r[0], r[1]).run(sys, model);
    }

    @Override
    public String toString() {
      return "removeHeld(r" + who + ", #" + index + ")";
    }
  }

  private static Gen<Action<Sys, Model>> actions() {
    Gen<Integer> who = Gens.ints(0, 2);
    Gen<Action<Sys, Model>> add =
        Gens.zip(who, Gens.rangesWithin(0, FRAMES - 1), (w, r) -> new Add(w, r.start(), r.end()));
    Gen<Action<Sys, Model>> remove =
        Gens.zip(
            who, Gens.rangesWithin(0, FRAMES - 1), (w, r) -> new Remove(w, r.start(), r.end()));
    Gen<Action<Sys, Model>> removeHeld =
        Gens.zip(who, Gens.ints(0, 7), (w, i) -> new RemoveHeld(w, i));
    return Gens.<Action<Sys, Model>>weighted()
        .add(4, add)
        .add(1, remove)
        .add(4, removeHeld)
        .build();
  }

  @ParameterizedTest
  @EnumSource(RemovalPolicy.class)
  void shouldMatchTheModel(RemovalPolicy policy) {
    StatefulCheck.run(
        () -> new Sys(policy),
        Model::new,
        actions(),
        40,
        (sys, model) -> {
          assertTrue(sys.registry.checkInvariants(), sys.registry.violations().toString());
          for (long f = 0; f <= FRAMES; f++) {
            boolean expected =
                policy == RemovalPolicy.OWNERSHIP_AWARE
                    ? model.covered(f)
                    : model.xenSet.get((int) f);
            assertEquals(expected, sys.registry.target().containsSingleton(f), "frame " + f);
            assertEquals(model.covered(f), sys.registry.isRegistered(f), "registered " + f);
          }
          if (policy == RemovalPolicy.OWNERSHIP_AWARE) {
            assertEquals(List.of(), sys.registry.violations());
          }
        });
  }
}
