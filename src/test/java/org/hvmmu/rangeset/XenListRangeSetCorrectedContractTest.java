package org.hvmmu.rangeset;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/** The shared range set contract, run against Xen's list algorithm with every defect fixed. */
class XenListRangeSetCorrectedContractTest extends AbstractRangeSetContractTest {
  @Override
  protected RangeSet newSet(String name, int flags) {
    return new XenListRangeSet(name, flags, XenListRangeSet.Variant.CORRECTED);
  }

  @Override
  protected boolean invariantsHold(RangeSet set) {
    // Every set the contract exercises must come from this subclass's factory.
    return assertInstanceOf(XenListRangeSet.class, set).checkInvariants();
  }
}
