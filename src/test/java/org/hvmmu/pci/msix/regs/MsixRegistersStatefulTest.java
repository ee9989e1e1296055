package org.hvmmu.pci.msix.regs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.ArrayList;
import java.util.List;
import org.hvmmu.mmu.memory.MmioHandler;
import org.hvmmu.testkit.Action;
import org.hvmmu.testkit.Gen;
import org.hvmmu.testkit.Gens;
import org.hvmmu.testkit.StatefulCheck;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Random sequences of register accesses, configuration writes and fires against a model written
 * from PCIe Base §7.7.2's rules alone: aligned DWORDs and QWORDs are stored, sub-DWORD writes and PBA
 * writes change nothing, a masked vector (per-vector bit, Function Mask, or Enable clear) that
 * fires becomes pending, a vector that becomes unmasked with its Pending bit set sends the message
 * its entry holds then, and no message is ever sent for a masked vector. After every step every
 * register reads as the model says and the messages sent are the model's, in order.
 *
 * <p>Entries: 3, table at 0x1000, PBA at 0x1800; fires of entry 3 are out of range.
 */
class MsixRegistersStatefulTest {
  private static final long TABLE = 0x1000;
  private static final long PBA = 0x1800;
  private static final int N = 3;

  /** The register block and what its sink received. */
  static final class Sys {
    final List<String> sent = new ArrayList<>();
    final MsixRegisters regs;

    Sys(MsixAccessPolicy policy) {
      MmioHandler none = new MmioHandler() {
        @Override
        public long read(long pa, int size) {
          throw new AssertionError("read outside the table and PBA: 0x" + Long.toHexString(pa));
        }

        @Override
        public void write(long pa, int size, long value) {
          throw new AssertionError("write outside the table and PBA: 0x" + Long.toHexString(pa));
        }
      };
      MsixRegisters[] self = new MsixRegisters[1];
      regs = new MsixRegisters(0x100, N, TABLE, PBA, policy, (bdf, entry, address, data, i) -> {
        assertFalse(self[0].isMasked(entry), "a message for a masked vector " + entry);
        sent.add(entry + ":" + Long.toHexString(address) + "/" + Integer.toHexString(data));
      }, none);
      self[0] = regs;
    }
  }

  /** The specification's state. */
  static final class Model {
    final MsixAccessPolicy policy;
    final int[] dwords = new int[4 * N];
    long pending;
    boolean enable;
    boolean maskAll;
    final List<String> sent = new ArrayList<>();

    Model(MsixAccessPolicy policy) {
      this.policy = policy;
      for (int e = 0; e < N; e++) {
        dwords[4 * e + 3] = 1;
      }
    }

    boolean masked(int e) {
      return !enable || maskAll || (dwords[4 * e + 3] & 1) != 0;
    }

    void send(int e) {
      long address = (dwords[4 * e] & 0xffff_ffffL) | (long) dwords[4 * e + 1] << 32;
      sent.add(e + ":" + Long.toHexString(address) + "/" + Integer.toHexString(dwords[4 * e + 2]));
    }

    /** After a change of masks: entries that became unmasked send what is pending. */
    void unmaskedNow(boolean[] before) {
      for (int e = 0; e < N; e++) {
        if (before[e] && !masked(e) && (pending >>> e & 1) != 0) {
          pending &= ~(1L << e);
          send(e);
        }
      }
    }

    boolean[] masks() {
      boolean[] m = new boolean[N];
      for (int e = 0; e < N; e++) {
        m[e] = masked(e);
      }
      return m;
    }

    void dword(int index, int value) {
      boolean[] before = masks();
      boolean reservedKept = policy.vectorControlReserved() == MsixAccessPolicy.ReservedBits.KEEP;
      dwords[index] = (index & 3) == 3 && !reservedKept ? value & 1 : value;
      unmaskedNow(before);
    }

    int readDword(int index) {
      boolean reservedKept = policy.vectorControlReserved() == MsixAccessPolicy.ReservedBits.KEEP;
      return (index & 3) == 3 && !reservedKept ? dwords[index] & 1 : dwords[index];
    }
  }

  private static Gen<Action<Sys, Model>> actions() {
    Gen<Action<Sys, Model>> dword = Gens.zip(Gens.ints(0, 4 * N - 1), Gens.unsignedLongs(),
        (i, v) -> Action.of("dword(" + i + ", 0x" + Long.toHexString(v & 0xffff_ffffL) + ")",
            (s, m) -> {
              s.regs.write(TABLE + 4L * i, 4, v & 0xffff_ffffL);
              m.dword(i, (int) (long) v);
            }));
    // A mask/unmask write: Vector Control with bit 0 from the draw (and reserved bits 31:16).
    Gen<Action<Sys, Model>> mask = Gens.zip(Gens.ints(0, N - 1), Gens.ints(0, 3),
        (e, v) -> Action.of("vectorControl(" + e + ", 0x" + Integer.toHexString(v << 15 | v & 1)
            + ")", (s, m) -> {
              int value = v << 15 | v & 1;
              s.regs.write(TABLE + 16L * e + 12, 4, value & 0xffff_ffffL);
              m.dword(4 * e + 3, value);
            }));
    Gen<Action<Sys, Model>> qword = Gens.zip(Gens.ints(0, 2 * N - 1), Gens.unsignedLongs(),
        (q, v) -> Action.of("qword(" + q + ", 0x" + Long.toHexString(v) + ")", (s, m) -> {
          s.regs.write(TABLE + 8L * q, 8, v);
          m.dword(2 * q, (int) (long) v); // low DWORD first
          m.dword(2 * q + 1, (int) (v >>> 32));
        }));
    Gen<Action<Sys, Model>> small = Gens.zip(Gens.ints(0, 16 * N - 1), Gens.booleans(),
        (o, word) -> Action.of("small(0x" + Integer.toHexString(word ? o & ~1 : o) + ", "
            + (word ? 2 : 1) + ")", (s, m) -> {
              int size = word ? 2 : 1;
              s.regs.write(TABLE + (word ? o & ~1 : o), size, 0);
              s.regs.write(PBA + ((word ? o & ~1 : o) & 7), size, 0xffff);
            }));
    Gen<Action<Sys, Model>> pba = Gens.unsignedLongs().map(v -> Action.of(
        "pba(0x" + Long.toHexString(v) + ")", (s, m) -> {
          s.regs.write(PBA, 8, v);
          s.regs.write(PBA + 4, 4, v & 0xffff_ffffL);
        }));
    Gen<Action<Sys, Model>> control = Gens.ints(0, 3).map(c -> Action.of(
        "control(0x" + Integer.toHexString(c << 14) + ")", (s, m) -> {
          s.regs.writeMessageControl(c << 14 | 0x0002);
          boolean[] before = m.masks();
          m.enable = (c & 2) != 0;
          m.maskAll = (c & 1) != 0;
          if (m.enable) {
            m.unmaskedNow(before);
          }
        }));
    Gen<Action<Sys, Model>> fire = Gens.ints(0, N).map(e -> Action.of("fire(" + e + ")",
        (s, m) -> {
          MsixFireResult expected;
          if (e >= N) {
            expected = MsixFireResult.OUT_OF_RANGE;
          } else if (!m.enable
              && m.policy.disabledFire() == MsixAccessPolicy.DisabledFire.DROP) {
            expected = MsixFireResult.NOT_ENABLED;
          } else if (m.masked(e)) {
            m.pending |= 1L << e;
            expected = MsixFireResult.PENDING;
          } else {
            m.send(e);
            expected = MsixFireResult.DELIVERED;
          }
          assertEquals(expected, s.regs.fire(e));
        }));
    return Gens.<Action<Sys, Model>>weighted().add(3, dword).add(4, mask).add(2, qword)
        .add(1, small).add(1, pba).add(2, control).add(5, fire).build();
  }

  @ParameterizedTest
  @ValueSource(strings = {"PCI_SPEC", "QEMU", "CLOUD_HYPERVISOR"})
  void registersAndMessagesFollowTheSpecification(String name) {
    MsixAccessPolicy policy = switch (name) {
      case "PCI_SPEC" -> MsixAccessPolicy.PCI_SPEC;
      case "QEMU" -> MsixAccessPolicy.QEMU;
      default -> MsixAccessPolicy.CLOUD_HYPERVISOR;
    };
    StatefulCheck.run(() -> new Sys(policy), () -> new Model(policy), actions(), 40, (s, m) -> {
      for (int i = 0; i < 4 * N; i++) {
        assertEquals(m.readDword(i) & 0xffff_ffffL, s.regs.read(TABLE + 4L * i, 4),
            "dword " + i);
      }
      assertEquals(m.pending, s.regs.read(PBA, 8), "PBA");
      assertEquals(m.sent, s.sent, "messages");
    });
  }
}
