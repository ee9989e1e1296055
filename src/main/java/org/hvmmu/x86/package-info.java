/**
 * x86-64 encodings shared by every paging model: page-table entry bits in Xen's 24-bit packed form
 * ({@link org.hvmmu.x86.PteFlags}), the static entry codec ({@link org.hvmmu.x86.Pte}), memory types
 * and Xen's PAT ({@link org.hvmmu.x86.MemoryType}, {@link org.hvmmu.x86.Pat}), and the processor
 * features a model consults ({@link org.hvmmu.x86.CpuFeatures}). Entries are primitives; nothing here
 * allocates.
 */
package org.hvmmu.x86;
