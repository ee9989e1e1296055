package org.hvmmu.rangeset;

/** The shared range set contract, run against Xen's list algorithm with every defect fixed. */
class XenListRangeSetCorrectedContractTest extends AbstractRangeSetContractTest {
  @Override
  protected RangeSet newSet(String name, int flags) {
    return new XenListRangeSet(name, flags, XenListRangeSet.Variant.CORRECTED);
  }

  @Override
  protected boolean invariantsHold(RangeSet set) {
    return ((XenListRangeSet) set).checkInvariants();
  }
}
