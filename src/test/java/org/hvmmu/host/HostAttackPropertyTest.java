package org.hvmmu.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.hvmmu.host.script.ScenarioParser;
import org.hvmmu.host.script.ScenarioResult;
import org.hvmmu.host.script.ScenarioRunner;
import org.hvmmu.testkit.PropertyConfig;
import org.hvmmu.testkit.PropertyFailure;
import org.hvmmu.testkit.StatefulCheck;
import org.hvmmu.testkit.host.HostAttackGens;
import org.hvmmu.testkit.host.HostInvariantCheck;
import org.hvmmu.testkit.host.HostInvariantError;
import org.hvmmu.testkit.host.HostScript;
import org.hvmmu.testkit.host.HostVcpuSetup;
import org.junit.jupiter.api.Test;

/**
 * The attack, found by the property suite (issue 12 §3): guests store into the device's MSI-X table
 * and PBA through every mapping the {@link HostVcpuSetup} gives them, in every store class, while
 * dom0 programs entries through the permitted path ({@code msix program}) and the device fires
 * them ({@link HostAttackGens}). Under hardened every invariant holds; under the seed and under
 * single holes of it the suite finds, by itself from a fixed seed, a store that reaches a guarded
 * table ({@code msix-table-integrity}), shrinks it and the pinned lines replay as a script, where
 * the device's next interrupt carries the guest's address ({@code interrupt-provenance}).
 *
 * <p>The set-up: the Intel 82576 (table at 0xe0840000, frame 0xe0840, 10 entries; PBA frame
 * 0xe0842) owned by dom0, one guest in each paging mode (pv1, pae2, pvs3, ept4, npt5, hvs6), two
 * vCPUs each (vCPU 0 on tree A, vCPU 1 on tree B). L1 table P maps the table at slot 4 and the PBA
 * at 5, Q the other way round, all {@code P RW US}; tree A maps P at linear 0 and Q at 0x200000,
 * tree B the other way round. So 0x4000 is the table for vCPU 0 and the PBA for vCPU 1, 0x5000
 * and 0x205000 the reverse.
 */
class HostAttackPropertyTest {
  static final int MAX_ACTIONS = 30;

  static final int HUNT_TRIES = 2000;

  static final HostInvariantCheck ATTACK = HostInvariantCheck.only(
      HostInvariants.MSIX_TABLE_INTEGRITY, HostInvariants.INTERRUPT_PROVENANCE);

  static HostVcpuSetup setup(Policy policy) {
    return HostVcpuSetup.of(policy, HostPropertyTest.nic());
  }

  /**
   * A hunt from {@code seed}, checking the two new invariants only (under the seed the older ones,
   * such as {@code unprotected-msix}, break first: the point here is the write that follows).
   */
  static PropertyFailure hunt(Policy policy, long seed) {
    HostVcpuSetup setup = setup(policy);
    return assertThrows(PropertyFailure.class, () -> StatefulCheck.run(
        PropertyConfig.defaults().tries(HUNT_TRIES).seed(seed), setup::build, () -> null,
        HostAttackGens.operations(setup), MAX_ACTIONS, ATTACK));
  }

  /** Asserts the failure is one unpermitted change of the table, described as {@code change}. */
  static void assertTableWrite(PropertyFailure failure, String change) {
    HostInvariantError error =
        assertInstanceOf(HostInvariantError.class, failure.getCause(), failure.getMessage());
    assertEquals(List.of(HostInvariants.MSIX_TABLE_INTEGRITY), List.copyOf(error.invariants()),
        failure.getMessage());
    assertEquals(1, error.violations().size());
    assertTrue(error.violations().get(0).message().endsWith(
        "1 write(s) changed the MSI-X registers outside a permitted path, the last " + change),
        error.violations().get(0).message());
  }

  /** Replays the set-up, {@code lines} and {@code tail} under {@code policy}: every expect holds.
   */
  static void replays(Policy policy, List<String> lines, String tail) {
    String script = String.join("\n", setup(policy).scriptLines()) + "\n"
        + String.join("\n", lines) + "\n" + tail;
    ScenarioResult result =
        ScenarioRunner.forcing(policy).run(ScenarioParser.parse("shrunk", script));
    assertEquals(List.of(), result.failures(), tail);
    assertTrue(result.expects() >= 1);
  }

  /** After a redirect of entry 0: the fire sends the guest's address with dom0's data. */
  static final String REDIRECTED = """
      expect invariant msix-table-integrity fails
      msix fire dev 0
      expect rc 0
      expect sent 0xfee07000 0x41
      expect invariant interrupt-provenance fails
      """;

  /** Under hardened the same lines leave dom0's message. */
  static final String KEPT = """
      msix fire dev 0
      expect rc 0
      expect sent 0xfee03000 0x41
      expect invariants hold
      """;

  // ---- hardened ---------------------------------------------------------------------------------

  @Test
  void hardenedKeepsEveryInvariantUnderTheAttack() {
    PropertyConfig config = PropertyConfig.defaults();
    HostVcpuSetup setup = setup(Policy.HARDENED);
    StatefulCheck.run(config.tries(Math.max(1, config.tries() / 4)), setup::build, () -> null,
        HostAttackGens.operations(setup), MAX_ACTIONS, HostInvariantCheck.everyInvariant());
  }

  @Test
  void hardenedKeepsEveryInvariantWithTheDeviceAssigned() {
    // To pv1 (whose enable needs a prepare first) and to ept4: dom0 still programs the entries
    // (Xen writes them for the hardware domain); the owner's own mappings are revoked too.
    PropertyConfig config = PropertyConfig.defaults();
    for (int owner : new int[] {1, 4}) {
      HostVcpuSetup setup = setup(Policy.HARDENED).withDeviceOwner(owner);
      StatefulCheck.run(config.tries(Math.max(1, config.tries() / 10)), setup::build, () -> null,
          HostAttackGens.operations(setup), MAX_ACTIONS, HostInvariantCheck.everyInvariant());
    }
  }

  // ---- what the suite finds ---------------------------------------------------------------------

  @Test
  void findsTheSeedsRedirectThroughAnExistingPvMapping() {
    // dom0 enables entry 0 (Xen's msix_capability_init) and programs it: address 0xfee03000
    // (APIC 3), data 0x41, unmasked, MSI-X enabled. pv1's vCPU 0 runs tree A, whose 0x200000
    // window is L1 table Q, whose slot 5 maps the table frame 0xe0840 P RW US since the set-up:
    // the seed revokes no existing mapping (and pv1 is not even the device's owner), so the
    // 4-byte store at 0x205000 (entry 0, Message Address) changes 0xfee03000 to 0xfee07000. The
    // next fire sends APIC 7's address with dom0's data.
    PropertyFailure failure = hunt(Policy.SEED_2010, 1);
    List<String> lines = HostScript.lines(failure.shrunkCounterexample());
    assertEquals(List.of("msix enable dev 0", "msix program dev 0 0xfee03000 0x41",
        "store pv1.0 0x205000 4 0xfee07000"), lines);
    assertTableWrite(failure, "table 0xe0840000: 0xfee03000 -> 0xfee07000");
    replays(Policy.SEED_2010, lines, REDIRECTED);
    // Hardened revokes pv1's writable entry at the enable: the store faults (#PF, a non-hardware
    // domain's store to r/o MMIO: error code P W) and the device keeps dom0's message.
    replays(Policy.HARDENED, lines.subList(0, 2), "store pv1.0 0x205000 4 0xfee07000\n"
        + "expect fault pf 0x3 at 0x205000\n" + KEPT);
  }

  @Test
  void findsTheRedirectWithoutRevocationAlone() {
    // HARDENED but for existing mappings (the seed's REDERIVE_OWNER_P2M): the same three steps.
    PropertyFailure failure = hunt(HostSeedHolesPropertyTest.NO_REVOCATION, 1);
    List<String> lines = HostScript.lines(failure.shrunkCounterexample());
    assertEquals(List.of("msix enable dev 0", "msix program dev 0 0xfee03000 0x41",
        "store pv1.0 0x205000 4 0xfee07000"), lines);
    assertTableWrite(failure, "table 0xe0840000: 0xfee03000 -> 0xfee07000");
    replays(HostSeedHolesPropertyTest.NO_REVOCATION, lines, REDIRECTED);
  }

  @Test
  void findsTheShadowNoOpAsAWriteThatReachesTheTable() {
    // p2m.shadowDropsRwResult: the protection's re-derivation of pvs3's shadow entry for the
    // table (Q slot 5, P RW US) is a no-op, so the shadow stays writable and pvs3's store at
    // 0x205000 reaches entry 0's Message Address.
    PropertyFailure failure = hunt(HostSeedHolesPropertyTest.SHADOW_NO_OP, 1);
    List<String> lines = HostScript.lines(failure.shrunkCounterexample());
    assertEquals(List.of("msix enable dev 0", "msix program dev 0 0xfee03000 0x41",
        "store pvs3.0 0x205000 4 0xfee07000"), lines);
    assertTableWrite(failure, "table 0xe0840000: 0xfee03000 -> 0xfee07000");
    replays(HostSeedHolesPropertyTest.SHADOW_NO_OP, lines, REDIRECTED);
  }

  @Test
  void findsTheSecondEnableAsAWriteThatReachesTheTable() {
    // msix.registerOncePerDevice without XSA-337's clearing: enabling entry 1 records and protects
    // the frames, disabling it (the last entry) unprotects them but leaves nr_entries, so the
    // enable of entry 0 is not the first and protects nothing. dom0 programs entry 0; pvs3's
    // shadow of P slot 4 is writable again, and its vCPU 0 store at 0x4000 changes Message
    // Address.
    PropertyFailure failure = hunt(HostSeedHolesPropertyTest.SECOND_ENABLE, 1);
    List<String> lines = HostScript.lines(failure.shrunkCounterexample());
    assertEquals(List.of("msix enable dev 1", "msix disable dev 1", "msix enable dev 0",
        "msix program dev 0 0xfee03000 0x41", "store pvs3.0 0x4000 4 0xfee07000"), lines);
    assertTableWrite(failure, "table 0xe0840000: 0xfee03000 -> 0xfee07000");
    replays(HostSeedHolesPropertyTest.SECOND_ENABLE, lines, REDIRECTED);
  }

  @Test
  void findsAWriteThroughAStalePvTranslation() {
    // FlushSwitches.pvRevalidate off: pv1.1's store at 0x5000 (tree B: Q slot 5, the table)
    // caches a writable translation; the enable revokes the L1 entry without flushing; dom0
    // programs entry 0; the second store goes through the stale TLB entry.
    PropertyFailure failure = hunt(HostVcpuPropertyTest.NO_PV_REVALIDATE, 1);
    List<String> lines = HostScript.lines(failure.shrunkCounterexample());
    assertEquals(List.of("store pv1.1 0x5000 4 0xfee07000", "msix enable dev 0",
        "msix program dev 0 0xfee03000 0x41", "store pv1.1 0x5000 4 0xfee07000"), lines);
    assertTableWrite(failure, "table 0xe0840000: 0xfee03000 -> 0xfee07000");
    replays(HostVcpuPropertyTest.NO_PV_REVALIDATE, lines, REDIRECTED);
  }

  @Test
  void findsAWriteThroughAStaleNestedTranslation() {
    // FlushSwitches.p2mSync off: npt5.0's 1-byte store at 0x205000 (Q slot 5: the table; a
    // sub-DWORD write the registers drop) caches the writable guest-physical mapping of the
    // table's frame; the enable makes the p2m leaf read-only without flushing; dom0 programs
    // entry 1 (entry 0 stays masked, address 0); the store at 0x4000 (P slot 4, the same frame)
    // goes through the stale nested TLB entry and writes entry 0's Message Address.
    PropertyFailure failure = hunt(HostVcpuPropertyTest.NO_P2M_SYNC, 1);
    List<String> lines = HostScript.lines(failure.shrunkCounterexample());
    assertEquals(List.of("store npt5.0 0x205000 1 0x0", "msix enable dev 1",
        "msix program dev 1 0xfee03000 0x41", "store npt5.0 0x4000 4 0xfee07000"), lines);
    assertTableWrite(failure, "table 0xe0840000: 0x0 -> 0xfee07000");
    replays(HostVcpuPropertyTest.NO_P2M_SYNC, lines,
        "expect invariant msix-table-integrity fails\n");
  }

  @Test
  void findsAWriteThroughAStaleShadowTranslation() {
    // FlushSwitches.shadowFlush off: hvs6.1's store at 0x204000 (tree B: P slot 4, the table)
    // caches a writable translation; the enable drops the shadow's RW without flushing.
    PropertyFailure failure = hunt(HostVcpuPropertyTest.NO_SHADOW_FLUSH, 1);
    List<String> lines = HostScript.lines(failure.shrunkCounterexample());
    assertEquals(List.of("store hvs6.1 0x204000 4 0xfee07000", "msix enable dev 0",
        "msix program dev 0 0xfee03000 0x41", "store hvs6.1 0x204000 4 0xfee07000"), lines);
    assertTableWrite(failure, "table 0xe0840000: 0xfee03000 -> 0xfee07000");
    replays(HostVcpuPropertyTest.NO_SHADOW_FLUSH, lines, REDIRECTED);
  }
}
