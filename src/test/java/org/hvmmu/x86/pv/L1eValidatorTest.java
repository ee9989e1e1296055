package org.hvmmu.x86.pv;

import static org.hvmmu.x86.PteFlags.PAGE_GLOBAL;
import static org.hvmmu.x86.PteFlags.PAGE_GUEST_KERNEL;
import static org.hvmmu.x86.PteFlags.PAGE_NX_BIT;
import static org.hvmmu.x86.PteFlags.PAGE_PAT;
import static org.hvmmu.x86.PteFlags.PAGE_PCD;
import static org.hvmmu.x86.PteFlags.PAGE_PRESENT;
import static org.hvmmu.x86.PteFlags.PAGE_PWT;
import static org.hvmmu.x86.PteFlags.PAGE_RW;
import static org.hvmmu.x86.PteFlags.PAGE_USER;
import static org.hvmmu.x86.pv.PvFixture.RO_ABOVE;
import static org.hvmmu.x86.pv.PvFixture.RO_IN_TABLE;
import static org.hvmmu.x86.pv.PvFixture.RW_ABOVE;
import static org.hvmmu.x86.pv.PvFixture.RW_IN_TABLE;
import static org.hvmmu.x86.pv.PvFixture.pte;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import org.hvmmu.x86.CpuFeatures;
import org.hvmmu.x86.MemoryType;
import org.hvmmu.x86.Pat;
import org.hvmmu.x86.Pte;
import org.hvmmu.x86.PteFlags;
import org.hvmmu.xen.Errno;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.LoggerFactory;

/**
 * Every branch of {@code get_page_from_l1e}, under the seed's and upstream's switches. Expected
 * results are worked by hand from the seed patch and reference section 4: the seed's 1 / 0 / -1 are
 * a zero mask / a negated errno / a mask with R/W; upstream's uncached flip is PWT|PCD (0x18) for WB,
 * PCD (0x10) for WT and PCD|PAT (0x90) for WP.
 */
class L1eValidatorTest {
  private static final PvSwitches SEED = PvSwitches.SEED_2010;
  private static final PvSwitches HARD = PvSwitches.HARDENED;
  private static final int P = PAGE_PRESENT;
  private static final int RW = PAGE_RW;

  record Case(
      String name,
      PvSwitches switches,
      Function<PvFixture, Domain> l1eOwner,
      Function<PvFixture, Domain> pgOwner,
      long pte,
      int expected) {
    @Override
    public String toString() {
      return name + (switches == SEED ? " [seed]" : switches == HARD ? " [hardened]" : " [mixed]");
    }
  }

  private static void both(String name, Function<PvFixture, Domain> l1e,
      Function<PvFixture, Domain> pg, long pte, int seed, int hardened, List<Case> out) {
    out.add(new Case(name, SEED, l1e, pg, pte, seed));
    out.add(new Case(name, HARD, l1e, pg, pte, hardened));
  }

  static Stream<Case> cases() {
    Function<PvFixture, Domain> dom0 = f -> f.dom0;
    Function<PvFixture, Domain> domU = f -> f.domU;
    Function<PvFixture, Domain> noio = f -> f.noio;
    Function<PvFixture, Domain> hvm = f -> f.hvm;
    Function<PvFixture, Domain> domIo = f -> f.mmu.domIo();
    List<Case> c = new java.util.ArrayList<>();
    int einval = -Errno.EINVAL;
    int eperm = -Errno.EPERM;
    int ebusy = -Errno.EBUSY;
    // Non-present entries are accepted whatever they hold.
    both("non-present", domU, domU, 0xdeadbeef000L | RW | PAGE_PCD, 0, 0, c);
    // l1_disallow_mask: PWT/PCD/PAT need I/O resources; GNTTAB never; G is fine on L1.
    both("PCD without I/O resources", noio, noio, pte(0x100, P | PAGE_PCD), einval, einval, c);
    both("PAT without I/O resources", noio, noio, pte(0x100, P | PAGE_PAT), einval, einval, c);
    both("GNTTAB marker", domU, domU, pte(0x101, P) | 1L << 62, einval, einval, c);
    both("global user page", domU, domU, pte(0x101, P | PAGE_USER | PAGE_GLOBAL), 0, 0, c);
    both("guest-kernel marker", domU, domU, pte(0x101, P) | 1L << 52, 0, 0, c);
    both("NX with NX support", domU, domU, pte(0x101, P) | 1L << 63, 0, 0, c);
    // MMIO without a frame-table entry.
    both("r/o MMIO, RW, WB", domU, domU, pte(RO_ABOVE, P | RW), RW, RW | 0x18, c);
    both("r/o MMIO, RO, WB", domU, domU, pte(RO_ABOVE, P), 0, 0x18, c);
    both("r/o MMIO, RW, WT", domU, domU, pte(RO_ABOVE, P | RW | PAGE_PWT), RW, RW | 0x10, c);
    both("r/o MMIO, RW, WP", domU, domU, pte(RO_ABOVE, P | RW | PAGE_PAT | PAGE_PWT), RW,
        RW | 0x90, c);
    both("r/o MMIO, RW, UC", domU, domU, pte(RO_ABOVE, P | RW | PAGE_PCD | PAGE_PWT), RW, RW, c);
    both("r/o MMIO, RW, UC-", domU, domU, pte(RO_ABOVE, P | RW | PAGE_PCD), RW, RW, c);
    both("r/o MMIO, RW, WC", domU, domU, pte(RO_ABOVE, P | RW | PAGE_PAT), RW, RW, c);
    both("other MMIO, RW, WB", domU, domU, pte(RW_ABOVE, P | RW), 0, 0x18, c);
    both("other MMIO, RW, UC", domU, domU, pte(RW_ABOVE, P | RW | 0x18), 0, 0, c);
    // MMIO inside the frame table, owned by dom_io.
    both("r/o dom_io MMIO, RW", domU, domU, pte(RO_IN_TABLE, P | RW), RW, RW | 0x18, c);
    both("other dom_io MMIO, RW", domU, domU, pte(RW_IN_TABLE, P | RW), 0, 0x18, c);
    // Permission.
    both("no iomem permission", noio, noio, pte(RO_ABOVE, P), eperm, eperm, c);
    both("no permission, dom_io frame", noio, noio, pte(RO_IN_TABLE, P), eperm, eperm, c);
    both("INVALID_MFN pattern", domU, domU, pte(Pte.INVALID_MFN_PATTERN, P), einval, einval, c);
    // The privileged exemption (seed only) and the foreign check (upstream only).
    both("dom0, r/o MMIO, RW", dom0, dom0, pte(RO_ABOVE, P | RW), 0, RW | 0x18, c);
    both("domU table, dom0's rights", domU, dom0, pte(RO_ABOVE, P | RW), 0, RW | 0x18, c);
    both("noio table, dom0's rights", noio, dom0, pte(RO_ABOVE, P | RW), 0, eperm, c);
    both("DOMID_IO means the caller", domU, domIo, pte(RO_ABOVE, P | RW), RW, RW | 0x18, c);
    both("DOMID_IO, caller without rights", noio, domIo, pte(RW_ABOVE, P), eperm, eperm, c);
    // RAM.
    both("own RAM, RW", domU, domU, pte(0x101, P | RW), 0, 0, c);
    both("own RAM, RO", domU, domU, pte(0x101, P), 0, 0, c);
    both("another domain's RAM", domU, domU, pte(0x200, P), ebusy, ebusy, c);
    both("free frame", domU, domU, pte(0x500, P), ebusy, ebusy, c);
    both("privileged foreign mapping", noio, dom0, pte(0x101, P | RW), 0, 0, c);
    both("privileged, own table, foreign frame", dom0, dom0, pte(0x101, P), ebusy, ebusy, c);
    both("foreign map of a translated guest", dom0, hvm, pte(0x300, P | RW), 0, 0, c);
    both("Xen heap page, same cache type", domU, domU, pte(0x1f0, P | RW), 0, 0, c);
    both("Xen heap page, new cache type", domU, domU, pte(0x1f0, P | PAGE_PCD), -Errno.EACCES,
        -Errno.EACCES, c);
    // mmio-relax (upstream option): never for r/o frames.
    PvSwitches relaxAll = HARD.withMmioRelax(MmioRelax.ALL);
    PvSwitches relaxHw = HARD.withMmioRelax(MmioRelax.HARDWARE_DOMAIN);
    c.add(new Case("relax=all, other MMIO", relaxAll, domU, domU, pte(RW_ABOVE, P | RW), 0));
    c.add(new Case("relax=all, r/o MMIO", relaxAll, domU, domU, pte(RO_ABOVE, P | RW), 0x1a));
    c.add(new Case("relax=1, domU", relaxHw, domU, domU, pte(RW_ABOVE, P | RW), 0x18));
    c.add(new Case("relax=1, dom0", relaxHw, dom0, dom0, pte(RW_ABOVE, P | RW), 0));
    // One switch at a time.
    c.add(new Case("seed + no exemption", SEED.withPrivilegedExemption(false), dom0, dom0,
        pte(RO_ABOVE, P | RW), RW));
    c.add(new Case("seed + uncached", SEED.withForceUncachedMmio(true), domU, domU,
        pte(RW_ABOVE, P | RW), 0x18));
    c.add(new Case("hardened + exemption", HARD.withPrivilegedExemption(true), dom0, dom0,
        pte(RO_ABOVE, P | RW), 0x18));
    return c.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void shouldGiveTheExpectedVerdict(Case c) {
    PvFixture f = new PvFixture(c.switches());
    int rc = f.mmu.validator().getPageFromL1e(c.pte(), c.l1eOwner().apply(f), c.pgOwner().apply(f));
    assertEquals(c.expected(), rc, () -> "0x" + Integer.toHexString(rc));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void shouldTakeNothingOnRejectAndOnMmio(Case c) {
    PvFixture f = new PvFixture(c.switches());
    long[] before = f.counts();
    int rc = f.mmu.validator().getPageFromL1e(c.pte(), c.l1eOwner().apply(f), c.pgOwner().apply(f));
    long mfn = Pte.getMfn(c.pte());
    if (rc < 0 || !Pte.isPresent(c.pte()) || f.frames.isIomemPage(mfn)) {
      assertArrayEquals(before, f.counts());
    } else {
      // An accepted RAM entry holds a reference that putPageFromL1e gives back exactly.
      f.mmu.validator().putPageFromL1e(Pte.flipFlags(c.pte(), rc), c.l1eOwner().apply(f));
      long cacheAttrMask = PageInfo.PGC_CACHEATTR_MASK;
      long[] after = f.counts();
      for (int i = 0; i < before.length; i++) {
        long keep = i % 2 == 0 ? ~cacheAttrMask : ~0L;
        assertEquals(before[i] & keep, after[i] & keep, "word " + i);
      }
    }
  }

  @Test
  void shouldMakeForcedMmioUncachedUnderXensPat() {
    // Independent check of the flip masks: after the flip, every WB/WT/WP entry selects UC.
    for (int index = 0; index < 8; index++) {
      int flags = PteFlags.cacheAttrFlags(index) | P | RW;
      int flipped = flags ^ L1eValidator.uncachedFlip(flags);
      MemoryType before = Pat.xenType(index);
      MemoryType after = Pat.xenTypeOfFlags(flipped);
      if (before.isUncachedForMmio()) {
        assertEquals(flags, flipped, "index " + index);
      } else {
        assertEquals(MemoryType.UC, after, "index " + index);
        assertEquals(0, flipped & PAGE_PAT, "UC is reached with PAT clear");
      }
    }
  }

  @Test
  void shouldCountRamReferences() {
    PvFixture f = new PvFixture(HARD);
    L1eValidator v = f.mmu.validator();
    assertEquals(0, v.getPageFromL1e(pte(0x101, P | RW), f.domU, f.domU));
    assertEquals(2, f.frames.generalCount(0x101));
    assertEquals(PageType.WRITABLE_PAGE, f.frames.pageType(0x101));
    assertEquals(1, f.frames.typeCount(0x101));
    assertEquals(0, v.getPageFromL1e(pte(0x101, P), f.domU, f.domU));
    assertEquals(3, f.frames.generalCount(0x101));
    assertEquals(1, f.frames.typeCount(0x101));
    // A translated guest's frame mapped writable by another domain: no type reference.
    assertEquals(0, v.getPageFromL1e(pte(0x300, P | RW), f.dom0, f.hvm));
    assertEquals(2, f.frames.generalCount(0x300));
    assertEquals(0, f.frames.typeCount(0x300));
    // The PAT index of the mapping becomes the frame's cache attribute.
    assertEquals(0, v.getPageFromL1e(pte(0x102, P | PAGE_PWT), f.domU, f.domU));
    assertEquals(1, f.frames.cacheAttr(0x102));
  }

  @Test
  void shouldGiveBackEveryReferenceOfARefusedRamEntry() {
    PvFixture f = new PvFixture(HARD);
    L1eValidator v = f.mmu.validator();
    long[] before = f.counts();
    // get_page_from_l1e: a Xen heap page's cache attribute may not change (-EACCES); the general
    // and the writable type reference a writable entry took are dropped again.
    assertEquals(-Errno.EACCES, v.getPageFromL1e(pte(0x1f0, P | RW | PAGE_PCD), f.domU, f.domU));
    // A free frame is nobody's, not even on a privileged domain's behalf (-EBUSY).
    assertEquals(-Errno.EBUSY, v.getPageFromL1e(pte(0x500, P), f.noio, f.dom0));
    assertArrayEquals(before, f.counts());
    assertEquals(0, f.frames.typeCount(0x1f0));
  }

  @Test
  void shouldRefuseWritableMappingsOfAPageTable() {
    PvFixture f = new PvFixture(SEED);
    assertEquals(0, f.mmu.pinL1Table(f.domU, 0x110));
    long[] before = f.counts();
    assertEquals(-Errno.EBUSY, f.mmu.validator().getPageFromL1e(pte(0x110, P | RW), f.domU,
        f.domU));
    assertArrayEquals(before, f.counts());
    assertEquals(0, f.mmu.validator().getPageFromL1e(pte(0x110, P), f.domU, f.domU));
  }

  @Test
  void shouldRefuseNxWithoutProcessorSupport() {
    PvFixture f = new PvFixture(HARD, new CpuFeatures(false));
    assertEquals(-Errno.EINVAL,
        f.mmu.validator().getPageFromL1e(pte(0x101, P) | 1L << 63, f.domU, f.domU));
    assertEquals(0, f.mmu.validator().getPageFromL1e(pte(0x101, P), f.domU, f.domU));
  }

  @Test
  void shouldDisallowCacheBitsOnlyForDomainsWithoutIo() {
    PvFixture f = new PvFixture(SEED);
    // ((0xff800198 & ~NX) | GNTTAB) & ~G = 0xffc00098 on 24 bits; without I/O: also 0x98.
    assertEquals(0x400098, f.mmu.validator().l1DisallowMask(f.noio));
    assertEquals(0x400000, f.mmu.validator().l1DisallowMask(f.domU));
    f.noio.setAssignedDeviceCount(1);
    assertEquals(0x400000, f.mmu.validator().l1DisallowMask(f.noio));
    assertEquals(0x400000, f.mmu.validator().l1DisallowMask(f.hvm));
  }

  @Test
  void shouldLogForcedReadOnlyAccessAtDebug() {
    Logger logger = (Logger) LoggerFactory.getLogger(L1eValidator.class);
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    Level old = logger.getLevel();
    logger.setLevel(Level.DEBUG);
    try {
      PvFixture f = new PvFixture(SEED);
      f.mmu.validator().getPageFromL1e(pte(RO_ABOVE, P | RW), f.domU, f.domU);
      f.mmu.validator().getPageFromL1e(pte(Pte.INVALID_MFN_PATTERN, P), f.noio, f.noio);
      f.mmu.validator().getPageFromL1e(pte(0x1234, P), f.noio, f.noio);
      List<String> messages = appender.list.stream()
          .map(ILoggingEvent::getFormattedMessage).toList();
      assertEquals(List.of(
          "d1: Forcing read-only access to MFN 100000",
          "Non-privileged (2) attempt to map I/O space 00001234"), messages);
      assertTrue(appender.list.stream().allMatch(e -> e.getLevel() == Level.DEBUG));
    } finally {
      logger.setLevel(old);
      logger.detachAppender(appender);
    }
  }

  @Test
  void shouldClassifyResultsAsTheSeedDid() {
    assertEquals(L1eVerdict.REJECT, L1eVerdict.of(-Errno.EPERM));
    assertEquals(L1eVerdict.ACCEPT, L1eVerdict.of(0));
    assertEquals(L1eVerdict.ACCEPT, L1eVerdict.of(0x18));
    assertEquals(L1eVerdict.ACCEPT_READ_ONLY, L1eVerdict.of(RW));
    assertEquals(L1eVerdict.ACCEPT_READ_ONLY, L1eVerdict.of(RW | 0x90));
    assertEquals(0, L1eVerdict.REJECT.seedCode());
    assertEquals(1, L1eVerdict.ACCEPT.seedCode());
    assertEquals(-1, L1eVerdict.ACCEPT_READ_ONLY.seedCode());
  }

  @Test
  void shouldAdjustSixtyFourBitGuestEntries() {
    PvFixture f = new PvFixture(SEED);
    long kernel = pte(0x101, P | RW);
    // Supervisor page: U/S and the guest-kernel marker (PTE bit 52) are added.
    assertEquals(kernel | PAGE_USER | 1L << 52, L1eValidator.adjustGuestL1e(kernel, f.domU));
    // User page: G is added.
    long user = pte(0x101, P | PAGE_USER);
    assertEquals(user | PAGE_GLOBAL, L1eValidator.adjustGuestL1e(user, f.domU));
    // Already marked as kernel: unchanged.
    long marked = Pte.addFlags(user, PAGE_GUEST_KERNEL);
    assertEquals(marked, L1eValidator.adjustGuestL1e(marked, f.domU));
    // 32-bit guests and non-present entries are left alone.
    assertEquals(kernel, L1eValidator.adjustGuestL1e(kernel, f.pae));
    assertEquals(0x101000L, L1eValidator.adjustGuestL1e(0x101000L, f.domU));
    assertEquals(PAGE_NX_BIT, Pte.getFlags(1L << 63));
  }

  @Test
  void disallowedFlagsShouldEqualTheMaskForEveryFlagValue() {
    PvFixture f = new PvFixture(SEED);
    L1eValidator v = f.mmu.validator();
    for (Domain d : new Domain[] {f.noio, f.domU, f.hvm}) {
      int mask = v.l1DisallowMask(d);
      for (int flags = 0; flags <= PteFlags.ALL; flags += 7) {
        if (v.disallowedFlags(flags, d) != (flags & mask)) {
          assertEquals(flags & mask, v.disallowedFlags(flags, d), "flags 0x"
              + Integer.toHexString(flags) + " for " + d);
        }
      }
    }
  }
}
