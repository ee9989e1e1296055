package org.hvmmu.rangeset.owned;

/** Receives registrations from {@link OwnedRanges#forEachRegistration}. */
@FunctionalInterface
public interface RegistrationVisitor {
  /**
   * Visits one registration: the inclusive range {@code [s, e]} held by {@code registrant}.
   *
   * @param registrant the registrant's id
   * @param s first frame, unsigned
   * @param e last frame, inclusive, unsigned
   * @return 0 to go on; anything else stops the walk, which returns it
   */
  int visit(int registrant, long s, long e);
}
