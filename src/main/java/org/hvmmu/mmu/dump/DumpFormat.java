package org.hvmmu.mmu.dump;

/** What a dump file held once decompressed. */
public enum DumpFormat {
  /**
   * An ELF core as QEMU's {@code dump-guest-memory} (without {@code -z}, {@code -l} or {@code -s})
   * and libvirt's {@code virsh dump --memory-only} write it: memory in {@code PT_LOAD} segments at
   * their {@code p_paddr}, vCPU state in {@code PT_NOTE} segments.
   */
  ELF_CORE,
  /** A raw physical image: byte N of the file is physical address N; no vCPU state. */
  RAW
}
