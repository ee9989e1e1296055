package org.hvmmu.rangeset;

/** The shared range set contract, run against the product implementation. */
class IntervalTreeRangeSetContractTest extends AbstractRangeSetContractTest {
  @Override
  protected RangeSet newSet(String name, int flags) {
    return new IntervalTreeRangeSet(name, flags);
  }

  @Override
  protected boolean invariantsHold(RangeSet set) {
    return ((IntervalTreeRangeSet) set).checkInvariants();
  }
}
