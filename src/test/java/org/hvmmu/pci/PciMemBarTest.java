package org.hvmmu.pci;

import static org.hvmmu.pci.PciMemBar.readPciMemBar;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Xen's {@code read_pci_mem_bar}: reference §3.2 and the suggested cases of §7. Expected values
 * are worked by hand from the BAR values in each comment.
 */
class PciMemBarTest {
  private static final BarReadMode CORRECTED = BarReadMode.CORRECTED;
  private static final BarReadMode SEED = BarReadMode.SEED_2010;

  /** Six BARs of every kind, in a header of the given type. */
  private static ConfigSpace normal(int headerType) {
    return new ConfigBuilder(256)
        .headerType(headerType)
        .bar(0, 0xfebd6000L) // 32-bit non-prefetchable
        .bar(1, 0xe0000008L) // 32-bit prefetchable
        .bar(2, 0x5001000cL) // 64-bit prefetchable, low
        .bar(3, 0x00000020L) //   high: 0x20_5001_0000
        .bar(4, 0x000a0002L) // below 1M
        .bar(5, 0x0000c061L) // I/O
        .build();
  }

  @ParameterizedTest
  @CsvSource({
    // headerType, bir, corrected,      seed
    // Type 0: six BARs. Seed: bar & 0xf (+ high << 32 for 64-bit).
    "0x00, 0, 0xfebd6000,   0x0",
    "0x00, 1, 0xe0000000,   0x8",
    "0x00, 2, 0x2050010000, 0x200000000c",
    "0x00, 3, 0x20,         0x0", // the high dword alone reads as a 32-bit BAR: 0x20 & ~0xf
    "0x00, 4, 0xa0000,      0x2",
    "0x00, 5, 0x0,          0x0", // I/O
    "0x00, 6, 0x0,          0x0", // at the limit
    "0x00, 7, 0x0,          0x0",
    // Type 0x80: multi-function endpoint. The seed does not mask bit 7: unknown type, 0.
    "0x80, 0, 0xfebd6000,   0x0",
    "0x80, 2, 0x2050010000, 0x0",
    // Type 1 (bridge): two BARs.
    "0x01, 0, 0xfebd6000,   0x0",
    "0x01, 1, 0xe0000000,   0x8",
    "0x01, 2, 0x0,          0x0",
    "0x81, 1, 0xe0000000,   0x0",
    "0x81, 2, 0x0,          0x0",
    // Type 2 (CardBus): one BAR.
    "0x02, 0, 0xfebd6000,   0x0",
    "0x02, 1, 0x0,          0x0",
    // Type 3 and 0x7f: unknown.
    "0x03, 0, 0x0,          0x0",
    "0x7f, 0, 0x0,          0x0",
  })
  void shouldReadNormalFunctions(int headerType, int bir, long corrected, long seed) {
    ConfigSpace c = normal(headerType);
    assertEquals(corrected, readPciMemBar(c, bir, CORRECTED), "corrected");
    assertEquals(seed, readPciMemBar(c, bir, SEED), "seed");
  }

  @Test
  void shouldSwitchEachDefectSeparately() {
    ConfigSpace c = normal(0x80);
    // Only the inverted mask: the header type is masked, so BAR 1 gives its flag bits 0x8.
    assertEquals(0x8L, readPciMemBar(c, 1, new BarReadMode(true, false)));
    // Only the unmasked header type: 0x80 is no known type.
    assertEquals(0L, readPciMemBar(c, 1, new BarReadMode(false, true)));
    assertEquals(0xe0000000L, readPciMemBar(normal(0), 1, new BarReadMode(false, true)));
  }

  @Test
  void shouldReadZeroForA64BitBarInTheLastSlot() {
    // Normal header: slot 5. Bridge: slot 1.
    assertEquals(
        0L, readPciMemBar(new ConfigBuilder(64).bar(5, 0xd000000cL).build(), 5, CORRECTED));
    assertEquals(0L, readPciMemBar(new ConfigBuilder(64).bar(5, 0xd000000cL).build(), 5, SEED));
    ConfigSpace bridge =
        new ConfigBuilder(64).headerType(1).bar(1, 0xd000000cL).bar(2, 0x1).build();
    assertEquals(0L, readPciMemBar(bridge, 1, CORRECTED));
    // The same BAR one slot earlier: 0x1_d000_0000.
    ConfigSpace ok = new ConfigBuilder(64).bar(4, 0xd000000cL).bar(5, 0x1).build();
    assertEquals(0x1d0000000L, readPciMemBar(ok, 4, CORRECTED));
  }

  @Test
  void shouldTreatTheReservedMemoryTypeAs32Bit() {
    assertEquals(
        0xa0000000L,
        readPciMemBar(new ConfigBuilder(64).bar(0, 0xa0000006L).build(), 0, CORRECTED));
  }

  @Test
  void shouldNotCheckTheCommandRegister() {
    // Memory decoding off (command 0): Xen checks that separately (memory_decoded()).
    ConfigSpace c = new ConfigBuilder(64).set16(PciRegs.COMMAND, 0).bar(0, 0xfe000000L).build();
    assertEquals(0xfe000000L, readPciMemBar(c, 0, CORRECTED));
  }

  // ---- Virtual functions: the PF is 03:00.0 (BDF 0x300), SR-IOV capability at 0x160. ----

  private static final int PF_BDF = 0x300;
  private static final int SRIOV = 0x160;
  private static final long[] VF_RLEN = {0x4000, 0, 0x100000, 0, 0x1000, 0};

  /** VF BAR 0 = 0xd0000000 (32-bit), VF BAR 2/3 = 0x2_0000_0000 (64-bit), VF BAR 4 = I/O. */
  private static ConfigBuilder pf(int ctrl, int numVf, int offset, int stride) {
    return new ConfigBuilder(4096)
        .extCap(0x100, 0x0001, 1, SRIOV)
        .extCap(SRIOV, PciRegs.EXT_CAP_ID_SRIOV, 1, 0)
        .set16(SRIOV + PciRegs.SRIOV_CTRL, ctrl)
        .set16(SRIOV + PciRegs.SRIOV_NUM_VF, numVf)
        .set16(SRIOV + PciRegs.SRIOV_VF_OFFSET, offset)
        .set16(SRIOV + PciRegs.SRIOV_VF_STRIDE, stride)
        .set32(SRIOV + PciRegs.SRIOV_BAR, 0xd0000000L)
        .set32(SRIOV + PciRegs.SRIOV_BAR + 8, 0x0000000cL)
        .set32(SRIOV + PciRegs.SRIOV_BAR + 12, 0x2L)
        .set32(SRIOV + PciRegs.SRIOV_BAR + 16, 0x0000e001L);
  }

  private static final int VFE_MSE = PciRegs.SRIOV_CTRL_VFE | PciRegs.SRIOV_CTRL_MSE;

  private static long vf(ConfigBuilder pf, int bir, int vf) {
    return readPciMemBar(pf.build(), PF_BDF, bir, vf, VF_RLEN, CORRECTED);
  }

  @ParameterizedTest
  @CsvSource({
    // With offset 0x80 and stride 2, VF k has BDF 0x300 + 0x80 + 2k.
    // vf,    bir, expected
    "0x380, 0, 0xd0000000", // index 0
    "0x384, 0, 0xd0008000", // index (0x384 - 0x380) / 2 = 2: 0xd0000000 + 2 * 0x4000
    "0x386, 0, 0xd000c000", // index 3, the last of 4
    "0x388, 0, 0x0", //        index 4 >= NumVFs 4
    "0x383, 0, 0x0", //        index 3 is not a multiple of the stride 2
    "0x37e, 0, 0x0", //        index -2
    "0x382, 2, 0x200100000", // 64-bit: 0x0 + 1 * 0x100000 + (0x2 << 32)
    "0x382, 1, 0x0", //        vf_rlen[1] is 0
    "0x382, 4, 0x0", //        I/O VF BAR (vf_rlen 0x1000, but bit 0 set)
    "0x382, 6, 0x0", //        bir >= 6
    "0x382, 7, 0x0",
  })
  void shouldReadVirtualFunctionBars(int vf, int bir, long expected) {
    assertEquals(expected, vf(pf(VFE_MSE, 4, 0x80, 2), bir, vf));
  }

  @Test
  void shouldReadZeroUnlessVfEnableAndVfMemorySpaceEnableAreSet() {
    assertEquals(0L, vf(pf(PciRegs.SRIOV_CTRL_MSE, 4, 0x80, 2), 0, 0x380));
    assertEquals(0L, vf(pf(PciRegs.SRIOV_CTRL_VFE, 4, 0x80, 2), 0, 0x380));
    assertEquals(0xd0000000L, vf(pf(VFE_MSE, 4, 0x80, 2), 0, 0x380));
  }

  @Test
  void shouldHandleAStrideOfZero() {
    // NumVFs 1, stride 0: allowed; only index 0 exists (0x380 - 0x380 = 0; 0x381 gives 1 >= 1).
    assertEquals(0xd0000000L, vf(pf(VFE_MSE, 1, 0x80, 0), 0, 0x380));
    assertEquals(0L, vf(pf(VFE_MSE, 1, 0x80, 0), 0, 0x381));
    // NumVFs 2, stride 0: rejected before any division (Xen's 2014 fix for a divide by zero).
    assertEquals(0L, vf(pf(VFE_MSE, 2, 0x80, 0), 0, 0x380));
  }

  @Test
  void shouldReadZeroWithoutVfsOrOffsetOrCapability() {
    assertEquals(0L, vf(pf(VFE_MSE, 0, 0x80, 2), 0, 0x380));
    assertEquals(0L, vf(pf(VFE_MSE, 4, 0, 2), 0, 0x300));
    ConfigSpace noSriov = new ConfigBuilder(4096).extCap(0x100, 1, 1, 0).build();
    assertEquals(0L, readPciMemBar(noSriov, PF_BDF, 0, 0x380, VF_RLEN, CORRECTED));
    // Conventional space only: no extended capabilities at all.
    assertEquals(0L, readPciMemBar(normal(0), PF_BDF, 0, 0x380, VF_RLEN, CORRECTED));
  }

  @Test
  void shouldComputeTheDisplacementIn64Bits() {
    // Index 3 (0x386) times a 4 GiB VF BAR: 3 * 0x1_0000_0000 = 0x3_0000_0000, beyond 32 bits.
    long[] big = {0x100000000L, 0, 0, 0, 0, 0};
    assertEquals(
        0x3d0000000L,
        readPciMemBar(pf(VFE_MSE, 4, 0x80, 2).build(), PF_BDF, 0, 0x386, big, CORRECTED));
  }

  @Test
  void shouldApplyTheSeedMasksToTheVfPath() {
    // The seed had no VF support; its masks still apply: 0xd0000000 & 0xf = 0, plus 2 * 0x4000.
    assertEquals(
        0x8000L, readPciMemBar(pf(VFE_MSE, 4, 0x80, 2).build(), PF_BDF, 0, 0x384, VF_RLEN, SEED));
  }

  @Test
  void shouldRejectArgumentsOutsideXensTypes() {
    ConfigSpace c = normal(0);
    assertThrows(IllegalArgumentException.class, () -> readPciMemBar(c, -1, CORRECTED));
    assertThrows(IllegalArgumentException.class, () -> readPciMemBar(c, 0x100, CORRECTED));
    assertThrows(
        IllegalArgumentException.class, () -> readPciMemBar(c, 0, 0, 0x10000, VF_RLEN, CORRECTED));
    assertThrows(
        IllegalArgumentException.class, () -> readPciMemBar(c, 0, 0, 0x380, null, CORRECTED));
    assertThrows(
        IllegalArgumentException.class,
        () -> readPciMemBar(c, 0, 0, 0x380, new long[5], CORRECTED));
    assertThrows(
        IllegalArgumentException.class,
        () -> readPciMemBar(c, 0x10000, 0, 0x380, VF_RLEN, CORRECTED));
    assertThrows(IllegalArgumentException.class, () -> readPciMemBar(c, 0, null));
    // A bir beyond 7 is legal for Xen's u8 and simply reads 0.
    assertEquals(0L, readPciMemBar(c, 0xff, CORRECTED));
  }
}
