/**
 * A test kit for code that embeds an {@link org.hvmmu.host.Host}: generators of page-table entries,
 * configuration spaces, host set-ups and host operations ({@link org.hvmmu.testkit.host.HostGens}),
 * a fixed-shape host ({@link org.hvmmu.testkit.host.HostSetup}), the same host with guests that run
 * on real tables and vCPUs ({@link org.hvmmu.testkit.host.HostVcpuSetup}) and what those guests do
 * ({@link org.hvmmu.testkit.host.HostVcpuGens}), the attack on a device's MSI-X table and PBA
 * ({@link org.hvmmu.testkit.host.HostAttackGens}), and the host's invariants as an assertion
 * ({@link org.hvmmu.testkit.host.HostInvariantCheck}), all on top of hvmmu's property harness
 * {@link org.hvmmu.testkit}. Every operation prints as one line of hvmmu's scenario-script
 * language ({@link org.hvmmu.testkit.host.HostScript}), so a shrunk counterexample, after its
 * set-up's lines, is a script that {@code hvmmu replay} runs.
 *
 * <p>Nothing here depends on a test framework: a broken invariant is an {@link
 * java.lang.AssertionError} ({@link org.hvmmu.testkit.host.HostInvariantError}), and a failed
 * property a {@link org.hvmmu.testkit.PropertyFailure}.
 *
 * <pre>{@code
 * HostSetup setup = HostSetup.of(Policy.HARDENED, config);
 * StatefulCheck.run(setup::build, () -> null, HostGens.operations(setup), 30,
 *     HostInvariantCheck.all());
 *
 * HostVcpuSetup running = HostVcpuSetup.of(Policy.HARDENED, config);  // six guests, two vCPUs each
 * StatefulCheck.run(running::build, () -> null, HostVcpuGens.operations(running), 40,
 *     HostInvariantCheck.everyInvariant());                            // the TLBs too
 * }</pre>
 */
package org.hvmmu.testkit.host;
