package org.hvmmu.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code docs/policy.md}'s table of every switch is the code's: one row per switch (each component
 * of each switch record of {@link Policy}, and each of {@link Policy}'s components that is not a
 * record), and each row's seed-2010, xen-4.22 and hardened cells start with the preset's value.
 */
class PolicyTableTest {
  /** The presets in the table's column order. */
  private static final List<Policy> PRESETS =
      List.of(Policy.SEED_2010, Policy.XEN_4_22, Policy.HARDENED);

  @Test
  void everySwitchShouldHaveARowWithThePresetsValues() throws IOException {
    Map<String, List<String>> table = table(Files.readString(Path.of("docs/policy.md")));
    Map<String, List<String>> code = switches();
    List<String> problems = new ArrayList<>();
    for (String name : code.keySet()) {
      if (!table.containsKey(name)) {
        problems.add("no row for " + name + " " + code.get(name));
      } else if (!table.get(name).equals(code.get(name))) {
        problems.add(name + ": the table says " + table.get(name) + ", the presets are "
            + code.get(name));
      }
    }
    for (String name : table.keySet()) {
      if (!code.containsKey(name)) {
        problems.add("a row for " + name + ", which is no switch");
      }
    }
    assertEquals(List.of(), problems);
    assertEquals(new ArrayList<>(code.keySet()), new ArrayList<>(table.keySet()),
        "rows in the order of the records' components");
  }

  @Test
  void theTableShouldCoverEveryKindOfSwitch() throws IOException {
    Map<String, List<String>> code = switches();
    // 9 PV, 8 p2m, 12 MSI-X (barReadMode is two), existingMappings, 3 flushes, 9 guest walk, 17
    // r/o MMIO.
    assertEquals(59, code.size(), code.keySet().toString());
    assertEquals(List.of("REDERIVE_OWNER_P2M", "LEAVE", "REVOKE"), code.get("existingMappings"));
    assertEquals(List.of("BITS_TO_LONGS", "BITS_TO_LONGS", "CORRECTED"), code.get("msix.pbaSizing"));
    String doc = Files.readString(Path.of("docs/policy.md"));
    assertFalse(doc.contains("| Switch | Seed | Hardened |"), "one table, not one per record");
  }

  /** Every switch: its dotted name, and its value under each preset in table order. */
  static Map<String, List<String>> switches() {
    Map<String, List<String>> out = new LinkedHashMap<>();
    add(out, "", Policy.class, new ArrayList<>(PRESETS));
    return out;
  }

  /** The switches of {@code type}, a record, under {@code prefix}; nested records recursively. */
  private static void add(Map<String, List<String>> out, String prefix, Class<?> type,
      List<Object> values) {
    for (RecordComponent c : type.getRecordComponents()) {
      List<Object> inner = new ArrayList<>();
      for (Object v : values) {
        inner.add(get(c, v));
      }
      String name = prefix + c.getName();
      if (c.getType().isRecord()) {
        add(out, name + ".", c.getType(), inner);
      } else {
        out.put(name, inner.stream().map(String::valueOf).toList());
      }
    }
  }

  private static Object get(RecordComponent c, Object record) {
    try {
      return c.getAccessor().invoke(record);
    } catch (IllegalAccessException | InvocationTargetException e) {
      throw new AssertionError(c + " of " + record, e);
    }
  }

  /**
   * The rows of the table under "## Every switch": the first cell's code span, and the first code
   * span of the third, fourth and fifth cells (seed-2010, xen-4.22, hardened).
   */
  static Map<String, List<String>> table(String doc) {
    int at = doc.indexOf("\n## Every switch\n");
    assertTrue(at >= 0, "docs/policy.md has no '## Every switch' section");
    String section = doc.substring(at + 1);
    int next = section.indexOf("\n## ");
    if (next >= 0) {
      section = section.substring(0, next);
    }
    Map<String, List<String>> rows = new LinkedHashMap<>();
    List<String> header = null;
    for (String line : section.lines().toList()) {
      if (!line.startsWith("|") || line.startsWith("|---")) {
        continue;
      }
      List<String> cells = cells(line);
      if (header == null) {
        header = cells;
        assertEquals(List.of("Switch", "What it decides", "seed-2010", "xen-4.22", "hardened"),
            header);
        continue;
      }
      assertEquals(5, cells.size(), line);
      String name = code(cells.get(0), line);
      List<String> values = List.of(code(cells.get(2), line), code(cells.get(3), line),
          code(cells.get(4), line));
      assertFalse(rows.containsKey(name), "two rows for " + name);
      rows.put(name, values);
      for (int i = 2; i <= 4; i++) {
        assertTrue(cells.get(i).length() > values.get(i - 2).length() + 4,
            "a cell without its source: " + line);
      }
    }
    return rows;
  }

  private static List<String> cells(String line) {
    String inner = line.strip();
    inner = inner.substring(1, inner.length() - 1);
    List<String> out = new ArrayList<>();
    for (String c : inner.split("\\|", -1)) {
      out.add(c.strip());
    }
    return out;
  }

  /** The first code span of a cell, which must open it. */
  private static String code(String cell, String line) {
    assertTrue(cell.startsWith("`"), "a cell that does not start with its value: " + line);
    int end = cell.indexOf('`', 1);
    assertTrue(end > 0, line);
    return cell.substring(1, end);
  }
}
