package org.hvmmu.mmu.memory;

/**
 * A write needed a new RAM frame, but {@link PhysicalMemory} already holds as many allocated frames
 * as its budget allows. The write did not happen; every frame already allocated keeps its contents.
 */
public final class MemoryBudgetExceededException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  private final long frame;
  private final long budget;

  /**
   * Creates the exception.
   *
   * @param frame the frame the write needed
   * @param budget the budget, in frames
   */
  public MemoryBudgetExceededException(long frame, long budget) {
    super("physical memory: writing frame 0x" + Long.toHexString(frame)
        + " needs a new frame, but the budget of 0x" + Long.toHexString(budget)
        + " allocated frames is used up");
    this.frame = frame;
    this.budget = budget;
  }

  /**
   * The frame the write needed.
   *
   * @return the frame number
   */
  public long frame() {
    return frame;
  }

  /**
   * The budget in frames.
   *
   * @return the most frames the memory allocates
   */
  public long budget() {
    return budget;
  }
}
