package org.hvmmu.benchmarks;

import java.util.concurrent.TimeUnit;
import org.hvmmu.host.Host;
import org.hvmmu.host.HostDevice;
import org.hvmmu.host.Policy;
import org.hvmmu.pci.ConfigSpace;
import org.hvmmu.pci.PciAddress;
import org.hvmmu.pci.PciDevice;
import org.hvmmu.pci.msix.regs.InterruptSink;
import org.hvmmu.pci.msix.regs.MsiInterrupt;
import org.hvmmu.pci.msix.regs.MsixFireResult;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A device interrupt through the {@code Host}, 0 B/op on every path: a device with 4 MSI-X entries
 * (table at 0xe0000000, PBA at 0xe0000800, BAR 0), enabled through configuration space;
 *
 * <ul>
 *   <li>{@code fireDelivered}: vector 0, unmasked, from fire to the embedder's sink (decoded);
 *   <li>{@code fireMasked}: vector 1, masked: its Pending bit is set;
 *   <li>{@code fireThenUnmask}: vector 1 fired while masked, then a store of 0 to its Vector Control
 *       through the machine memory sends it, and a store of 1 masks it again.
 * </ul>
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar MsixInterrupt -prof gc
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
@Fork(1)
@State(Scope.Benchmark)
public class MsixInterruptBenchmark {
  static final long TABLE = 0xe000_0000L;

  Host host;
  HostDevice dev;
  /** What the sink saw: a sum over vectors and destinations, so nothing is dead code. */
  long seen;

  /** Builds the host, the device, and programs vector 0 (APIC 3, 0x41) and 1 (APIC 5, 0x51). */
  @Setup(Level.Trial)
  public void setup() {
    byte[] c = new byte[256];
    c[0] = (byte) 0x86;
    c[1] = (byte) 0x80; // vendor 0x8086
    c[2] = 0x34;
    c[3] = 0x12;
    c[6] = 0x10; // status: capabilities list
    c[0x13] = (byte) 0xe0; // BAR 0 = 0xe0000000, 32-bit memory
    c[0x34] = 0x40;
    c[0x40] = 0x11; // MSI-X, last capability
    c[0x42] = 3; // Table Size 4
    c[0x48] = 0x00; // PBA Offset 0x800, BIR 0
    c[0x49] = 0x08;
    PciDevice pci = new PciDevice(new PciAddress(0, 1, 0, 0), ConfigSpace.of(c), "benchmark");
    host = new Host(0x1000, Policy.HARDENED);
    dev = host.addDevice(pci);
    host.setInterruptSink(new InterruptSink() {
      @Override
      public void deliver(int sourceBdf, int entry, long address, int data, long interrupt) {
        seen += MsiInterrupt.vector(interrupt) + MsiInterrupt.destination(interrupt);
      }
    });
    host.machine().write(TABLE, 8, 0xfee0_3000L);
    host.machine().write(TABLE + 8, 8, 0x41); // data 0x41, Vector Control 0: unmasked
    host.machine().write(TABLE + 16, 8, 0xfee0_5000L);
    host.machine().write(TABLE + 24, 4, 0x51);
    host.writeConfig(dev, 0x43, 1, 0x80); // MSI-X Enable
    if (host.fireMsix(dev, 0) != MsixFireResult.DELIVERED
        || host.fireMsix(dev, 1) != MsixFireResult.PENDING) {
      throw new IllegalStateException("set-up: " + dev.msixRegisters());
    }
  }

  /**
   * Vector 0 from fire to the sink.
   *
   * @return the sink's sum
   */
  @Benchmark
  public long fireDelivered() {
    host.fireMsix(dev, 0);
    return seen;
  }

  /**
   * Vector 1, masked: pending.
   *
   * @return the result
   */
  @Benchmark
  public MsixFireResult fireMasked() {
    return host.fireMsix(dev, 1);
  }

  /**
   * Vector 1 pending, sent by the unmask store, masked again.
   *
   * @return the sink's sum
   */
  @Benchmark
  public long fireThenUnmask() {
    host.fireMsix(dev, 1);
    host.machine().write(TABLE + 28, 4, 0);
    host.machine().write(TABLE + 28, 4, 1);
    return seen;
  }
}
