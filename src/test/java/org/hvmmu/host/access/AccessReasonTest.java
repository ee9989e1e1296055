package org.hvmmu.host.access;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The outcome and reason enums and the switch presets. */
class AccessReasonTest {
  @Test
  void everyOutcomeShouldHaveAReasonAndEveryReasonASourceFile() {
    Set<AccessOutcome> seen = EnumSet.noneOf(AccessOutcome.class);
    for (AccessReason r : AccessReason.values()) {
      seen.add(r.outcome());
      assertFalse(r.function().isEmpty(), r.name());
      assertTrue(r.file().startsWith("arch/x86/") && r.file().endsWith(".c"), r.file());
      assertEquals(r, AccessReason.fromCode(r.code()));
    }
    assertEquals(EnumSet.allOf(AccessOutcome.class), seen);
    assertEquals(11, AccessOutcome.values().length, "the issue's eleven kinds");
  }

  @Test
  void codesShouldRoundTripAndRefuseOthers() {
    for (AccessOutcome o : AccessOutcome.values()) {
      assertEquals(o, AccessOutcome.fromCode(o.code()));
    }
    assertEquals(1, AccessOutcome.PERFORMED.code());
    assertEquals(11, AccessOutcome.REFAULT_LOOP.code());
    assertThrows(IllegalArgumentException.class, () -> AccessOutcome.fromCode(0));
    assertThrows(IllegalArgumentException.class, () -> AccessOutcome.fromCode(12));
    assertThrows(IllegalArgumentException.class, () -> AccessReason.fromCode(0));
    assertThrows(IllegalArgumentException.class,
        () -> AccessReason.fromCode(AccessReason.values().length + 1));
  }

  @Test
  void thePresetsShouldBeAllOffAllOnAndHardenedTheReleaseWithOwnedBytes() {
    assertEquals(new RoMmioSwitches(false, false, false, false, false, false, false, false, false,
        false, false, false, false, false, false, false, false), RoMmioSwitches.SEED_2010);
    assertEquals(new RoMmioSwitches(true, true, true, true, true, true, true, true, true, true,
        true, true, true, true, true, true, false), RoMmioSwitches.XEN_4_22);
    assertEquals(new RoMmioSwitches(true, true, true, true, true, true, true, true, true, true,
        true, true, true, true, true, true, true), RoMmioSwitches.HARDENED);
    assertEquals(RoMmioSwitches.SEED_2010.withMsixtbl(true).withPvMmioRoEmulation(true)
        .withPvMmcfgIntercept(true).withMsixHostMaskall(true).withHvmRoMmioEmulation(true)
        .withSubpage(true, true),
        RoMmioSwitches.XEN_4_22);
  }

  @Test
  void instructionClassesShouldSayWhetherTheyRead() {
    assertEquals(EnumSet.of(InstructionClass.READ_MODIFY_WRITE, InstructionClass.LOCKED,
        InstructionClass.MOVS), EnumSet.copyOf(Arrays.stream(InstructionClass.values())
            .filter(InstructionClass::readsMemory).toList()));
    assertFalse(InstructionClass.LOAD.writes());
    assertTrue(InstructionClass.STOS.writes());
  }
}
