/**
 * Scenario scripts: a small line-based language that drives a {@link org.hvmmu.host.Host}
 * (devices from dumps or inline hex, domains, memory, assignment, mappings in every paging mode,
 * MSI-X, protection, and {@code expect} lines), documented in {@code docs/scenarios.md}. {@link
 * org.hvmmu.host.script.ScenarioParser} reads a script into a {@link
 * org.hvmmu.host.script.Scenario} of immutable command records, {@link
 * org.hvmmu.host.script.ScenarioRunner} runs it under a policy and collects the failed
 * expectations, and {@link org.hvmmu.host.script.ScenarioWriter} prints commands back as a script
 * (so a shrunk property-test counterexample can be replayed with {@code hvmmu replay}). Nothing
 * here prints or logs; errors are {@link org.hvmmu.host.script.ScenarioException}s naming the line.
 */
package org.hvmmu.host.script;
