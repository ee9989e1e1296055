package org.hvmmu.mmu;

import static org.hvmmu.mmu.AccessCombination.CR0_WP;
import static org.hvmmu.mmu.AccessCombination.CR4_PKE;
import static org.hvmmu.mmu.AccessCombination.CR4_PKS;
import static org.hvmmu.mmu.AccessCombination.CR4_SMAP;
import static org.hvmmu.mmu.AccessCombination.CR4_SMEP;
import static org.hvmmu.mmu.AccessCombination.EFER_NX;
import static org.hvmmu.mmu.AccessCombination.FETCH;
import static org.hvmmu.mmu.AccessCombination.IMPLICIT;
import static org.hvmmu.mmu.AccessCombination.PDE_A;
import static org.hvmmu.mmu.AccessCombination.PDE_BIT13;
import static org.hvmmu.mmu.AccessCombination.PDE_BIT36;
import static org.hvmmu.mmu.AccessCombination.PDE_BIT51;
import static org.hvmmu.mmu.AccessCombination.PDE_D;
import static org.hvmmu.mmu.AccessCombination.PDE_NX;
import static org.hvmmu.mmu.AccessCombination.PDE_P;
import static org.hvmmu.mmu.AccessCombination.PDE_PSE;
import static org.hvmmu.mmu.AccessCombination.PDE_U;
import static org.hvmmu.mmu.AccessCombination.PDE_W;
import static org.hvmmu.mmu.AccessCombination.PDPTE_A;
import static org.hvmmu.mmu.AccessCombination.PDPTE_BIT13;
import static org.hvmmu.mmu.AccessCombination.PDPTE_BIT36;
import static org.hvmmu.mmu.AccessCombination.PDPTE_BIT51;
import static org.hvmmu.mmu.AccessCombination.PDPTE_D;
import static org.hvmmu.mmu.AccessCombination.PDPTE_NX;
import static org.hvmmu.mmu.AccessCombination.PDPTE_P;
import static org.hvmmu.mmu.AccessCombination.PDPTE_PS;
import static org.hvmmu.mmu.AccessCombination.PDPTE_RO;
import static org.hvmmu.mmu.AccessCombination.PDPTE_U;
import static org.hvmmu.mmu.AccessCombination.PDPTE_W;
import static org.hvmmu.mmu.AccessCombination.PKEY;
import static org.hvmmu.mmu.AccessCombination.PKRS_AD;
import static org.hvmmu.mmu.AccessCombination.PKRS_WD;
import static org.hvmmu.mmu.AccessCombination.PKRU_AD;
import static org.hvmmu.mmu.AccessCombination.PKRU_WD;
import static org.hvmmu.mmu.AccessCombination.PTE_A;
import static org.hvmmu.mmu.AccessCombination.PTE_BIT36;
import static org.hvmmu.mmu.AccessCombination.PTE_BIT51;
import static org.hvmmu.mmu.AccessCombination.PTE_D;
import static org.hvmmu.mmu.AccessCombination.PTE_NX;
import static org.hvmmu.mmu.AccessCombination.PTE_P;
import static org.hvmmu.mmu.AccessCombination.PTE_U;
import static org.hvmmu.mmu.AccessCombination.PTE_W;
import static org.hvmmu.mmu.AccessCombination.RFLAGS_AC;
import static org.hvmmu.mmu.AccessCombination.TWICE;
import static org.hvmmu.mmu.AccessCombination.USER;
import static org.hvmmu.mmu.AccessCombination.WRITE;
import static org.hvmmu.mmu.AccessCombination.has;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.hvmmu.mmu.memory.PhysicalMemory;
import org.junit.jupiter.api.Test;

/**
 * The exhaustive permission matrix in the style of kvm-unit-tests' {@code x86/access.c}: every
 * legal {@link AccessCombination} (or a seeded sample of them) is set up in real 4- and 5-level
 * tables, accessed through {@link Vcpu#translate}, and compared with {@link AccessOracle}, which
 * applies the SDM's rules: fault or not, the exact #PF error code, CR2, the physical address, and
 * every entry of the walk afterwards.
 *
 * <p>By default a sample of {@value #SAMPLE_PER_CONFIGURATION} combinations per paging mode and
 * MAXPHYADDR runs, from a fixed seed that {@code -Dhvmmu.seed=...} replaces; {@code
 * -Dhvmmu.exhaustive=true} (and the {@code campaign} profile) runs all of them; {@code
 * -Dhvmmu.matrixSample=N} runs N per configuration instead (the mutation profile's smaller sample).
 */
class PermissionMatrixTest {
  private static final int SAMPLE_PER_CONFIGURATION = 150_000;
  private static final long DEFAULT_SEED = 0xACCE55_5EEDL;
  private static final int MAX_REPORTED = 12;

  /** Paging levels and MAXPHYADDR of each configuration the matrix runs in. */
  private static final int[][] CONFIGURATIONS = {{4, 46}, {5, 46}, {4, 36}, {5, 36}};

  // ---- the matrix ---------------------------------------------------------------------------------

  @Test
  void shouldAgreeWithTheSdmOracleOnEveryCombinationRun() throws Exception {
    boolean exhaustive = Boolean.parseBoolean(System.getProperty("hvmmu.exhaustive", "false"));
    long seed = seed();
    int sample = Integer.getInteger("hvmmu.matrixSample", SAMPLE_PER_CONFIGURATION);
    int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
    StringBuilder report = new StringBuilder();
    report.append("PermissionMatrixTest: ")
        .append(exhaustive ? "exhaustive" : "sample of " + sample
            + " per configuration, seed 0x" + Long.toHexString(seed))
        .append(", ").append(threads).append(" thread(s)\n");
    List<String> mismatches = new ArrayList<>();
    AtomicLong mismatchCount = new AtomicLong();
    long totalRun = 0;
    long start = System.nanoTime();
    for (int[] config : CONFIGURATIONS) {
      int levels = config[0];
      int maxPhyAddr = config[1];
      AccessCombination.Space space = new AccessCombination.Space(maxPhyAddr);
      long[] indexes = null;
      long count = space.size();
      if (!exhaustive) {
        SplittableRandom random = new SplittableRandom(seed ^ (levels * 1000L + maxPhyAddr));
        indexes = new long[sample];
        for (int i = 0; i < indexes.length; i++) {
          indexes[i] = random.nextLong(space.size());
        }
        // Index order groups combinations with the same registers (fewer reloads, more INVLPG).
        Arrays.sort(indexes);
        count = indexes.length;
      }
      long t0 = System.nanoTime();
      runParallel(space, levels, indexes, count, threads, mismatches, mismatchCount);
      long t1 = System.nanoTime();
      totalRun += count;
      report.append(String.format(Locale.ROOT,
          "  %d-level paging, MAXPHYADDR %d: %,d legal combinations (%,d register and access"
              + " settings x %s entry settings), %,d run in %.1f s%n",
          levels, maxPhyAddr, space.size(), space.environmentCount() / 2, space.entryCounts(),
          count, (t1 - t0) / 1e9));
    }
    report.append(String.format(Locale.ROOT, "  total: %,d run in %.1f s, %,d mismatches",
        totalRun, (System.nanoTime() - start) / 1e9, mismatchCount.get()));
    System.out.println(report);
    if (mismatchCount.get() != 0) {
      fail(mismatchCount.get() + " of " + totalRun + " combinations disagree with the oracle"
          + " (seed 0x" + Long.toHexString(seed) + "); the first " + mismatches.size() + ":\n"
          + String.join("\n", mismatches));
    }
  }

  private static void runParallel(AccessCombination.Space space, int levels, long[] indexes,
      long count, int threads, List<String> mismatches, AtomicLong mismatchCount)
      throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        long from = count * t / threads;
        long to = count * (t + 1) / threads;
        futures.add(pool.submit(() -> {
          Rig rig = new Rig(levels, space.maxPhyAddr);
          for (long i = from; i < to; i++) {
            long flags = space.at(indexes == null ? i : indexes[(int) i]);
            String mismatch = rig.check(flags);
            if (mismatch != null) {
              mismatchCount.incrementAndGet();
              synchronized (mismatches) {
                if (mismatches.size() < MAX_REPORTED) {
                  mismatches.add(mismatch);
                }
              }
            }
          }
          return null;
        }));
      }
      for (Future<?> f : futures) {
        f.get();
      }
    } finally {
      pool.shutdown();
    }
  }

  private static long seed() {
    String text = System.getProperty("hvmmu.seed", "").strip();
    if (text.isEmpty()) {
      return DEFAULT_SEED;
    }
    if (text.startsWith("0x") || text.startsWith("0X")) {
      return Long.parseUnsignedLong(text.substring(2), 16);
    }
    return text.startsWith("-") ? Long.parseLong(text) : Long.parseUnsignedLong(text);
  }

  @Test
  void shouldCountTheLegalCombinationsOfEachMaxPhyAddr() {
    // Environments per EFER.NX half: CR0.WP x CR4.SMEP x (PKE off, or on with 4 AD/WD values) x
    // (PKS likewise) x pkey x (SMAP off, on with AC 0, on with AC 1) x 8 accesses (r/w/x by user
    // or supervisor, r/w implicit) x twice = 2 x 2 x 5 x 5 x 2 x 3 x 8 x 2 = 9,600.
    // Entries with MAXPHYADDR 46 (bit 51 reserved): 4 KiB 2^12 x 3 x 2 = 24,576 with EFER.NX and
    // 2^10 x 5 x 2 = 10,240 without; 2 MiB 2^6 x 3 x 2 = 384 / 2^5 x 4 x 2 = 256; 1 GiB 192 / 128.
    AccessCombination.Space wide = new AccessCombination.Space(46);
    assertEquals(2 * 9_600, wide.environmentCount());
    assertEquals(9_600L * (24_576 + 384 + 192 + 10_240 + 256 + 128), wide.size());
    // MAXPHYADDR 36 (bits 36 and 51 reserved): 4 KiB 2^12 x 5 x 2 / 2^10 x 7 x 2; 2 MiB
    // 2^6 x 4 x 2 / 2^5 x 5 x 2; 1 GiB 2^6 x 4 / 2^5 x 5.
    AccessCombination.Space reduced = new AccessCombination.Space(36);
    assertEquals(9_600L * (40_960 + 512 + 256 + 14_336 + 320 + 160), reduced.size());
    SplittableRandom random = new SplittableRandom(1);
    for (int i = 0; i < 10_000; i++) {
      long f = reduced.at(random.nextLong(reduced.size()));
      assertTrue(AccessCombination.isLegal(f, 36), AccessCombination.describe(f));
    }
  }

  // ---- examples with hand-computed values ---------------------------------------------------------

  private static final long SUPERVISOR_PAGE = PTE_P | PTE_W | PDE_P | PDE_W | EFER_NX | CR0_WP;
  private static final long USER_PAGE = SUPERVISOR_PAGE | PTE_U | PDE_U;

  @Test
  void shouldFaultWithPwuOnAUserWriteToAReadOnlyUserPage() {
    Rig rig = new Rig(4, 46);
    rig.run((USER_PAGE & ~PTE_W) | USER | WRITE);
    assertEquals(0x7, rig.errorCode());
    assertEquals(Rig.LA, rig.vcpu.cr2());
    assertEquals(0x4000_0005L, rig.actual[1]); // P, U/S; neither A nor D
  }

  @Test
  void shouldLetASupervisorWriteAReadOnlyPageWithoutWpAndSetDirty() {
    Rig rig = new Rig(4, 46);
    rig.run((SUPERVISOR_PAGE & ~PTE_W & ~PDE_W & ~CR0_WP) | WRITE);
    assertEquals(0x4000_0ABCL, rig.result);
    assertEquals(0x4000_0061L, rig.actual[1]); // P, A, D
    assertEquals(Rig.tableAddress(4, 1) | 0x1000_0000_0000_0021L, rig.actual[2]); // key 2, P A
  }

  @Test
  void shouldFaultWithPiOnASmepFetchOfAUserPage() {
    Rig rig = new Rig(4, 46);
    rig.run((USER_PAGE & ~EFER_NX) | CR4_SMEP | FETCH);
    assertEquals(0x11, rig.errorCode());
    rig.run(USER_PAGE | CR4_SMEP | FETCH);
    assertEquals(0x11, rig.errorCode());
  }

  @Test
  void shouldApplySmapToSupervisorReadsOfUserPagesUnlessAcIsSet() {
    Rig rig = new Rig(4, 46);
    rig.run(USER_PAGE | CR4_SMAP);
    assertEquals(0x1, rig.errorCode());
    rig.run(USER_PAGE | CR4_SMAP | RFLAGS_AC);
    assertEquals(0x4000_0ABCL, rig.result);
    assertEquals(0x4000_0027L, rig.actual[1]); // P RW U A
  }

  @Test
  void shouldApplySmapToImplicitAccessesWhateverAcSays() {
    Rig rig = new Rig(4, 46);
    rig.run(USER_PAGE | CR4_SMAP | RFLAGS_AC | IMPLICIT);
    assertEquals(0x1, rig.errorCode());
    rig.run(USER_PAGE | CR4_SMAP | RFLAGS_AC | IMPLICIT | WRITE);
    assertEquals(0x3, rig.errorCode());
    rig.run(USER_PAGE | IMPLICIT | WRITE); // without SMAP an implicit access is a supervisor one
    assertEquals(0x4000_0ABCL, rig.result);
  }

  @Test
  void shouldFaultWithPkOnAUserReadOfAnAccessDisabledKey() {
    Rig rig = new Rig(4, 46);
    rig.run(USER_PAGE | CR4_PKE | PKEY | PKRU_AD | USER);
    assertEquals(0x25, rig.errorCode());
    rig.run(USER_PAGE | CR4_PKE | PKRU_AD | USER); // key 0 is not disabled
    assertEquals(0x4000_0ABCL, rig.result);
    rig.run(USER_PAGE | CR4_PKE | PKEY | PKRU_WD | WRITE); // supervisor write, CR0.WP = 1
    assertEquals(0x23, rig.errorCode());
    rig.run((USER_PAGE & ~CR0_WP) | CR4_PKE | PKEY | PKRU_WD | WRITE); // WD ignored without WP
    assertEquals(0x4000_0ABCL, rig.result);
  }

  @Test
  void shouldApplyPkrsToSupervisorPages() {
    Rig rig = new Rig(4, 46);
    rig.run(SUPERVISOR_PAGE | CR4_PKS | PKEY | PKRS_AD);
    assertEquals(0x21, rig.errorCode());
    rig.run(SUPERVISOR_PAGE | CR4_PKS | PKEY | PKRS_WD | WRITE);
    assertEquals(0x23, rig.errorCode());
    rig.run((SUPERVISOR_PAGE & ~CR0_WP) | CR4_PKS | PKEY | PKRS_WD | WRITE);
    assertEquals(0x4000_0ABCL, rig.result);
    rig.run(USER_PAGE | CR4_PKS | PKEY | PKRS_AD | USER); // PKRS does not cover user pages
    assertEquals(0x4000_0ABCL, rig.result);
  }

  @Test
  void shouldReportRsvdForBit51InAPde() {
    Rig rig = new Rig(4, 46);
    rig.run(SUPERVISOR_PAGE | PDE_BIT51);
    assertEquals(0x9, rig.errorCode());
    rig.run(USER_PAGE | PDE_BIT51 | USER | WRITE);
    assertEquals(0xF, rig.errorCode());
  }

  @Test
  void shouldReportRsvdForBit13OfAOneGigabytePage() {
    Rig rig = new Rig(5, 46);
    rig.run(PDPTE_PS | PDPTE_P | PDPTE_W | PDPTE_BIT13 | EFER_NX);
    assertEquals(0x9, rig.errorCode());
    rig.run(PDPTE_PS | PDPTE_P | PDPTE_W | EFER_NX | WRITE);
    assertEquals(0x5678_9ABCL, rig.result); // 1 GiB + bits 29:0 of the linear address
    assertEquals(0x4000_00E3L, rig.actual[3]); // P RW A D PS
  }

  @Test
  void shouldFaultWithPiOnAFetchFromAnNxPageWithNxe() {
    Rig rig = new Rig(4, 46);
    rig.run(SUPERVISOR_PAGE | PTE_NX | FETCH);
    assertEquals(0x11, rig.errorCode());
  }

  @Test
  void shouldReportNoIdBitWithoutNxeAndSmep() {
    Rig rig = new Rig(4, 46);
    rig.run((SUPERVISOR_PAGE & ~EFER_NX) | PDE_U | USER | FETCH); // PTE supervisor-only
    assertEquals(0x5, rig.errorCode());
    rig.run((SUPERVISOR_PAGE & ~EFER_NX & ~PTE_P) | FETCH); // not present
    assertEquals(0x0, rig.errorCode());
    rig.run((SUPERVISOR_PAGE & ~PTE_P) | FETCH); // the same with NXE: I is reported
    assertEquals(0x10, rig.errorCode());
  }

  @Test
  void shouldSetDirtyWhenAWriteFollowsARead() {
    Rig rig = new Rig(4, 46);
    rig.run(USER_PAGE | TWICE | USER | WRITE);
    assertEquals(0x4000_0ABCL, rig.result);
    assertEquals(0x4000_0067L, rig.actual[1]); // P RW U A D
    assertNull(rig.check(USER_PAGE | TWICE | USER | WRITE));
  }

  @Test
  void shouldCheckACachedTranslationAgainstTheCurrentWpPkruAndAc() {
    // A TLB entry holds the rights of the entries, not a verdict: CR0.WP, PKRU and RFLAGS.AC are
    // applied at each access (kvm-unit-tests check_toggle_cr0_wp; SDM vol. 3A §4.6.2: WRPKRU
    // needs no invalidation).
    Rig rig = new Rig(4, 46);
    rig.run(SUPERVISOR_PAGE & ~PTE_W); // a supervisor read caches the read-only page
    long r = rig.vcpu.translate(Rig.LA, Access.WRITE);
    assertTrue(Fault.isFault(r));
    assertEquals(0x3, Fault.code(r)); // CR0.WP = 1
    rig.vcpu.translate(Rig.LA, Access.READ); // cached again (the #PF removed it)
    assertEquals(0, rig.vcpu.writeCr0(rig.vcpu.cr0() & ~AccessOracle.CR0_WP));
    assertEquals(0x4000_0ABCL, rig.vcpu.translate(Rig.LA, Access.WRITE));

    rig.run(USER_PAGE | CR4_PKE | PKEY | USER);
    assertEquals(0x4000_0ABCL, rig.result);
    rig.vcpu.writePkru(0x34); // AD for key 1
    r = rig.vcpu.translate(Rig.LA, Access.USER);
    assertTrue(Fault.isFault(r));
    assertEquals(0x25, Fault.code(r));

    rig.run(USER_PAGE | CR4_SMAP | RFLAGS_AC);
    assertEquals(0x4000_0ABCL, rig.result);
    rig.vcpu.setRflags(AccessOracle.RFLAGS_FIXED); // CLAC
    r = rig.vcpu.translate(Rig.LA, Access.READ);
    assertTrue(Fault.isFault(r));
    assertEquals(0x1, Fault.code(r));
  }

  @Test
  void shouldExplainAMismatchInWords() {
    Rig rig = new Rig(4, 36);
    String message = rig.explain(USER_PAGE | PTE_BIT36 | TWICE | USER);
    assertTrue(message.contains("pte.rw pte.user pte.p pte.36 pde.rw pde.user pde.p user twice"
        + " efer.nx cr0.wp"), message);
    assertTrue(message.contains("#PF 0xd (P|U|RSVD)"), message);
    assertTrue(message.contains("PTE=0x1040000007"), message);
  }

  // ---- the machine under test -----------------------------------------------------------------------

  /**
   * One vCPU on its own memory with one fixed walk for {@link #LA}: table frames 0x10-0x14, the
   * page at physical 1 GiB (aligned for every page size). Each combination rewrites the entries of
   * the walk, executes INVLPG, and accesses; registers are reloaded only when they change.
   */
  static final class Rig {
    static final long LA = 0xFFFF_9234_5678_9ABCL;
    static final long PAGE = 0x4000_0000L;
    private static final long FIRST_TABLE = 0x10_000L;
    private static final long NON_LEAF_KEY = 2L << AccessOracle.KEY_SHIFT;
    private static final long REGISTER_FLAGS = EFER_NX | CR0_WP | CR4_SMEP | CR4_PKE | CR4_SMAP
        | RFLAGS_AC | CR4_PKS | PKRU_AD | PKRU_WD | PKRS_AD | PKRS_WD;
    private static final String[] ENTRY_NAMES = {"", "PTE", "PDE", "PDPTE", "PML4E", "PML5E"};

    final int levels;
    final int maxPhyAddr;
    final PhysicalMemory memory;
    final Vcpu vcpu;
    private final long[] slot = new long[6];
    private long loadedRegisterFlags = -1;
    private AccessOracle.Registers registers;

    final long[] before = new long[6];
    final long[] expected = new long[6];
    final long[] actual = new long[6];
    int lowest;
    long first;
    long result;
    long expectedFirst;
    long expectedResult;
    long cr2;

    Rig(int levels, int maxPhyAddr) {
      this.levels = levels;
      this.maxPhyAddr = maxPhyAddr;
      memory = new PhysicalMemory(maxPhyAddr);
      memory.addRam(FIRST_TABLE >>> 12, (FIRST_TABLE >>> 12) + 4);
      vcpu = new Vcpu(memory, MmuFeatures.intel(maxPhyAddr), MmuSwitches.DEFAULT,
          TlbConfig.goldenCove(), LatencyModel.GOLDEN_COVE);
      for (int level = levels; level >= 1; level--) {
        int shift = 12 + 9 * (level - 1);
        slot[level] = tableAddress(levels, level) + ((LA >>> shift) & 0x1FF) * 8;
      }
    }

    /** The physical address of the table that holds the level-{@code level} entry. */
    static long tableAddress(int levels, int level) {
      return FIRST_TABLE + (long) (levels - level) * 0x1000;
    }

    /** Sets up and performs the combination; leaves the model's results in the fields. */
    void run(long f) {
      applyRegisters(f);
      buildEntries(f);
      for (int level = levels; level >= lowest; level--) {
        memory.write(slot[level], 8, before[level]);
      }
      vcpu.invlpg(LA);
      first = 0;
      if (has(f, TWICE)) {
        first = normalize(vcpu.translate(LA, Access.READ));
      }
      int access = (has(f, WRITE) ? Access.WRITE : 0) | (has(f, USER) ? Access.USER : 0)
          | (has(f, FETCH) ? Access.FETCH : 0) | (has(f, IMPLICIT) ? Access.IMPLICIT : 0);
      result = normalize(vcpu.translate(LA, access));
      cr2 = vcpu.cr2();
      for (int level = levels; level >= lowest; level--) {
        actual[level] = memory.read(slot[level], 8);
      }
    }

    /** The #PF error code of the last run's access; fails if it did not raise a #PF. */
    int errorCode() {
      assertTrue(result < 0 && result != NOT_A_PAGE_FAULT, "expected a #PF, got "
          + AccessOracle.describe(result));
      return AccessOracle.errorCode(result);
    }

    /**
     * Runs the combination on the model and on the oracle.
     *
     * @param f the flags
     * @return null if they agree, else the mismatch in words
     */
    String check(long f) {
      if (!AccessCombination.isLegal(f, maxPhyAddr)) {
        throw new IllegalArgumentException("illegal combination " + AccessCombination.describe(f));
      }
      run(f);
      expect(f);
      boolean same = first == expectedFirst && result == expectedResult
          && (result >= 0 || cr2 == LA);
      for (int level = levels; level >= lowest && same; level--) {
        same = actual[level] == expected[level];
      }
      return same ? null : describe(f, "mismatch");
    }

    /**
     * Runs the combination and describes it, whether or not the model agrees with the oracle.
     *
     * @param f the flags
     * @return the description
     */
    String explain(long f) {
      run(f);
      expect(f);
      return describe(f, "combination");
    }

    /** The oracle's view of the combination just run (a TLB filled by the first read is used). */
    private void expect(long f) {
      System.arraycopy(before, 0, expected, 0, 6);
      expectedFirst = 0;
      if (has(f, TWICE)) {
        // The first read may fill the TLB. The entries do not change in between, so a cached
        // translation carries the same rights, key and leaf as a new walk would read (SDM vol. 3A
        // §4.10.2.2); a write through a translation cached with D = 0 walks again to set D (§4.8).
        // Both reduce to performing the second access on the entries the first one left.
        expectedFirst = AccessOracle.access(LA, expected, registers, 0);
      }
      int access = (has(f, WRITE) ? AccessOracle.WRITE : 0)
          | (has(f, USER) ? AccessOracle.USER : 0) | (has(f, FETCH) ? AccessOracle.FETCH : 0)
          | (has(f, IMPLICIT) ? AccessOracle.IMPLICIT : 0);
      expectedResult = AccessOracle.access(LA, expected, registers, access);
    }

    /** A description of the combination just run and checked (no new run: what was seen). */
    private String describe(long f, String title) {
      StringBuilder b = new StringBuilder();
      b.append("PermissionMatrix ").append(title).append(": ").append(levels)
          .append("-level paging, MAXPHYADDR ").append(maxPhyAddr).append('\n');
      b.append("  flags 0x").append(Long.toHexString(f)).append(": ")
          .append(AccessCombination.describe(f)).append('\n');
      b.append("  registers: ").append(registers).append('\n');
      b.append("  linear address 0x").append(Long.toHexString(LA)).append(", access ")
          .append(accessWords(f)).append('\n');
      b.append("  entries before: ").append(entries(before)).append('\n');
      if (has(f, TWICE)) {
        b.append("  first (supervisor read): expected ").append(AccessOracle.describe(expectedFirst))
            .append(", actual ").append(describeModel(first)).append('\n');
      }
      b.append("  result: expected ").append(AccessOracle.describe(expectedResult))
          .append(", actual ").append(describeModel(result));
      if (result < 0) {
        b.append(", CR2 0x").append(Long.toHexString(cr2));
      }
      b.append('\n');
      b.append("  entries after, expected: ").append(entries(expected)).append('\n');
      b.append("  entries after, actual:   ").append(entries(actual)).append('\n');
      b.append("  reproduce: new PermissionMatrixTest.Rig(").append(levels).append(", ")
          .append(maxPhyAddr).append(").check(0x").append(Long.toHexString(f)).append("L)");
      return b.toString();
    }

    private String accessWords(long f) {
      String kind = has(f, FETCH) ? "fetch" : has(f, WRITE) ? "write" : "read";
      String mode = has(f, USER) ? "user" : has(f, IMPLICIT) ? "implicit supervisor"
          : "supervisor";
      return mode + " " + kind + (has(f, TWICE) ? " after a supervisor read" : "");
    }

    private String entries(long[] values) {
      StringBuilder b = new StringBuilder();
      for (int level = levels; level >= lowest; level--) {
        b.append(level == levels ? "" : " ").append(ENTRY_NAMES[level]).append("=0x")
            .append(Long.toHexString(values[level]));
      }
      return b.toString();
    }

    private static final long NOT_A_PAGE_FAULT = Long.MIN_VALUE;

    /** A model result in the oracle's encoding: the address, ~errorCode, or NOT_A_PAGE_FAULT. */
    private static long normalize(long r) {
      if (!Fault.isFault(r)) {
        return r;
      }
      return Fault.kind(r) == FaultKind.PAGE_FAULT ? ~Fault.code(r) : NOT_A_PAGE_FAULT;
    }

    private static String describeModel(long normalized) {
      return normalized == NOT_A_PAGE_FAULT ? "a fault other than #PF"
          : AccessOracle.describe(normalized);
    }

    private void applyRegisters(long f) {
      long key = f & REGISTER_FLAGS;
      if (key == loadedRegisterFlags) {
        return;
      }
      long cr0 = AccessOracle.CR0_PE | AccessOracle.CR0_PG | (has(f, CR0_WP) ? AccessOracle.CR0_WP
          : 0);
      long cr4 = AccessOracle.CR4_PAE | (levels == 5 ? AccessOracle.CR4_LA57 : 0)
          | (has(f, CR4_SMEP) ? AccessOracle.CR4_SMEP : 0)
          | (has(f, CR4_SMAP) ? AccessOracle.CR4_SMAP : 0)
          | (has(f, CR4_PKE) ? AccessOracle.CR4_PKE : 0)
          | (has(f, CR4_PKS) ? AccessOracle.CR4_PKS : 0);
      long efer = AccessOracle.EFER_LME | AccessOracle.EFER_LMA
          | (has(f, EFER_NX) ? AccessOracle.EFER_NXE : 0);
      // Key 2 (on every non-leaf entry) is fully denied, key 1 follows the flags, key 0 is open.
      // With the feature off every key but 0 is denied, to show that the register is then unused.
      int pkru = has(f, CR4_PKE)
          ? 0x30 | (has(f, PKRU_WD) ? 8 : 0) | (has(f, PKRU_AD) ? 4 : 0) : 0xFFFF_FFFC;
      int pkrs = has(f, CR4_PKS)
          ? 0x30 | (has(f, PKRS_WD) ? 8 : 0) | (has(f, PKRS_AD) ? 4 : 0) : 0xFFFF_FFFC;
      long rflags = AccessOracle.RFLAGS_FIXED | (has(f, RFLAGS_AC) ? AccessOracle.RFLAGS_AC : 0);
      AccessOracle.Registers r =
          new AccessOracle.Registers(cr0, cr4, efer, pkru, pkrs, rflags, maxPhyAddr);
      if (registers == null || r.cr0() != registers.cr0() || r.cr4() != registers.cr4()
          || r.efer() != registers.efer()) {
        assertEquals(0, vcpu.loadState(cr0, tableAddress(levels, levels), cr4, efer));
      }
      vcpu.writePkru(pkru);
      assertEquals(0, vcpu.writePkrs(pkrs & 0xFFFF_FFFFL));
      vcpu.setRflags(rflags);
      registers = r;
      loadedRegisterFlags = key;
    }

    private void buildEntries(long f) {
      Arrays.fill(before, 0);
      long leafKey = has(f, PKEY) ? 1L << AccessOracle.KEY_SHIFT : 0;
      for (int level = levels; level > 3; level--) {
        before[level] = tableAddress(levels, level - 1) | AccessOracle.P | AccessOracle.RW
            | AccessOracle.US | NON_LEAF_KEY;
      }
      if (has(f, PDPTE_PS)) {
        before[3] = PAGE | AccessOracle.PS | leafKey | bits(f, PDPTE_W, PDPTE_U, PDPTE_A, PDPTE_D,
            PDPTE_NX, PDPTE_P, PDPTE_BIT51, PDPTE_BIT36, PDPTE_BIT13);
        lowest = 3;
        return;
      }
      before[3] = tableAddress(levels, 2) | AccessOracle.P | AccessOracle.US
          | (has(f, PDPTE_RO) ? 0 : AccessOracle.RW) | NON_LEAF_KEY;
      long pde = bits(f, PDE_W, PDE_U, PDE_A, PDE_D, PDE_NX, PDE_P, PDE_BIT51, PDE_BIT36,
          PDE_BIT13);
      if (has(f, PDE_PSE)) {
        before[2] = PAGE | AccessOracle.PS | leafKey | pde;
        lowest = 2;
        return;
      }
      before[2] = tableAddress(levels, 1) | NON_LEAF_KEY | pde;
      before[1] = PAGE | leafKey
          | bits(f, PTE_W, PTE_U, PTE_A, PTE_D, PTE_NX, PTE_P, PTE_BIT51, PTE_BIT36, 0);
      lowest = 1;
    }

    private static long bits(long f, long w, long u, long a, long d, long nx, long p, long bit51,
        long bit36, long bit13) {
      return (has(f, w) ? AccessOracle.RW : 0) | (has(f, u) ? AccessOracle.US : 0)
          | (has(f, a) ? AccessOracle.A : 0) | (has(f, d) ? AccessOracle.D : 0)
          | (has(f, nx) ? AccessOracle.XD : 0) | (has(f, p) ? AccessOracle.P : 0)
          | (has(f, bit51) ? 1L << 51 : 0) | (has(f, bit36) ? 1L << 36 : 0)
          | (has(f, bit13) ? 1L << 13 : 0);
    }
  }
}
