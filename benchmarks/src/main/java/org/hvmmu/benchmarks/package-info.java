/**
 * JMH benchmarks of hvmmu's range sets against their peers, over one seeded workload ({@link
 * org.hvmmu.benchmarks.RangeWorkload}). One class per operation family: {@link
 * org.hvmmu.benchmarks.RangeSetLookupBenchmark}, {@link org.hvmmu.benchmarks.RangeSetMutationBenchmark}
 * and {@link org.hvmmu.benchmarks.RangeSetContendedBenchmark}. The sanity tests in {@code src/test} pin
 * every benchmark's answer.
 */
package org.hvmmu.benchmarks;
