package org.hvmmu.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.hvmmu.host.access.RoMmioSwitches;
import org.hvmmu.xen.Errno;
import org.junit.jupiter.api.Test;

/**
 * Every facade call leaves the host's configuration lock free: as each of Xen's hypercalls returns
 * with no lock held (a domctl or platform op takes its lock and drops it before returning), another
 * CPU's call must then go through. Checked from a second thread, which would wait for ever behind a
 * lock left held; the expected results are Xen's for these calls ({@code subpage_mmio_ro_add}
 * after boot: {@code -EILSEQ}; {@code pci_mmcfg} registration: 0; the PV vCPU limit of the model's
 * {@code PvVcpu#MAX_VCPUS}, 64).
 */
class HostLockMutantsTest {
  static final Policy XEN = Policy.HARDENED.withRoMmio(RoMmioSwitches.XEN_4_22);
  static final long MMIO = 0x100000;

  /** A call from another thread that takes the configuration lock: it must return. */
  static void assertLockFree(Host host) throws Exception {
    ExecutorService ex = Executors.newSingleThreadExecutor();
    try {
      Future<Integer> f = ex.submit(() -> host.subpageMmioRoAdd(8, 0));
      int rc = f.get(20, TimeUnit.SECONDS);
      assertTrue(rc == 0 || rc == -Errno.EILSEQ, "rc " + rc);
    } finally {
      ex.shutdownNow();
    }
  }

  @Test
  void configurationCallsShouldReleaseTheLock() throws Exception {
    Host host = new Host(0x1000, XEN);
    assertEquals(0, host.subpageMmioRoAdd((MMIO << 12) + 8, 8));
    assertLockFree(host);
    assertEquals(0, host.addMmcfg(0, 0, 63, 0xF800_0000L));
    assertLockFree(host);
    assertEquals(0, host.protect("a", MMIO + 4, MMIO + 5));
    assertLockFree(host);
    assertEquals(0, host.unprotect("a", MMIO + 4, MMIO + 5));
    assertLockFree(host);
    host = new Host(0x1000, Policy.HARDENED); // owned bytes
    assertEquals(0, host.protectBytes("b", (MMIO + 8) << 12, 16));
    assertLockFree(host);
    assertEquals(0, host.unprotectBytes("b", (MMIO + 8) << 12, 16));
    assertLockFree(host);
  }

  @Test
  void domainCallsShouldReleaseTheLock() throws Exception {
    Host host = new Host(0x1000, XEN);
    GuestDomain d = host.createDomain(1, PagingMode.HVM_EPT, false);
    host.registerMsixtbl(d, 0x10_0000, 8, MMIO << 12, 0, false);
    assertLockFree(host);
    assertEquals(0, host.bindMsixtbl(d, 0x10_0000, 1, true));
    assertLockFree(host);
    host.crashDomain(d);
    assertLockFree(host);
  }

  @Test
  void aPvDomainShouldHaveAtMost64Vcpus() {
    Host host = new Host(0x1000, XEN);
    GuestDomain pv = host.createDomain(1, PagingMode.PV, false);
    for (int i = 0; i < 64; i++) {
      assertEquals(i, host.createVcpu(pv).index());
    }
    assertThrows(IllegalStateException.class, () -> host.createVcpu(pv));
    GuestDomain hvm = host.createDomain(2, PagingMode.HVM_EPT, false);
    for (int i = 0; i < 65; i++) {
      host.createVcpu(hvm);
    }
    assertEquals(65, hvm.vcpuCount());
  }
}
