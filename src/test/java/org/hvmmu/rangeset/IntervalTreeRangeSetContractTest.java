package org.hvmmu.rangeset;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/** The shared range set contract, run against the product implementation. */
class IntervalTreeRangeSetContractTest extends AbstractRangeSetContractTest {
  @Override
  protected RangeSet newSet(String name, int flags) {
    return new IntervalTreeRangeSet(name, flags);
  }

  @Override
  protected boolean invariantsHold(RangeSet set) {
    // Every set the contract exercises must come from this subclass's factory.
    return assertInstanceOf(IntervalTreeRangeSet.class, set).checkInvariants();
  }
}
