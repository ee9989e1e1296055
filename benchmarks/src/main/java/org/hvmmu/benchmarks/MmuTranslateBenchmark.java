package org.hvmmu.benchmarks;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.hvmmu.mmu.Access;
import org.hvmmu.mmu.LatencyModel;
import org.hvmmu.mmu.MmuFeatures;
import org.hvmmu.mmu.MmuSwitches;
import org.hvmmu.mmu.TlbConfig;
import org.hvmmu.mmu.Vcpu;
import org.hvmmu.mmu.memory.PhysicalMemory;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The MMU an emulator calls on every access: {@code Vcpu.translate} on a first-level TLB hit, an
 * 8-byte read through the TLB, 4-level walks with and without paging-structure-cache hits, a 2-D
 * walk (4-level guest over 4-level EPT, 24 references), a #PF, INVLPG, and the flushes of a MOV to
 * CR3 and of everything; beside them, in the same run, the limit a hit can approach: a bare
 * direct-mapped probe over {@code long[]} (index, tag compare, add). Targets: a hit within 1.5x of
 * the probe; 0 B/op on every path, faults included.
 *
 * <p>The {@value #PAGES} pages of the workload fit in Golden Cove's 64-entry first-level DTLB, so
 * the hit benchmarks hit it every time; the walk benchmarks use vCPUs without TLBs (and, for the
 * cold walks, without paging-structure caches), so every call walks.
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar MmuTranslate -prof gc -rf json -rff mmu.json
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
@Fork(1)
@State(Scope.Benchmark)
public class MmuTranslateBenchmark {
  /** Pages the hit and walk benchmarks cycle through. */
  static final int PAGES = 32;

  /** The first linear address. */
  static final long BASE = 0x0000_7F00_0000_0000L;

  /** The guest-physical (and, without nesting, physical) frame of page i is DATA + i pages. */
  static final long DATA = 0x1000_0000L;

  /** Host-physical = guest-physical + this, under EPT. */
  static final long EPT_OFFSET = 0x4000_0000L;

  long[] addresses;
  PhysicalMemory memory;
  Vcpu hits;
  Vcpu noTlb;
  Vcpu noCaches;
  Vcpu twoD;
  long root;
  long unmapped;
  long[] probeTags;
  long[] probeFrames;
  int probeMask;

  /** Builds the tables, the vCPUs and the probe, and warms the TLB. */
  @Setup(Level.Trial)
  public void setup() {
    memory = new PhysicalMemory(46);
    memory.addRam(0, (4L << 30 >>> 12) - 1);
    addresses = new long[PAGES];
    // Shuffled page order with a fixed seed, offsets inside the page varying.
    java.util.SplittableRandom random = new java.util.SplittableRandom(0x5EED);
    for (int i = 0; i < PAGES; i++) {
      addresses[i] = BASE + ((long) i << 12) + 8L * random.nextInt(512);
    }
    for (int i = PAGES - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      long t = addresses[i];
      addresses[i] = addresses[j];
      addresses[j] = t;
    }
    // Native 4-level tables at 1 MiB, one page table for all pages.
    root = 0x10_0000;
    long pdpt = root + 0x1000;
    long pd = root + 0x2000;
    long pt = root + 0x3000;
    write(root, ((BASE >>> 39) & 0x1FF), pdpt | 0x27);
    write(pdpt, ((BASE >>> 30) & 0x1FF), pd | 0x27);
    write(pd, ((BASE >>> 21) & 0x1FF), pt | 0x27);
    for (int i = 0; i < PAGES; i++) {
      write(pt, i, (DATA + ((long) i << 12)) | 0x67);
      memory.write(DATA + ((long) i << 12) + 8, 8, i); // allocate the data frames
    }
    unmapped = BASE + ((long) (PAGES + 7) << 12);
    MmuFeatures features = MmuFeatures.intel(46);
    hits = new Vcpu(memory, features, MmuSwitches.DEFAULT, TlbConfig.goldenCove(),
        LatencyModel.GOLDEN_COVE);
    noTlb = new Vcpu(memory, features, MmuSwitches.DEFAULT,
        TlbConfig.goldenCove().withTlbs(List.of()), LatencyModel.GOLDEN_COVE);
    noCaches = new Vcpu(memory, features, MmuSwitches.DEFAULT, TlbConfig.none(),
        LatencyModel.GOLDEN_COVE);
    for (Vcpu v : new Vcpu[] {hits, noTlb, noCaches}) {
      check(v.loadState(0x8001_0011L, root, 0x20, 0xD00));
    }
    // A 4-level guest over 4-level EPT: guest tables at guest-physical 2 MiB, stored at + offset.
    long groot = 0x20_0000;
    long gpdpt = groot + 0x1000;
    long gpd = groot + 0x2000;
    long gpt = groot + 0x3000;
    write(groot + EPT_OFFSET, ((BASE >>> 39) & 0x1FF), gpdpt | 0x27);
    write(gpdpt + EPT_OFFSET, ((BASE >>> 30) & 0x1FF), gpd | 0x27);
    write(gpd + EPT_OFFSET, ((BASE >>> 21) & 0x1FF), gpt | 0x27);
    for (int i = 0; i < PAGES; i++) {
      write(gpt + EPT_OFFSET, i, (DATA + ((long) i << 12)) | 0x67);
    }
    long eptRoot = 0x30_0000;
    long nextTable = eptRoot + 0x1000;
    long[] gpas = new long[PAGES + 4];
    for (int i = 0; i < 4; i++) {
      gpas[i] = groot + ((long) i << 12);
    }
    for (int i = 0; i < PAGES; i++) {
      gpas[4 + i] = DATA + ((long) i << 12);
    }
    for (long gpa : gpas) {
      long table = eptRoot;
      for (int level = 4; level > 1; level--) {
        long slot = table + ((gpa >>> (12 + 9 * (level - 1))) & 0x1FF) * 8;
        long e = memory.read(slot, 8);
        if ((e & 7) == 0) {
          e = nextTable | 7;
          nextTable += 0x1000;
          memory.write(slot, 8, e);
        }
        table = e & 0xF_FFFF_FFFF_F000L;
      }
      memory.write(table + ((gpa >>> 12) & 0x1FF) * 8, 8, (gpa + EPT_OFFSET) | (6 << 3) | 7);
    }
    twoD = new Vcpu(memory, features, MmuSwitches.DEFAULT, TlbConfig.none(),
        LatencyModel.GOLDEN_COVE);
    twoD.configureEpt(eptRoot | 6 | (3 << 3), 1);
    check(twoD.loadState(0x8001_0011L, groot, 0x20, 0xD00));
    // The limit: a direct-mapped table of the same pages.
    probeMask = 255;
    probeTags = new long[probeMask + 1];
    probeFrames = new long[probeMask + 1];
    java.util.Arrays.fill(probeTags, -1);
    for (int i = 0; i < PAGES; i++) {
      long vpn = (BASE >>> 12) + i;
      probeTags[(int) vpn & probeMask] = vpn;
      probeFrames[(int) vpn & probeMask] = DATA + ((long) i << 12);
    }
    for (long la : addresses) {
      hits.translate(la, Access.READ);
    }
  }

  private void write(long table, long index, long value) {
    memory.write(table + 8 * index, 8, value);
  }

  private static void check(long r) {
    if (r != 0) {
      throw new IllegalStateException("set-up failed: 0x" + Long.toHexString(r));
    }
  }

  private long translateAll(Vcpu v) {
    long sum = 0;
    for (long la : addresses) {
      sum += v.translate(la, Access.READ);
    }
    return sum;
  }

  /** The limit: index, tag compare, add, as QEMU's inline fast path does. */
  @Benchmark
  @OperationsPerInvocation(PAGES)
  public long limitDirectMappedProbe() {
    long sum = 0;
    long[] tags = probeTags;
    long[] frames = probeFrames;
    int mask = probeMask;
    for (long la : addresses) {
      long vpn = la >>> 12;
      int i = (int) vpn & mask;
      sum += tags[i] == vpn ? frames[i] + (la & 0xFFF) : -1;
    }
    return sum;
  }

  /** {@code translate} hitting the first-level DTLB. */
  @Benchmark
  @OperationsPerInvocation(PAGES)
  public long translateHit() {
    return translateAll(hits);
  }

  /** An 8-byte read through the TLB (translate, then the frame's bytes). */
  @Benchmark
  @OperationsPerInvocation(PAGES)
  public long read8Hit() {
    long sum = 0;
    Vcpu v = hits;
    for (long la : addresses) {
      sum += v.read(la, 8, Access.READ);
    }
    return sum;
  }

  /** A 4-level walk whose paging-structure caches give the page table: 1 reference. */
  @Benchmark
  @OperationsPerInvocation(PAGES)
  public long walk4LevelPscHit() {
    return translateAll(noTlb);
  }

  /** A 4-level walk without caches: 4 references. */
  @Benchmark
  @OperationsPerInvocation(PAGES)
  public long walk4LevelCold() {
    return translateAll(noCaches);
  }

  /** A 2-D walk, 4-level guest over 4-level EPT, no caches: 24 references. */
  @Benchmark
  @OperationsPerInvocation(PAGES)
  public long walk2D() {
    return translateAll(twoD);
  }

  /** A #PF: a not-present page-table entry, walked (the TLB holds nothing for it). */
  @Benchmark
  public long pageFault() {
    return hits.translate(unmapped, Access.READ);
  }

  /** INVLPG of a page the TLB holds, then the walk that refills it. */
  @Benchmark
  public long invlpgAndRefill() {
    long la = addresses[0];
    hits.invlpg(la);
    return hits.translate(la, Access.READ);
  }

  /** MOV to CR3: every non-global translation of the PCID goes (an epoch bump). */
  @Benchmark
  public long movToCr3() {
    return noTlb.writeCr3(root);
  }

  /** Every translation of every context goes. */
  @Benchmark
  public long flushAll() {
    noTlb.flushAll();
    return noTlb.counters().flushesFull();
  }
}
