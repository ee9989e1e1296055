/**
 * hvmmu: a bit-exact model of the x86 hypervisor machinery that keeps guests from writing to the MSI-X
 * tables and pending bit arrays of PCI devices passed through to them.
 */
module org.hvmmu {
  requires org.slf4j;
  requires static info.picocli;

  exports org.hvmmu.host;
  exports org.hvmmu.host.access;
  exports org.hvmmu.mmu;
  exports org.hvmmu.mmu.dump;
  exports org.hvmmu.mmu.memory;
  exports org.hvmmu.mmu.xen;
  exports org.hvmmu.host.script;
  exports org.hvmmu.p2m;
  exports org.hvmmu.p2m.ept;
  exports org.hvmmu.p2m.shadow;
  exports org.hvmmu.pci;
  exports org.hvmmu.pci.msix;
  exports org.hvmmu.pci.msix.regs;
  exports org.hvmmu.rangeset;
  exports org.hvmmu.rangeset.owned;
  exports org.hvmmu.testkit;
  exports org.hvmmu.testkit.host;
  exports org.hvmmu.x86;
  exports org.hvmmu.x86.pv;
  exports org.hvmmu.xen;

  // picocli reads the command classes' annotated fields reflectively.
  opens org.hvmmu.cli to info.picocli;
}
