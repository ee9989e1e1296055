package org.hvmmu.host.script;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Issue 15 D3 in scripts: a long hex-block row and long lines are FILE:LINE errors. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class HostileScriptInputTest {
  @Test
  void aHexBlockRowOf1300BytesIsAScriptError() {
    String script = "device n hex\n01:00.0 x\n00:" + " 00".repeat(1300) + "\nend\n";
    ScenarioException e = assertThrows(ScenarioException.class,
        () -> ScenarioParser.parse("s", script));
    assertEquals("s:3: device n: row at 0x0 has more than 16 bytes", e.getMessage());
  }

  @Test
  void hexBlockErrorsNameScriptLinesAcrossCommentsAndBlanks() {
    // Line 1 a comment, 2 the block, 3 a row with no header (the default header is used), 4 blank,
    // 5 a comment, 6 a row at the wrong offset.
    String script = "# c\ndevice n hex\n00:" + " 00".repeat(16) + "\n\n# c\n20: 00\nend\n";
    ScenarioException e = assertThrows(ScenarioException.class,
        () -> ScenarioParser.parse("s", script));
    assertEquals("s:6: device n: expected the row at 0x10, found 0x20", e.getMessage());
    ScenarioException missing = assertThrows(ScenarioException.class,
        () -> ScenarioParser.parse("s", "\ndevice n hex\n00: 00\n"));
    assertEquals("s:2: device n hex: missing 'end'", missing.getMessage());
  }

  @Test
  void aLineOverTheBoundIsAScriptErrorAndOneAtTheBoundIsNot() {
    String comment = "#" + "x".repeat(ScenarioParser.MAX_LINE_CHARS - 1);
    assertEquals(0, ScenarioParser.parse("s", comment + "\n").steps().size());
    ScenarioException e = assertThrows(ScenarioException.class,
        () -> ScenarioParser.parse("s", "\r\n" + comment + "x\n"));
    assertEquals("s:2: line longer than 4096 characters", e.getMessage());
  }
}
